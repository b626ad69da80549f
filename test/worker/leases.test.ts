/**
 * Leases through the real coordinator in workerd, with two scripted agents on the channel:
 * a grant answers a request and names it, a standby is offered the lease when the holder
 * releases it, a holder that goes quiet is replaced only after its lease and the grace ran
 * out, and the operator's switchover and drain move the group.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Envelope, newKeyPair } from "../../src/core/envelope.js";
import { newCluster, node } from "./fixtures.js";
import { api } from "./http.js";
import { ScriptedAgent } from "./scripted-agent.js";

async function pair(
  group: Record<string, unknown> = {},
): Promise<{ cluster: string; lb1: ScriptedAgent; lb2: ScriptedAgent }> {
  const { name, base } = await newCluster("lease");
  const agents: ScriptedAgent[] = [];
  for (const [n, last] of [
    ["lb1", 11],
    ["lb2", 12],
  ] as const) {
    await api("POST", `${base}/nodes`, { body: node(n, last) });
  }
  const created = await api("POST", `${base}/vip-groups`, {
    body: {
      name: "VI_1",
      vips: [{ cidr: "192.168.88.15/24", interface: "eth0" }],
      members: [
        { node: "lb1", priority: 100 },
        { node: "lb2", priority: 50 },
      ],
      leaseTtl: 1,
      ...group,
    },
  });
  expect(created.status).toBe(201);
  for (const n of ["lb1", "lb2"]) {
    const token = (await api("POST", `${base}/enrollment-tokens`, { body: { node: n } })).body.token;
    const keys = await newKeyPair();
    await api("POST", "/v1/enroll", { body: { token, node: n, publicKey: keys.publicKey }, token: null });
    const agent = new ScriptedAgent(name, n, keys);
    await agent.connect();
    agents.push(agent);
  }
  const [lb1, lb2] = agents as [ScriptedAgent, ScriptedAgent];
  await lb1.next("agent.work");
  await lb2.next("agent.work");
  return { cluster: name, lb1, lb2 };
}

const leases = async (cluster: string) => (await api("GET", `/v1/clusters/${cluster}/leases`)).body;

describe("leases through the coordinator", () => {
  it("sends each member its lease units, grants a request and names it, and denies the other member meanwhile", async () => {
    const { cluster, lb1, lb2 } = await pair();
    const work = (await lb1.next("agent.work")).command;
    expect(work).toMatchObject({ units: [{ name: "VI_1", leaseMs: 1000, onCoordinatorLoss: "release" }], probes: [] });
    // One after the other: frames on two sockets may reach the coordinator in either order.
    const asked = await lb1.send({ type: "lease.request", group: "VI_1" });
    const grant = await lb1.next("vip.claim");
    await lb2.send({ type: "lease.request", group: "VI_1" });
    expect(grant.epoch).toBe(1);
    expect(grant.command).toMatchObject({ group: "VI_1", leaseMs: 1000, request: asked });
    // lb2's request has been taken once the view counts lb2 as asking; it was denied, not granted.
    await expect
      .poll(async () => (await leases(cluster))[0].members.find((m: { node: string }) => m.node === "lb2").eligible)
      .toBe(true);
    expect(lb2.received.some((e) => e.command.type === "vip.claim")).toBe(false);
    const [view] = await leases(cluster);
    expect(view).toMatchObject({ group: "VI_1", holder: "lb1", epoch: 1, desired: "lb1" });
    expect(view.remainingMs).toBeGreaterThan(0);
    expect(view.remainingMs).toBeLessThanOrEqual(1000);
  });

  it("hands the lease to the standby as soon as the holder releases it", async () => {
    const { cluster, lb1, lb2 } = await pair();
    await lb1.send({ type: "lease.request", group: "VI_1" });
    await lb1.next("vip.claim");
    await lb2.send({ type: "lease.request", group: "VI_1" });
    const seen = lb2.received.length;
    // The standby asks every third of the TTL, as the agent does; an offer makes it ask at once.
    const requests: string[] = [];
    const ask = async () => {
      requests.push(await lb2.send({ type: "lease.request", group: "VI_1" }));
    };
    const asking = setInterval(() => void ask(), 333);
    try {
      const released = Date.now();
      await lb1.send({ type: "lease.released", group: "VI_1", leaseEpoch: 1 }, 1);
      lb1.close();
      const first = await lb2.next(["lease.offer", "vip.claim"], seen);
      if (first.command.type === "lease.offer") await ask();
      const grant = await lb2.next("vip.claim", seen);
      expect(Date.now() - released).toBeLessThan(1500);
      expect(grant.epoch).toBe(2);
      expect(grant.command.type === "vip.claim" && grant.command.request).toMatch(/^lb2-\d+$/);
    } finally {
      clearInterval(asking);
    }
    expect((await leases(cluster))[0]).toMatchObject({ holder: "lb2", epoch: 2 });
  });

  it("grants nobody else while a silent holder's lease and the grace period last", async () => {
    const { cluster, lb1, lb2 } = await pair();
    await lb1.send({ type: "lease.request", group: "VI_1" });
    await lb1.next("vip.claim");
    const granted = Date.now();
    const seen = lb2.received.length;
    // lb1 goes quiet; lb2 keeps asking every third of the TTL.
    let claim: Envelope | null = null;
    while (claim === null && Date.now() - granted < 4000) {
      await lb2.send({ type: "lease.request", group: "VI_1" });
      await new Promise((r) => setTimeout(r, 100));
      claim = lb2.received.slice(seen).find((e) => e.command.type === "vip.claim") ?? null;
    }
    expect(claim?.epoch).toBe(2);
    expect(Date.now() - granted).toBeGreaterThanOrEqual(1000 + 300);
    const events = (await api("GET", `/v1/clusters/${cluster}/events?subject=VI_1`)).body.map(
      (e: { type: string }) => e.type,
    );
    expect(events).toEqual(["vip.moved", "lease.expired", "vip.moved"]);
  });

  it("has the lease on disk by the time its grant arrives", async () => {
    const { cluster, lb1 } = await pair();
    await lb1.send({ type: "lease.request", group: "VI_1" });
    await lb1.next("vip.claim");
    await runInDurableObject(env.COORDINATOR.getByName(cluster), async (_instance, state) => {
      const [row] = state.storage.sql.exec<{ body: string }>("SELECT body FROM leases WHERE unit = 'VI_1'").toArray();
      expect(JSON.parse(row?.body ?? "{}")).toMatchObject({ holder: "lb1", epoch: 1 });
    });
  });

  it("switches over on the operator's word and drains a node", async () => {
    const { cluster, lb1, lb2 } = await pair();
    const renew = setInterval(() => {
      void lb1.send({ type: "lease.request", group: "VI_1" }, lb1.received.at(-1)?.epoch ?? 0).catch(() => undefined);
      void lb2.send({ type: "lease.request", group: "VI_1" }, lb2.received.at(-1)?.epoch ?? 0).catch(() => undefined);
    }, 100);
    // The scripted agents release whatever they are asked to.
    const releaseOn = (agent: ScriptedAgent) => {
      let handled = 0;
      return setInterval(() => {
        const asks = agent.received.filter((e) => e.command.type === "vip.release");
        for (const e of asks.slice(handled))
          void agent.send({ type: "lease.released", group: "VI_1", leaseEpoch: e.epoch }, e.epoch);
        handled = asks.length;
      }, 20);
    };
    const releasing = [releaseOn(lb1), releaseOn(lb2)];
    try {
      await lb1.next("vip.claim");
      const moved = await api("POST", `/v1/clusters/${cluster}/vip-groups/VI_1/switchover`, { body: { to: "lb2" } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ holder: "lb2", switchoverTo: "lb2" });
      const unknown = await api("POST", `/v1/clusters/${cluster}/vip-groups/VI_9/switchover`, { body: { to: "lb2" } });
      expect(unknown).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
      const bad = await api("POST", `/v1/clusters/${cluster}/vip-groups/VI_1/switchover`, { body: { to: "lb 1" } });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_field" } } });

      const drained = await api("POST", `/v1/clusters/${cluster}/nodes/lb2/drain`);
      expect(drained.body).toEqual({ node: "lb2", drained: true, holding: [] });
      for (let i = 0; i < 50 && (await leases(cluster))[0].holder !== "lb1"; i++)
        await new Promise((r) => setTimeout(r, 50));
      const [view] = await leases(cluster);
      expect(view.holder).toBe("lb1");
      expect(view.members.find((m: { node: string }) => m.node === "lb2")).toMatchObject({
        eligible: false,
        reasons: ["drained"],
      });
      expect((await api("POST", `/v1/clusters/${cluster}/nodes/lb7/drain`)).status).toBe(404);
    } finally {
      clearInterval(renew);
      for (const r of releasing) clearInterval(r);
    }
  });

  it("has the agent read a tracked interface, and tells a member in fault once per fault to run its fault hooks", async () => {
    const { cluster, lb1, lb2 } = await pair({ trackInterfaces: [{ interface: "eth1", weight: 0 }] });
    const work = (await lb1.next("agent.work")).command;
    expect(work.type === "agent.work" && work.probes.map((p) => [p.target, p.check.type])).toEqual([
      ["node:lb1/interface.eth1", "interface"],
    ]);
    // lb1 holds the lease first: the fault message must carry its epoch, or the agent refuses it as stale.
    await lb1.send({ type: "lease.request", group: "VI_1" });
    await lb1.next("vip.claim");
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
    expect(lb2.received.some((e) => e.command.type === "hook.run")).toBe(false);
    // Recovered, then down again: told again.
    await link("up");
    const again = lb1.received.length;
    await link("down");
    await lb1.next("hook.run", again);
    expect(lb1.received.filter((e) => e.command.type === "hook.run")).toHaveLength(2);
  });
});
