/**
 * The agent's lease client against a stateful fake host (no root needed): grants are tied to the
 * request they answer and refused when late, the VIPs go at the deadline without any network,
 * a release and a stop give them back and say so, and only allowed hooks run. The network lab
 * (test/lab) runs the same client with the real `ip` and `arping`.
 */
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { client, director, spec, until } from "./lease-client-harness.js";

describe("the agent's lease client", () => {
  it("reports at once, asks when offered, and claims on a grant: ip addr add with the label, the ARP burst, the master hook", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(600)]);
    await until(() => c.sent.length > 0, "the first report");
    expect(c.sent[0]?.command).toEqual({
      type: "lease.request",
      group: "VI_1",
      epoch: 0,
      holding: false,
      holder: null,
      promises: [],
    });
    await c.leases.offered("VI_1", 0);
    expect(c.sent.at(-1)?.command).toMatchObject({ type: "lease.request", epoch: 1, holding: false });
    const result = await c.grant(600);
    expect(result).toMatchObject({ holding: true, epoch: 1 });
    expect(result.remainingMs as number).toBeLessThanOrEqual(600 - 100);
    expect(host.addresses().includes("10.77.0.100/24")).toBe(true);
    expect(host.calls).toContainEqual(["ip", "addr", "add", "10.77.0.100/24", "dev", "eth0", "label", "eth0:vip"]);
    // The coordinator hears at once that lb1 holds, with the promise that covers it.
    expect(c.sent.at(-1)?.command).toMatchObject({
      type: "lease.request",
      epoch: 1,
      holding: true,
      holder: { node: "lb1", epoch: 1 },
      promises: [{ voter: "@coordinator" }],
    });
    await until(() => host.arp.length >= 2, "the ARP burst");
    expect(host.arp).toEqual(["eth0 10.77.0.100", "eth0 10.77.0.100"]);
    expect(host.calls).toContainEqual(["/etc/vigil/hooks/notify", "--from-vigil", "VI_1", "master", "1"]);
    expect(c.watched.at(-1)).toMatchObject({ vips: 1 });

    await c.leases.stop();
  });

  it("announces the VIP again every garp.refresh seconds while it holds, and stops when it lets go", async () => {
    const host = director();
    const c = client(host);
    const garp = { count: 1, interval: 0.01, refresh: 0.2 };
    c.leases.setUnits([{ ...spec(3000), garp }]);
    await until(() => c.sent.length > 0, "the first report");
    const arpAt: number[] = [];
    const watch = setInterval(() => {
      while (arpAt.length < host.arp.length) arpAt.push(performance.now());
    }, 5);
    try {
      await c.leases.offered("VI_1", 0);
      const vips = spec(3000).vips;
      await c.leases.claim({
        type: "vip.claim",
        group: "VI_1",
        vips,
        garp,
        leaseMs: 3000,
        request: c.lastRequest(),
        leaseEpoch: 1,
      });
      // The burst (one), then the refreshes, 200 ms apart.
      await until(() => host.arp.length >= 4, "three refreshes after the burst");
      const gaps = arpAt.slice(1, 4).map((t, i) => t - (arpAt[i] as number));
      for (const gap of gaps.slice(1)) expect(gap).toBeGreaterThanOrEqual(190);
      await c.leases.release("VI_1");
      const after = host.arp.length;
      const released = performance.now();
      // Three refresh periods on, nothing more was sent.
      await until(() => performance.now() - released > 600, "three refresh periods");
      expect(host.arp.length).toBe(after);
    } finally {
      clearInterval(watch);
      await c.leases.stop();
    }
  });

  it("goes on with a campaign when an offer only echoes its epoch, and starts over above a higher one", async () => {
    const c = client(director());
    c.leases.setUnits([spec(600)]);
    await c.leases.offered("VI_1", 0);
    const asks = () => c.sent.filter((s) => s.command.type === "lease.request" && s.command.epoch > 0);
    expect(asks().map((s) => (s.command as { epoch: number }).epoch)).toEqual([1]);
    // The coordinator saw the ask under 1 and offers again under 1: the same campaign goes on.
    await c.leases.offered("VI_1", 1);
    expect(asks()).toHaveLength(1);
    // Someone asked under 4 meanwhile: a new campaign above it.
    await c.leases.offered("VI_1", 4);
    expect(asks().map((s) => (s.command as { epoch: number }).epoch)).toEqual([1, 5]);
    expect((await c.grant(600, 5)).holding).toBe(true);
    await c.leases.stop();
  });

  it("removes the VIP at its own deadline when no renewal is granted, without any network", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(600)]);
    await until(() => c.sent.length > 0, "the first report");
    const asked = performance.now();
    const held = await c.take(600);
    expect(host.addresses().length).toBe(1);
    const gone = await until(() => host.addresses().length === 0, "the VIP removed");
    // Not before the deadline the grant gave (counted from the request), nor long after it.
    expect(gone - asked).toBeGreaterThanOrEqual(held.remainingMs as number);
    expect(gone - asked).toBeLessThan(600 + 1000);
    // Renewal requests kept going out every 200 ms meanwhile; none was granted.
    expect(c.sent.filter((s) => s.command.type === "lease.request").length).toBeGreaterThanOrEqual(3);
    expect(c.sent.some((s) => s.command.type === "lease.released")).toBe(true);
    await c.leases.stop();
  });

  it("refuses a grant for a request it never sent, and one that arrives after its deadline", async () => {
    const c = client(director());
    c.leases.setUnits([spec(300)]);
    await until(() => c.sent.length > 0, "the first report");
    const asked = performance.now();
    await c.leases.offered("VI_1", 0);
    await expect(c.grant(300, 1, "lb1-999")).rejects.toThrow(/unknown or old request/);
    const request = c.lastRequest();
    // The promise would end 300 ms after the request, less drift and margin: wait past that.
    await until(() => performance.now() - asked > 300, "the promise's end");
    await expect(c.grant(300, 1, request)).rejects.toThrow(/after its deadline/);
    await c.leases.stop();
  });

  it("gives the VIP back on request and when stopping, and says so with the epoch", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(3000)]);
    await until(() => c.sent.length > 0, "the first report");
    await c.take(3000, 4);
    await c.leases.release("VI_1");
    expect(host.addresses().length).toBe(0);
    expect(c.sent.find((s) => s.command.type === "lease.released")?.command).toEqual({
      type: "lease.released",
      group: "VI_1",
      leaseEpoch: 4,
    });
    expect(host.calls).toContainEqual(["/etc/vigil/hooks/notify", "VI_1", "backup", "4"]);
    await c.take(3000, 5);
    expect(host.addresses().length).toBe(1);
    await c.leases.stop();
    expect(host.addresses().length).toBe(0);
    expect(c.watched.at(-1)).toEqual({ vips: 0, remainingMs: 0 });
  });

  it("with lvsSync, syncs connections as backup while a member, as master from before the VIP and its ARP, and as backup again on release", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([{ ...spec(3000), lvsSync: { interface: "eth0", syncId: 5 } }]);
    await until(() => host.syncDaemons.size > 0, "the backup sync daemon");
    expect([...host.syncDaemons]).toEqual([["backup", "mcast=eth0, syncid=5"]]);
    expect(c.syncStarted()).toBe(true);
    await c.take(3000, 1);
    expect([...host.syncDaemons]).toEqual([["master", "mcast=eth0, syncid=5"]]);
    const at = (argv: string[]) => host.calls.findIndex((call) => call.join(" ") === argv.join(" "));
    const master = at(["ipvsadm", "--start-daemon", "master", "--mcast-interface", "eth0", "--syncid", "5"]);
    expect(at(["ipvsadm", "--stop-daemon", "backup"])).toBeLessThan(master);
    expect(master).toBeLessThan(at(["ip", "addr", "add", "10.77.0.100/24", "dev", "eth0", "label", "eth0:vip"]));
    expect(master).toBeLessThan(host.calls.findIndex((call) => call[0] === "arping"));
    await c.leases.release("VI_1");
    expect([...host.syncDaemons]).toEqual([["backup", "mcast=eth0, syncid=5"]]);
    await c.leases.stop();
  });

  it("stops the sync daemons when the group no longer syncs, or this node leaves it, but not for a group renamed", async () => {
    const host = director();
    const c = client(host);
    const synced = { ...spec(3000), lvsSync: { interface: "eth0", syncId: 5 } };
    c.leases.setUnits([synced]);
    await until(() => host.syncDaemons.size > 0, "the backup sync daemon");
    c.leases.setUnits([spec(3000)]);
    await until(() => host.syncDaemons.size === 0, "the daemon stopped when lvsSync went");
    c.leases.setUnits([synced]);
    await until(() => host.syncDaemons.size > 0, "the backup sync daemon again");
    c.leases.setUnits([{ ...synced, name: "VI_2", lvsSync: { interface: "eth0", syncId: 6 } }]);
    await until(() => host.syncDaemons.get("backup") === "mcast=eth0, syncid=6", "the renamed group's daemon");
    await new Promise((r) => setTimeout(r, 50));
    expect([...host.syncDaemons]).toEqual([["backup", "mcast=eth0, syncid=6"]]);
    c.leases.setUnits([]);
    await until(() => host.syncDaemons.size === 0, "the daemon stopped when the node left the group");
    expect(c.syncStarted()).toBe(false);
    await c.leases.stop();
  });

  it("after a restart, stops the sync daemons an earlier run started once no group syncs, and leaves one it never started", async () => {
    const left = director();
    left.syncDaemons.set("master", "mcast=eth0, syncid=5");
    const restarted = client(left, { syncStarted: true });
    restarted.leases.setUnits([spec(3000)]);
    await until(() => left.syncDaemons.size === 0, "the earlier run's daemon stopped");
    expect(restarted.syncStarted()).toBe(false);
    expect(restarted.log.join("\n")).toContain("IPVS connection sync stopped: an earlier run of this agent started it");
    await restarted.leases.stop();

    const byHand = director();
    byHand.syncDaemons.set("master", "mcast=eth1, syncid=9");
    const c = client(byHand, { syncStarted: false });
    c.leases.setUnits([spec(3000)]);
    await until(() => c.sent.length > 0, "the first report");
    await new Promise((r) => setTimeout(r, 50));
    expect([...byHand.syncDaemons]).toEqual([["master", "mcast=eth1, syncid=9"]]);
    expect(byHand.calls.filter((call) => call[0] === "ipvsadm")).toEqual([]);
    await c.leases.stop();
  });

  it("without lvsSync, never touches the sync daemons", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(3000)]);
    await until(() => c.sent.length > 0, "the first report");
    await c.take(3000, 1);
    await c.leases.release("VI_1");
    expect(host.calls.filter((call) => call[0] === "ipvsadm")).toEqual([]);
    await c.leases.stop();
  });

  it("runs no hook whose path the agent's config does not list", async () => {
    const host = director();
    const c = client(host, { allowed: [] });
    c.leases.setUnits([spec(3000, "/tmp/evil")]);
    await until(() => c.sent.length > 0, "the first report");
    await c.take(3000);
    expect(host.calls.some((a) => a[0] === "/tmp/evil")).toBe(false);
    expect(c.log.join("\n")).toMatch(/VI_1: refused to run \/tmp\/evil: \/tmp\/evil is not in the agent's allowlist/);
    expect(c.refused).toEqual([
      {
        type: "program.refused",
        kind: "hook",
        subject: "VI_1",
        state: "master",
        program: { path: "/tmp/evil", args: ["--from-vigil"] },
        reason: "/tmp/evil is not in the agent's allowlist",
      },
    ]);
    await c.leases.stop();
  });

  it("runs the unit's fault hooks when the coordinator says it is in fault, and refuses an unknown unit", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([{ ...spec(3000), notify: [{ fault: { path: "/etc/vigil/hooks/notify", args: ["--fault"] } }] }]);
    await until(() => c.sent.length > 0, "the first report");
    expect(await c.leases.runHooks("VI_1", "fault")).toEqual({ group: "VI_1", state: "fault" });
    expect(host.calls).toContainEqual(["/etc/vigil/hooks/notify", "--fault", "VI_1", "fault", "0"]);
    await expect(c.leases.runHooks("VI_9", "fault")).rejects.toThrow("no lease unit VI_9 on this node");
    await c.leases.stop();
  });
});

describe("a held group whose VIPs change", () => {
  it("adds the new VIP and removes the old one on the next grant, without letting go", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(3000)]);
    await new Promise((r) => setTimeout(r, 5));
    await c.take(3000, 2);
    await c.leases.claim({
      type: "vip.claim",
      group: "VI_1",
      vips: [{ cidr: "10.77.0.101/24", interface: "eth0" }],
      garp: { count: 1, interval: 0.01, refresh: 0 },
      leaseMs: 3000,
      request: c.lastRequest(),
      leaseEpoch: 2,
    });
    expect(host.addresses()).toEqual(["10.77.0.101/24"]);
    expect(c.sent.some((s) => s.command.type === "lease.released")).toBe(false);
    await c.leases.stop();
  });
});
