/**
 * `hostActions: "show"`: the agent's own VIP and IPVS code runs against ShownHost, which logs
 * each change instead of making it and reads back what it would have done; anything else
 * reaches the real runner. (npm run demo runs the same, end to end: test/local/demo.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import type { Runner, RunResult } from "../../host-agent/src/runner.js";
import { ShownHost } from "../../host-agent/src/shown-host.js";
import { announce, ensureVip, hasVip } from "../../host-agent/src/vip.js";
import { desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";

function shown(vips = true): { host: ShownHost; shownLines: string[]; real: string[][] } {
  const shownLines: string[] = [];
  const real: string[][] = [];
  const passthrough: Runner = {
    run: async (argv): Promise<RunResult> => {
      real.push([...argv]);
      return { code: 0, stdout: "real", stderr: "" };
    },
  };
  return { host: new ShownHost(passthrough, (l) => shownLines.push(l), vips), shownLines, real };
}

const vip = { cidr: "192.0.2.15/24", interface: "vigil0", label: "vigil0:vip" };

describe("ShownHost", () => {
  it("shows a VIP's add, announce and delete, and reads back what it would have done", async () => {
    const { host, shownLines, real } = shown();
    expect(await hasVip(host, vip)).toBe(false);
    expect(await ensureVip(host, vip, true)).toBe("changed");
    expect(await hasVip(host, vip)).toBe(true);
    expect(await ensureVip(host, vip, true)).toBe("unchanged");
    await announce(host, vip, 2, 0);
    expect(await ensureVip(host, vip, false)).toBe("changed");
    expect(await hasVip(host, vip)).toBe(false);
    expect(shownLines).toEqual([
      "shown, not applied: ip addr add 192.0.2.15/24 dev vigil0 label vigil0:vip",
      "shown, not applied: arping -U -c 1 -I vigil0 192.0.2.15",
      "shown, not applied: arping -U -c 1 -I vigil0 192.0.2.15",
      "shown, not applied: ip addr del 192.0.2.15/24 dev vigil0",
    ]);
    expect(real).toEqual([]);
  });

  it("answers as ip does when the address is already there or already gone", async () => {
    const { host } = shown();
    const add = ["ip", "addr", "add", "192.0.2.15/24", "dev", "vigil0"];
    expect((await host.run(add)).code).toBe(0);
    expect(await host.run(add)).toMatchObject({ code: 2, stderr: "RTNETLINK answers: File exists" });
    const del = ["ip", "addr", "del", "192.0.2.15/24", "dev", "vigil0"];
    expect((await host.run(del)).code).toBe(0);
    expect(await host.run(del)).toMatchObject({ code: 2 });
  });

  it("keeps the IPVS table the driver programs, so its read-back and status agree", async () => {
    const { host, shownLines } = shown();
    const web = desiredService(
      VirtualService.parse({
        name: "web",
        vipGroup: "VI_1",
        address: "192.0.2.15",
        port: 80,
        scheduler: "wrr",
        forwarding: "nat",
        realServers: [
          { name: "web1", address: "127.0.0.1", port: 8081, weight: 1 },
          { name: "web2", address: "127.0.0.1", port: 8082, weight: 2 },
        ],
      }),
      () => "up",
    );
    const driver = new IpvsDriver(host);
    const first = await driver.sync([web]);
    expect(first.actual).toEqual([
      "-A -t 192.0.2.15:80 -s wrr",
      "-a -t 192.0.2.15:80 -r 127.0.0.1:8081 -m -w 1",
      "-a -t 192.0.2.15:80 -r 127.0.0.1:8082 -m -w 2",
    ]);
    expect(shownLines[0]).toBe("shown, not applied: ipvsadm -A -t 192.0.2.15:80 -s wrr");
    expect((await driver.sync([web])).sent).toEqual([]);
    const [status] = await driver.status([web]);
    expect(status).toMatchObject({ service: "web", present: true, scheduler: "wrr" });
    expect(status?.servers.map((s) => [s.port, s.weight])).toEqual([
      [8081, 1],
      [8082, 2],
    ]);
    const heavier = { ...web, servers: web.servers.map((s) => ({ ...s, weight: 5 })) };
    expect((await driver.sync([heavier])).sent).toEqual([
      "-e -t 192.0.2.15:80 -r 127.0.0.1:8081 -m -w 5",
      "-e -t 192.0.2.15:80 -r 127.0.0.1:8082 -m -w 5",
    ]);
    expect((await driver.sync([])).actual).toEqual([]);
    expect((await driver.read()).size).toBe(0);
  });

  it("with show-backends, runs the VIP commands for real and shows only the IPVS ones", async () => {
    const { host, real, shownLines } = shown(false);
    await host.run(["ip", "addr", "add", "192.0.2.15/24", "dev", "eth0"]);
    await host.run(["arping", "-U", "-c", "1", "-I", "eth0", "192.0.2.15"]);
    await host.run(["ipvsadm", "-R"], "-A -t 192.0.2.15:80 -s wrr\n");
    expect(real).toEqual([
      ["ip", "addr", "add", "192.0.2.15/24", "dev", "eth0"],
      ["arping", "-U", "-c", "1", "-I", "eth0", "192.0.2.15"],
    ]);
    expect(shownLines).toEqual(["shown, not applied: ipvsadm -A -t 192.0.2.15:80 -s wrr"]);
    expect((await host.run(["ipvsadm", "-S", "-n"])).stdout).toBe("-A -t 192.0.2.15:80 -s wrr\n");
  });

  it("runs every other command for real", async () => {
    const { host, real, shownLines } = shown();
    expect((await host.run(["ping", "-n", "-c", "1", "127.0.0.1"])).stdout).toBe("real");
    expect((await host.run(["ip", "-o", "link", "show", "dev", "eth0"])).stdout).toBe("real");
    expect(real).toHaveLength(2);
    expect(shownLines).toEqual([]);
  });
});
