/**
 * VIP failover end to end, in the network lab (test/lab/lab.mjs): the control plane in its own
 * namespace, lb1 (priority 100) and lb2 (50) running the built agent, a client requesting the
 * VIP every 50 ms, a sampler reading every director's addresses every 50 ms, and tcpdump on
 * the client's link. Every scenario asserts: no sample with two holders, the client's outage
 * under the bound stated for it, and a gratuitous ARP from every director that claimed the VIP.
 * Needs root, ip, nft, tcpdump and arping (CI runs as root and installs them).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labPrerequisites } from "./lab.mjs";
import { claimsWithoutGarp, failoverMs, outageMs, splitSamples } from "./measure.mjs";
import { SCENARIOS } from "./scenarios.mjs";
import { VigilLab } from "./vigil-lab.mjs";

/** Per scenario: the longest the VIP may take to reach the expected director, and the client's longest gap. */
const BOUNDS: Record<string, { failoverMs: number; outageMs: number }> = {
  // SIGTERM: the agent releases at once, the coordinator offers lb2 the lease.
  "graceful stop": { failoverMs: 1000, outageMs: 1000 },
  // The watchdog removes the VIP at the lease deadline (TTL 1 s); lb2 is granted after expiry + 300 ms grace.
  "daemon SIGKILL": { failoverMs: 2000, outageMs: 2000 },
  "director isolated": { failoverMs: 2000, outageMs: 2000 },
  // Nothing moves: the directors never needed to see each other.
  "lb1-lb2 link cut": { failoverMs: 0, outageMs: 300 },
  // lb1 drops the VIP at its own deadline without hearing from anyone; lb2 after expiry + grace.
  "holder cut from coordinator": { failoverMs: 2000, outageMs: 2000 },
  // Two failed checks 1 s apart (fall 2), the vote, then a revoke and an immediate handover.
  "tracked service stopped": { failoverMs: 4000, outageMs: 4000 },
  // Release policy: lb1 drops the VIP at its deadline while the control plane is down; the
  // outage is the restart (wrangler dev takes seconds) plus the agents' reconnection.
  "coordinator restarted": { failoverMs: 0, outageMs: 30_000 },
};
/** Taking the VIP back (preempt) after a restore: release, offer, claim. */
const PREEMPT_OUTAGE_MS = 1000;

const missing = labPrerequisites();
let v: VigilLab;
let sampler: ReturnType<VigilLab["lab"]["sampler"]>;
let answers: { t: number; who?: string; error?: string }[];
let arp: Awaited<ReturnType<VigilLab["lab"]["arpCapture"]>>;

const ctx = () => ({
  lab: v.lab,
  stopDaemon: (node: string, signal: NodeJS.Signals) => v.stopAgent(node, signal),
  startDaemon: (node: string) => v.startAgent(node),
  stopServer: (node: string) => v.stopServer(node),
  startServer: (node: string) => v.startServer(node),
  restartCoordinator: () => v.restartControlPlane(),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const holderIs = (node: string) => async () => (await v.holders()).join() === node;

/** Waits for lb1 to hold the VIP with lb2 eligible behind it, then a quiet second. */
async function settled(): Promise<void> {
  await v.until(
    "lb1 holding with lb2 standing by",
    async () => {
      const [lease] = await v.leases();
      return (await holderIs("lb1")()) && lease?.holder === "lb1" && lease.members.every((m) => m.eligible);
    },
    60_000,
  );
  await sleep(1000);
}

function check(from: number, bound: { outageMs: number }, expected: string) {
  const to = Date.now();
  const samples = sampler.samples.filter((s) => s.t >= from);
  expect(splitSamples(samples), "samples with two holders").toEqual([]);
  expect(claimsWithoutGarp(sampler.samples, arp.garps, from), "claims without a gratuitous ARP").toEqual([]);
  const outage = outageMs(answers, from - 200, to);
  expect(outage, `client outage (ms), holder now ${expected}`).toBeLessThanOrEqual(bound.outageMs);
  return outage;
}

beforeAll(async () => {
  if (missing.length > 0)
    throw new Error(
      `the network lab needs ${missing.join(", ")}: run as root with iproute2, nftables, tcpdump and iputils-arping installed`,
    );
  execFileSync("node", [path.join(import.meta.dirname, "../../host-agent/build.mjs")]);
  v = await VigilLab.start();
  sampler = v.lab.sampler(v.directors);
  answers = v.startClient();
  arp = await v.lab.arpCapture();
  await settled();
});

afterAll(async () => {
  await sampler?.stop();
  await arp?.stop();
  await v?.stop();
});

describe("VIP failover in the network lab", () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.expect} holds the VIP, never two holders, outage within ${BOUNDS[scenario.name]?.outageMs} ms`, async () => {
      const bound = BOUNDS[scenario.name];
      if (!bound) throw new Error(`no bound stated for ${scenario.name}`);
      await settled();
      const t0 = Date.now();
      let restored = false;
      try {
        await scenario.inject(ctx());
        await v.until(`${scenario.expect} holding the VIP`, holderIs(scenario.expect), 60_000, 20);
        await sleep(2000);
        expect(await v.holders()).toEqual([scenario.expect]);
        if (scenario.expect === "lb2") {
          expect(failoverMs(sampler.samples, t0, "lb2"), "failover (ms)").toBeLessThanOrEqual(bound.failoverMs);
        }
        check(t0, bound, scenario.expect);

        // Restored, lb1 (priority 100, preempt) takes the VIP back, again never alongside lb2.
        const healed = Date.now();
        restored = true;
        await scenario.restore(ctx());
        await v.until("lb1 holding the VIP again", holderIs("lb1"), 60_000, 20);
        await sleep(1500);
        check(healed, { outageMs: scenario.expect === "lb2" ? PREEMPT_OUTAGE_MS : bound.outageMs }, "lb1");
      } finally {
        // A failed scenario must not leave the next one a broken lab.
        if (!restored) await scenario.restore(ctx());
      }
    });
  }

  it("runs the notify hooks with group, state and epoch on every change", () => {
    const lines = v.notifications().map((l) => l.split(" ").slice(1));
    expect(lines.length).toBeGreaterThan(4);
    for (const [node, group, state, epoch] of lines) {
      expect(["lb1", "lb2"]).toContain(node);
      expect(group).toBe("VI_1");
      expect(["master", "backup", "stop"]).toContain(state);
      expect(Number(epoch)).toBeGreaterThan(0);
    }
    const masters = lines.filter((l) => l[2] === "master").map((l) => Number(l[3]));
    expect(masters).toEqual([...masters].sort((a, b) => a - b));
  });

  it("switches over to a named node and back on the operator's word, and drains a node", async () => {
    await settled();
    const from = Date.now();
    const moved = await v.api("POST", "/v1/clusters/lab/vip-groups/VI_1/switchover", { to: "lb2" });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ holder: "lb2", switchoverTo: "lb2" });
    await v.until("lb2 holding after the switchover", holderIs("lb2"), 2000, 20);
    await sleep(1500);
    expect(await v.holders(), "a switchover sticks despite preempt").toEqual(["lb2"]);
    const refused = await v.api("POST", "/v1/clusters/lab/vip-groups/VI_1/switchover", { to: "lb9" });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    expect((await v.api("POST", "/v1/clusters/lab/vip-groups/VI_1/switchover", { to: "lb1" })).status).toBe(200);

    const drained = await v.api("POST", "/v1/clusters/lab/nodes/lb1/drain");
    expect(drained.body).toEqual({ node: "lb1", drained: true, holding: [] });
    await v.until("lb2 holding after the drain", holderIs("lb2"), 2000, 20);
    const [lease] = await v.leases();
    expect(lease?.members.find((m) => m.node === "lb1")).toMatchObject({
      eligible: false,
      reasons: expect.arrayContaining(["drained"]),
    });
    expect((await v.api("DELETE", "/v1/clusters/lab/nodes/lb1/drain")).body).toMatchObject({ drained: false });
    await v.until("lb1 back after the drain ends", holderIs("lb1"), 10_000, 20);
    await sleep(1000);
    check(from, { outageMs: PREEMPT_OUTAGE_MS }, "lb1");
  });
});
