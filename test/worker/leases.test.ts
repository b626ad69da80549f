/**
 * Leases through the real coordinator in workerd, with two scripted agents on the channel:
 * its promise answers a request and names it, a standby is offered the lease when the holder
 * releases it, a holder that goes quiet is replaced only after its promise and the grace ran
 * out, and the operator's switchover and drain move the group.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/core/envelope.js";
import { api } from "./http.js";
import { directorPair } from "./pair.js";
import { restart } from "./restart.js";
import type { ScriptedAgent } from "./scripted-agent.js";

const leases = async (cluster: string) => (await api("GET", `/v1/clusters/${cluster}/leases`)).body;

/**
 * A scripted director that plays the agent's part with the coordinator alone: it reports (or
 * renews what it holds) every 100 ms, asks under the next epoch when offered, holds once
 * promised, and releases when asked. Answers a function that stops it.
 */
function play(agent: ScriptedAgent): () => void {
  let epoch = 0;
  let holding = false;
  let handled = 0;
  const tick = setInterval(() => {
    for (const e of agent.received.slice(handled)) {
      const c = e.command;
      if (c.type === "lease.offer" && !holding) {
        epoch = e.epoch + 1;
        void agent.lease("VI_1", epoch).catch(() => undefined);
      } else if (c.type === "vip.claim" && c.leaseEpoch === epoch) holding = true;
      else if (c.type === "vip.release" && holding) {
        holding = false;
        void agent.send({ type: "lease.released", group: "VI_1", leaseEpoch: epoch }, e.epoch).catch(() => undefined);
      }
    }
    handled = agent.received.length;
    void agent.lease("VI_1", holding ? epoch : 0, holding).catch(() => undefined);
  }, 100);
  return () => clearInterval(tick);
}

describe("leases through the coordinator", () => {
  it("sends each member its lease units with its peers, promises the member that should hold and names the request, and tells the other why not", async () => {
    const { cluster, lb1, lb2 } = await directorPair();
    // lb1's work is sent again once lb2 enrolled and connected: now with lb2's key.
    const latest = () => lb1.received.filter((e) => e.command.type === "agent.work").at(-1)?.command;
    await expect
      .poll(() => {
        const w = latest();
        return w?.type === "agent.work" && w.units[0]?.members.every((m) => m.publicKey?.length === 43);
      })
      .toBe(true);
    const work = latest();
    expect(work).toMatchObject({
      units: [
        {
          name: "VI_1",
          leaseMs: 1000,
          onCoordinatorLoss: "quorum",
          members: [
            { node: "lb1", address: expect.stringMatching(/\.11$/), peerPort: 7441, priority: 100 },
            { node: "lb2", address: expect.stringMatching(/\.12$/), peerPort: 7441, priority: 50 },
          ],
          track: [],
        },
      ],
      probes: [],
    });
    // One after the other: frames on two sockets may reach the coordinator in either order.
    const asked = await lb1.lease("VI_1", 1);
    const grant = await lb1.next("vip.claim");
    expect(grant.command).toMatchObject({ group: "VI_1", leaseMs: 1000, request: asked, leaseEpoch: 1 });
    const denied = await lb2.lease("VI_1", 1);
    expect((await lb2.next("lease.answer")).command).toEqual({
      type: "lease.answer",
      group: "VI_1",
      request: denied,
      reason: "promised to lb1 (epoch 1)",
      epoch: 1,
    });
    await lb1.lease("VI_1", 1, true);
    await expect.poll(async () => (await leases(cluster))[0].holder).toBe("lb1");
    const [view] = await leases(cluster);
    expect(view).toMatchObject({
      group: "VI_1",
      holder: "lb1",
      epoch: 1,
      desired: "lb1",
      onCoordinatorLoss: "quorum",
      majority: 2,
      voters: [
        { voter: "lb1", promised: false, remainingMs: null },
        { voter: "lb2", promised: false, remainingMs: null },
        { voter: "@coordinator", promised: true },
      ],
    });
    expect(view.remainingMs).toBe(0);
  });

  it("offers the lease to the standby as soon as the holder releases it", async () => {
    // A 10 s lease: "at once" is then plainly told from "when the promise ran out", on a loaded machine too.
    const { cluster, lb1, lb2 } = await directorPair({ leaseTtl: 10 });
    await lb1.lease("VI_1", 1);
    await lb1.next("vip.claim");
    await lb1.lease("VI_1", 1, true);
    await expect.poll(async () => (await leases(cluster))[0].holder).toBe("lb1");
    // lb2 is live: it asked within a TTL and grace (the agent reports every third of the TTL).
    await lb2.lease("VI_1", 0);
    const seen = lb2.received.length;
    const released = Date.now();
    await lb1.send({ type: "lease.released", group: "VI_1", leaseEpoch: 1 }, 1);
    lb1.close();
    const offer = await lb2.next("lease.offer", seen);
    expect(offer.epoch).toBe(1);
    await lb2.lease("VI_1", offer.epoch + 1);
    const grant = await lb2.next("vip.claim", seen);
    expect(Date.now() - released).toBeLessThan(5000);
    expect(grant.command).toMatchObject({ leaseEpoch: 2 });
    await lb2.lease("VI_1", 2, true);
    await expect.poll(async () => (await leases(cluster))[0]).toMatchObject({ holder: "lb2", epoch: 2 });
  });

  it("takes no lease request issued longer ago than the TTL: a dead agent's last words held up in a cut network win nothing", async () => {
    const { cluster, lb1, lb2 } = await directorPair();
    // lb1 (priority 100) asks under epoch 1, but 1.5 s ago (the TTL is 1 s); lb2 (50) asks now.
    await lb1.lease("VI_1", 1, false, 1500);
    await lb2.lease("VI_1", 0);
    const offer = await lb2.next("lease.offer");
    await lb2.lease("VI_1", offer.epoch + 1);
    expect((await lb2.next("vip.claim")).command).toMatchObject({ leaseEpoch: offer.epoch + 1 });
    expect(lb1.received.filter((e) => e.command.type === "vip.claim" || e.command.type === "lease.offer")).toEqual([]);
    const [lease] = await leases(cluster);
    expect(lease.members.find((m: { node: string }) => m.node === "lb1")).toMatchObject({ eligible: false });
  });

  it("writes no row while a holder renews and the standby reports, steady", async () => {
    // A 3 s lease renewed every 100 ms: thirty times the agent's own rate.
    const { cluster, lb1, lb2 } = await directorPair({ leaseTtl: 3 });
    const stopped = [play(lb1), play(lb2)];
    await expect.poll(async () => (await leases(cluster))[0].holder, { timeout: 10_000 }).toBe("lb1");
    const stub = env.COORDINATOR.getByName(cluster);
    const claims = () => lb1.received.filter((e) => e.command.type === "vip.claim").length;
    const before = {
      rows: (await stub.metrics()).usage.rowsWritten,
      claims: claims(),
      minute: Math.floor(Date.now() / 60_000),
    };
    await expect.poll(() => claims() - before.claims, { timeout: 10_000 }).toBeGreaterThanOrEqual(20);
    // Twenty renewals granted, and the standby's reports: no row (but the history's for a minute that ended).
    const rows = (await stub.metrics()).usage.rowsWritten - before.rows;
    expect(rows).toBeLessThanOrEqual(Math.floor(Date.now() / 60_000) - before.minute);
    for (const stop of stopped) stop();
  });

  it("promises nobody else while a silent holder's promise and the grace last", async () => {
    const { cluster, lb1, lb2 } = await directorPair();
    await lb1.lease("VI_1", 1);
    await lb1.next("vip.claim");
    const granted = Date.now();
    await lb1.lease("VI_1", 1, true);
    const seen = lb2.received.length;
    // lb1 goes quiet; lb2 keeps asking every third of the TTL, under an epoch above lb1's.
    let claim: Envelope | null = null;
    while (claim === null && Date.now() - granted < 4000) {
      await lb2.lease("VI_1", 2);
      await new Promise((r) => setTimeout(r, 100));
      claim = lb2.received.slice(seen).find((e) => e.command.type === "vip.claim") ?? null;
    }
    expect(claim?.command).toMatchObject({ leaseEpoch: 2 });
    // One TTL (1 s) and the grace (200 ms for a 1 s TTL).
    expect(Date.now() - granted).toBeGreaterThanOrEqual(1000 + 200);
    await lb2.lease("VI_1", 2, true);
    await expect
      .poll(async () =>
        (await api("GET", `/v1/clusters/${cluster}/events?subject=VI_1`)).body.map((e: { type: string }) => e.type),
      )
      .toEqual(["vip.moved", "lease.expired", "vip.moved"]);
  });

  it("keeps a promise that reached the agent through a restart, and promises nobody new until its TTL and grace ran out", async () => {
    const { cluster, lb1, lb2 } = await directorPair();
    await lb1.lease("VI_1", 1);
    await lb1.next("vip.claim");
    // The object is reset the moment the promise arrives: what it had not stored by then is lost.
    const restarted = Date.now();
    await restart(cluster);
    await lb2.connect();
    const seen = lb2.received.length;
    let claim: Envelope | null = null;
    const reasons = new Set<string>();
    while (claim === null && Date.now() - restarted < 5000) {
      const before = lb2.received.length;
      await lb2.lease("VI_1", 2);
      const answer = await lb2.next(["vip.claim", "lease.answer"], before, 5000).catch(() => null);
      if (answer?.command.type === "lease.answer" && answer.command.reason)
        reasons.add(answer.command.reason.replace(/\d+ ms/, "N ms"));
      claim = lb2.received.slice(seen).find((e) => e.command.type === "vip.claim") ?? null;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(claim?.command).toMatchObject({ leaseEpoch: 2 });
    // One TTL (1 s) and the grace (200 ms for a 1 s TTL), counted from the restart.
    expect(Date.now() - restarted).toBeGreaterThanOrEqual(1000 + 200);
    expect([...reasons]).toContain("restarted: promises nothing new for N ms");
  });

  it("switches over on the operator's word and drains a node", async () => {
    const { cluster, lb1, lb2 } = await directorPair();
    // lb1 reports first: the first live member is offered the unit (lb2 alone would be, and
    // lb1 would preempt it only a TTL later), and this test is about the operator's word.
    const directors = [play(lb1)];
    const lb2View = async () => (await leases(cluster))[0].members.find((m: { node: string }) => m.node === "lb2");
    try {
      // Offered the lease as the member that should hold it, lb1 asks, is promised and holds.
      await expect.poll(async () => (await leases(cluster))[0].holder, { timeout: 5000 }).toBe("lb1");
      directors.push(play(lb2));
      await expect.poll(async () => (await lb2View()).eligible, { timeout: 5000 }).toBe(true);
      const moved = await api("POST", `/v1/clusters/${cluster}/vip-groups/VI_1/switchover`, { body: { to: "lb2" } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ holder: "lb2", switchoverTo: "lb2" });
      const unknown = await api("POST", `/v1/clusters/${cluster}/vip-groups/VI_9/switchover`, { body: { to: "lb2" } });
      expect(unknown).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
      const bad = await api("POST", `/v1/clusters/${cluster}/vip-groups/VI_1/switchover`, { body: { to: "lb 1" } });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_field" } } });

      const drained = await api("POST", `/v1/clusters/${cluster}/nodes/lb2/drain`);
      expect(drained.body).toEqual({ node: "lb2", drained: true, holding: [] });
      await expect.poll(async () => (await leases(cluster))[0].holder, { timeout: 5000 }).toBe("lb1");
      // lb2 released on the drain; once it reports again, being drained is all that keeps it out.
      await expect.poll(lb2View, { timeout: 5000 }).toMatchObject({ eligible: false, reasons: ["drained"] });
      expect((await api("POST", `/v1/clusters/${cluster}/nodes/lb7/drain`)).status).toBe(404);
    } finally {
      for (const stop of directors) stop();
    }
  });

  it("has the agent read a tracked interface, and tells a member in fault once per fault to run its fault hooks", async () => {
    const { cluster, lb1, lb2 } = await directorPair({ trackInterfaces: [{ interface: "eth1", weight: 0 }] });
    const work = (await lb1.next("agent.work")).command;
    expect(work.type === "agent.work" && work.probes.map((p) => [p.target, p.check.type])).toEqual([
      ["node:lb1/interface.eth1", "interface"],
    ]);
    // lb1 holds the lease first: the fault message must carry its epoch, or the agent refuses it as stale.
    await lb1.lease("VI_1", 1);
    await lb1.next("vip.claim");
    await lb1.lease("VI_1", 1, true);
    const link = (state: "up" | "down") =>
      lb1.send({
        type: "votes",
        heartbeat: false,
        votes: [
          {
            target: "node:lb1/interface.eth1",
            state,
            since: Date.now(),
            latencyMs: 1,
            error: null,
            probes: 1,
            failures: 0,
          },
        ],
      });
    const seen = lb1.received.length;
    await link("down");
    const fault = await lb1.next("hook.run", seen);
    expect(fault.command).toEqual({ type: "hook.run", group: "VI_1", state: "fault" });
    expect(fault.epoch).toBe(1);
    const [view] = await leases(cluster);
    expect(view.members.find((m: { node: string }) => m.node === "lb1").reasons).toContain("interface eth1 is down");
    // lb2's own request is answered after lb1's vote was handled: a hook.run for lb2 would be before it.
    const mark = lb2.received.length;
    const asked = await lb2.lease("VI_1", 0);
    await expect
      .poll(() =>
        lb2.received.slice(mark).some((e) => e.command.type === "lease.answer" && e.command.request === asked),
      )
      .toBe(true);
    expect(lb2.received.some((e) => e.command.type === "hook.run")).toBe(false);
    // Recovered, then down again: told again.
    await link("up");
    const again = lb1.received.length;
    await link("down");
    await lb1.next("hook.run", again);
    expect(lb1.received.filter((e) => e.command.type === "hook.run")).toHaveLength(2);
  });
});
