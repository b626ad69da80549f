/**
 * `vigil-agent realserver` (the built bundle) in a network namespace this test creates: the
 * VIP on lo as a /32, arp_ignore and arp_announce set on all, lo and the interface, both
 * idempotent, and `--remove` puts everything back as it was. Needs root, which CI has.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.join(import.meta.dirname, "../..");
const bundle = path.join(root, "host-agent/dist/vigil-agent.cjs");
const agentNode = process.env.VIGIL_AGENT_NODE ?? process.execPath;
const ns = `vgl-rs-${process.pid}`;
let state = "";

const inNs = (...argv: string[]) => execFileSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8" }).trim();
const sysctl = (iface: string, key: string) => inNs("cat", `/proc/sys/net/ipv4/conf/${iface}/${key}`);
const agent = (...args: string[]) =>
  spawnSync("ip", ["netns", "exec", ns, agentNode, bundle, "realserver", "--state-dir", state, ...args], {
    encoding: "utf8",
  });
const loAddresses = () =>
  JSON.parse(inNs("ip", "-j", "addr", "show", "dev", "lo"))[0].addr_info.map(
    (a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`,
  );

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create a network namespace; CI runs as root");
  execFileSync("node", [path.join(root, "host-agent/build.mjs")]);
  state = mkdtempSync(path.join(tmpdir(), "vigil-rs-"));
  execFileSync("ip", ["netns", "add", ns]);
  inNs("ip", "link", "set", "lo", "up");
  inNs("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer");
});
afterAll(() => {
  execFileSync("ip", ["netns", "del", ns]);
  rmSync(state, { recursive: true, force: true });
});

describe("the LVS-DR real-server helper", () => {
  it("puts the VIP on lo and silences ARP for it, twice without harm, and undoes it", () => {
    const before = ["all", "lo", "eth0"].map((i) => [sysctl(i, "arp_ignore"), sysctl(i, "arp_announce")]);
    for (let i = 0; i < 2; i++) {
      const run = agent("--vip", "10.77.0.100", "--interface", "eth0");
      expect(run.status, run.stderr).toBe(0);
    }
    expect(loAddresses()).toContain("10.77.0.100/32");
    for (const iface of ["all", "lo", "eth0"]) {
      expect([sysctl(iface, "arp_ignore"), sysctl(iface, "arp_announce")]).toEqual(["1", "2"]);
    }
    const removed = agent("--vip", "10.77.0.100", "--interface", "eth0", "--remove");
    expect(removed.status, removed.stderr).toBe(0);
    expect(loAddresses()).not.toContain("10.77.0.100/32");
    expect(["all", "lo", "eth0"].map((i) => [sysctl(i, "arp_ignore"), sysctl(i, "arp_announce")])).toEqual(before);
    expect(agent("--vip", "10.77.0.100", "--remove").status).toBe(0);
  });

  it("refuses a bad address or interface with a reason and changes nothing", () => {
    const bad = agent("--vip", "10.77.0.300");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('vigil-agent: --vip "10.77.0.300": expected an IPv4 or IPv6 address\n');
    expect(agent("--vip", "10.77.0.100", "--interface", "eth0;reboot").stderr).toContain("expected an interface name");
    expect(loAddresses()).not.toContain("10.77.0.100/32");
    expect(sysctl("all", "arp_ignore")).toBe("0");
  });
});
