/**
 * VIP ensures: against the stateful fake host (argv and order), and against the real `ip`
 * in a network namespace this test creates and removes (needs root, which CI has).
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessRunner } from "../../host-agent/src/runner.js";
import { addVipArgv, announce, ensureVip, garpArgv } from "../../host-agent/src/vip.js";
import { FakeHost } from "./fake-host.js";

const vip = { cidr: "192.168.88.15/24", interface: "eth0", label: "eth0:vip" };

describe("ensureVip with a fake host", () => {
  it("adds once with its label, then reports unchanged", async () => {
    const host = new FakeHost();
    expect(await ensureVip(host, vip, true)).toBe("changed");
    expect(await ensureVip(host, vip, true)).toBe("unchanged");
    expect(host.calls).toEqual([
      ["ip", "-j", "addr", "show", "dev", "eth0"],
      ["ip", "addr", "add", "192.168.88.15/24", "dev", "eth0", "label", "eth0:vip"],
      ["ip", "-j", "addr", "show", "dev", "eth0"],
    ]);
  });

  it("refuses a hostile interface name before anything runs", async () => {
    const host = new FakeHost();
    await expect(ensureVip(host, { cidr: "192.168.88.15/24", interface: "eth0;reboot" }, true)).rejects.toThrow(
      /interface/,
    );
    expect(host.calls).toEqual([]);
  });

  it("paces a gratuitous ARP burst itself, one arping per packet", async () => {
    const host = new FakeHost();
    const waits: number[] = [];
    await announce(host, vip, 3, 0.2, async (ms) => {
      waits.push(ms);
    });
    expect(host.calls).toEqual(Array(3).fill(["arping", "-U", "-c", "1", "-I", "eth0", "192.168.88.15"]));
    expect(waits).toEqual([200, 200]);
    expect(addVipArgv({ cidr: "2001:db8::15/64", interface: "eth1" })).toEqual([
      "ip",
      "addr",
      "add",
      "2001:db8::15/64",
      "dev",
      "eth1",
    ]);
  });
});

describe("a gratuitous ARP burst that fails", () => {
  it("says so once it is over, and leaves no rejection unhandled while it waits", async () => {
    const unhandled: unknown[] = [];
    const seen = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", seen);
    try {
      // The VIP went away under the burst: every arping fails at once, long before the burst ends.
      const failing = {
        run: async () => ({ code: 2, stdout: "", stderr: "arping: bind: Cannot assign requested address\n" }),
      };
      const burst = announce(failing, vip, 3, 0.05);
      await new Promise((r) => setTimeout(r, 30));
      await expect(burst).rejects.toThrow(/arping .* exited 2: arping: bind/);
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", seen);
    }
  });
});

describe("ensureVip with the real ip, in a network namespace (root)", () => {
  const ns = `vigil-vip-${process.pid}`;
  const inNs = new ProcessRunner(5000, ["ip", "netns", "exec", ns]);
  const dummy = { cidr: "10.77.9.15/24", interface: "vip0", label: "vip0:vip" };

  beforeAll(() => {
    if (process.getuid?.() !== 0)
      throw new Error("this test needs root to create a network namespace; CI runs as root");
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["netns", "exec", ns, "ip", "link", "add", "vip0", "type", "veth", "peer", "name", "vip0peer"]);
    execFileSync("ip", ["netns", "exec", ns, "ip", "link", "set", "vip0", "up"]);
    execFileSync("ip", ["netns", "exec", ns, "ip", "link", "set", "vip0peer", "up"]);
  });
  afterAll(() => {
    execFileSync("ip", ["netns", "del", ns]);
  });

  it("adds, keeps, and removes the VIP, each change exactly once", async () => {
    expect(await ensureVip(inNs, dummy, true)).toBe("changed");
    expect(await ensureVip(inNs, dummy, true)).toBe("unchanged");
    const shown = execFileSync("ip", ["netns", "exec", ns, "ip", "-j", "addr", "show", "dev", "vip0"], {
      encoding: "utf8",
    });
    const ipv4 = JSON.parse(shown)[0].addr_info.filter((a: { family: string }) => a.family === "inet");
    expect(ipv4).toEqual([expect.objectContaining({ local: "10.77.9.15", prefixlen: 24, label: "vip0:vip" })]);
    expect(await ensureVip(inNs, dummy, false)).toBe("changed");
    expect(await ensureVip(inNs, dummy, false)).toBe("unchanged");
  });

  it("sends the gratuitous ARP burst with the argv it builds (iputils arping)", async () => {
    await ensureVip(inNs, dummy, true);
    const sent = await inNs.run(garpArgv(dummy));
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/Sent 1 probes/);
    await announce(inNs, dummy, 2, 0.2);
    await ensureVip(inNs, dummy, false);
  });

  it("names argv, exit code and stderr when ip fails", async () => {
    await expect(ensureVip(inNs, { cidr: "10.77.9.16/24", interface: "nosuch0" }, true)).rejects.toThrow(
      /^ip -j addr show dev nosuch0 exited 1: .*nosuch0/,
    );
  });
});
