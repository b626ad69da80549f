/**
 * The lease client's answers and side effects one by one, on a fake director: what it says to
 * the coordinator, to its peers and to the watchdog, and what it logs, for each thing that can
 * happen to a unit. test/agent/leases.test.ts and quorum.test.ts run the same client through
 * whole leases; the network lab runs it with the real `ip` and `arping`.
 */
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import type { LeaseUnitSpec } from "../../src/core/command.js";
import type { PeerMessage } from "../../src/core/peer.js";
import type { VoteState } from "../../src/core/vote.js";
import { client, director, NOTIFY, spec, until } from "./lease-client-harness.js";

const KEY = "k".repeat(43);

/** VI_1 shared by lb1 (this node) and lb2, held by quorum when the coordinator is gone. */
function quorumSpec(leaseMs: number, extra: Partial<LeaseUnitSpec> = {}): LeaseUnitSpec {
  return {
    ...spec(leaseMs),
    onCoordinatorLoss: "quorum",
    members: [
      { node: "lb1", address: "10.77.0.11", peerPort: 7441, publicKey: KEY, priority: 100 },
      { node: "lb2", address: "10.77.0.12", peerPort: 7441, publicKey: KEY, priority: 90 },
    ],
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What lb2 (priority 90, eligible) tells its peers of VI_1. */
const lb2State = (holding: boolean, epoch: number): PeerMessage => ({
  type: "state",
  unit: "VI_1",
  eligible: true,
  priority: 90,
  holding,
  epoch,
});

describe("the lease client and the coordinator", () => {
  it("gives back a held unit the coordinator no longer lists, with the backup hook and the reason", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(3000)]);
    await c.take(3000, 2);
    expect(host.addresses()).toEqual(["10.77.0.100/24"]);
    c.leases.setUnits([]);
    await until(() => c.log.includes("VI_1: released (no longer a member, epoch 2)"), "the release");
    expect(host.addresses()).toEqual([]);
    expect(host.calls).toContainEqual([NOTIFY, "VI_1", "backup", "2"]);
    expect(c.sent.at(-1)?.command).toEqual({ type: "lease.released", group: "VI_1", leaseEpoch: 2 });
    expect(c.leases.holding()).toEqual([]);
    // Gone for good: a later offer of it is ignored.
    const before = c.sent.length;
    await c.leases.offered("VI_1", 5);
    expect(c.sent.length).toBe(before);
    await c.leases.stop();
  });

  it("refuses a grant for a unit it is not a member of, or under another epoch than its own", async () => {
    const c = client(director());
    c.leases.setUnits([spec(3000)]);
    await expect(
      c.leases.claim({
        type: "vip.claim",
        group: "VI_9",
        vips: spec(3000).vips,
        garp: spec(3000).garp,
        leaseMs: 3000,
        request: "lb1-1",
        leaseEpoch: 1,
      }),
    ).rejects.toThrow("not a member of VI_9");
    await c.leases.offered("VI_1", 0);
    await expect(c.grant(3000, 2)).rejects.toThrow("grant under epoch 2, but this node asks under epoch 1");
    expect(c.leases.holding()).toEqual([]);
    await c.leases.stop();
  });

  it("answers a refusal with its epoch, and nothing for a unit it does not know", async () => {
    const c = client(director());
    c.leases.setUnits([spec(3000)]);
    await c.leases.offered("VI_1", 0);
    const request = c.lastRequest();
    expect(
      c.leases.answered({ type: "lease.answer", group: "VI_1", request, epoch: 3, reason: "held by lb2" }),
    ).toEqual({ epoch: 3 });
    expect(c.leases.answered({ type: "lease.answer", group: "VI_9", request, epoch: 3, reason: null })).toEqual({});
    // The refusal told it of epoch 3: its next campaign goes above it.
    await c.leases.offered("VI_1", 0);
    expect(c.sent.at(-1)?.command).toMatchObject({ type: "lease.request", epoch: 4 });
    await c.leases.stop();
  });

  it("a release it does not hold stops its campaign: a grant for it is refused, and holds nothing", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(3000)]);
    await c.leases.offered("VI_1", 0);
    expect(await c.leases.release("VI_9")).toEqual({ holding: false });
    expect(await c.leases.release("VI_1")).toEqual({ holding: false });
    await expect(c.grant(3000, 1)).rejects.toThrow("grant under epoch 1, but this node no longer asks for VI_1");
    expect(host.addresses()).toEqual([]);
    await c.leases.stop();
  });

  it("ignores an offer while it holds the unit", async () => {
    const c = client(director());
    c.leases.setUnits([spec(3000)]);
    await c.take(3000, 1);
    const before = c.sent.length;
    await c.leases.offered("VI_1", 7);
    expect(c.sent.length).toBe(before);
    expect(c.leases.holding()[0]?.epoch).toBe(1);
    await c.leases.stop();
  });

  it("shows what it holds: the group, the epoch, the time left and each promise", async () => {
    const c = client(director());
    c.leases.setUnits([spec(3000)]);
    expect(c.leases.holding()).toEqual([]);
    const asked = performance.now();
    await c.take(3000, 3);
    const [held] = c.leases.holding();
    expect(held).toMatchObject({ group: "VI_1", epoch: 3 });
    const [promise] = held?.promises ?? [];
    expect(promise?.voter).toBe("@coordinator");
    for (const left of [held?.remainingMs ?? 0, promise?.remainingMs ?? 0]) {
      expect(left).toBeGreaterThan(3000 - 1000 - (performance.now() - asked));
      expect(left).toBeLessThan(3000);
    }
    await c.leases.stop();
  });

  it("renews at a third of a changed TTL, not at the old one", async () => {
    const c = client(director());
    c.leases.setUnits([spec(30_000)]);
    await until(() => c.sent.length === 1, "the first report");
    c.leases.setUnits([spec(150)]);
    const from = performance.now();
    await until(() => c.sent.length >= 4, "three more reports");
    // At 10 s a round, three would take 30 s; at 50 ms, about 150 ms.
    expect(performance.now() - from).toBeLessThan(5000);
    await c.leases.stop();
  });

  it("holds on when its lease runs out with the coordinator unreachable, under the hold policy", async () => {
    const host = director();
    let connected = true;
    const c = client(host, { connected: () => connected });
    c.leases.setUnits([{ ...spec(300), onCoordinatorLoss: "hold" }]);
    await c.take(300, 1);
    connected = false;
    await until(
      () => c.log.includes("VI_1: lease ran out with the coordinator unreachable; holding (policy hold)"),
      "the hold",
    );
    await sleep(400);
    expect(host.addresses()).toEqual(["10.77.0.100/24"]);
    expect(c.watched.at(-1)?.vips).toBe(1);
    expect(c.watched.at(-1)?.remainingMs).toBeGreaterThan(0);
    await c.leases.stop();
  });

  it("lets go when its lease runs out with the coordinator connected, and says why", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([{ ...spec(300), onCoordinatorLoss: "hold" }]);
    await c.take(300, 1);
    await until(() => c.log.includes("VI_1: released (lease ran out, epoch 1)"), "the release");
    expect(host.addresses()).toEqual([]);
    await c.leases.stop();
  });

  it("tells the watchdog every held VIP and the nearest deadline", async () => {
    const c = client(director());
    const second: LeaseUnitSpec = {
      ...spec(20_000),
      name: "VI_2",
      vips: [{ cidr: "10.77.0.200/24", interface: "eth0" }],
    };
    c.leases.setUnits([spec(3000), second]);
    await c.take(3000, 1);
    await c.leases.offered("VI_2", 0);
    const asked = performance.now();
    await c.leases.claim({
      type: "vip.claim",
      group: "VI_2",
      vips: second.vips,
      garp: second.garp,
      leaseMs: 20_000,
      request: c.lastRequest(),
      leaseEpoch: 1,
    });
    const last = c.watched.at(-1);
    expect(last?.vips).toBe(2);
    // VI_1's deadline (under 3 s), not VI_2's (near 20 s).
    expect(last?.remainingMs).toBeLessThan(3000);
    expect(last?.remainingMs).toBeGreaterThan(3000 - 1000 - (performance.now() - asked));
    await c.leases.stop();
  });

  it("logs a report it could not send, and goes on", async () => {
    const c = client(director(), {
      send: async () => {
        throw new Error("channel closed");
      },
    });
    c.leases.setUnits([spec(3000)]);
    await until(() => c.log.includes("VI_1: report not sent: channel closed"), "the log line");
    await c.leases.offered("VI_1", 0);
    await until(() => c.log.includes("VI_1: lease request not sent: channel closed"), "the log line");
    await c.leases.stop();
  });
});

describe("the lease client and its peers", () => {
  it("exchanges promises only with quorum peers that have a key, and warns of a peer port that differs", async () => {
    const c = client(director(), { peerPort: 7000 });
    const third = { node: "lb3", address: "10.77.0.13", peerPort: 7441, publicKey: null, priority: 80 };
    c.leases.setUnits([
      quorumSpec(3000, { members: [...quorumSpec(3000).members, third] }),
      { ...spec(3000), name: "VI_2", members: [...quorumSpec(3000).members] },
    ]);
    expect(c.peerSets.at(-1)).toEqual([{ node: "lb2", address: "10.77.0.12", port: 7441, publicKey: KEY }]);
    expect(c.log).toEqual([
      "VI_1: the cluster says peers reach this node on port 7441, but it listens on 7000: set peerPort to the same value in both",
    ]);
    await c.leases.stop();
  });

  it("says nothing of the peer port when it matches", async () => {
    const c = client(director());
    c.leases.setUnits([quorumSpec(3000)]);
    expect(c.log).toEqual([]);
    await c.leases.stop();
  });

  it("ignores a peer's message for a unit they do not share", async () => {
    const c = client(director());
    c.leases.setUnits([quorumSpec(3000)]);
    const before = c.peered.length;
    await c.leases.fromPeer("lb9", { type: "release", unit: "VI_1", epoch: 1 });
    await c.leases.fromPeer("lb2", { type: "release", unit: "VI_9", epoch: 1 });
    expect(c.log).toEqual([
      "peer lb9: ignored a release for VI_1, which it does not share with this node",
      "peer lb2: ignored a release for VI_9, which it does not share with this node",
    ]);
    expect(c.peered.length).toBe(before);
    await c.leases.stop();
  });

  it("answers a peer's ask under the request's id: a promise with its TTL, or a refusal with the reason", async () => {
    const c = client(director());
    c.leases.setUnits([quorumSpec(3000)]);
    await c.leases.fromPeer("lb2", { type: "ask", unit: "VI_1", epoch: 1, id: "lb2.1", because: "status-quo" });
    expect(c.peered.at(-1)).toEqual({
      to: "lb2",
      message: {
        type: "answer",
        unit: "VI_1",
        id: "lb2.1",
        granted: false,
        epoch: 0,
        ttlMs: 0,
        reason: "the coordinator decides while it is reachable",
      },
    });
    expect(c.stored()).toEqual({});
    await c.leases.fromPeer("lb2", { type: "ask", unit: "VI_1", epoch: 2, id: "lb2.2", because: "offer" });
    expect(c.peered.at(-1)).toEqual({
      to: "lb2",
      message: { type: "answer", unit: "VI_1", id: "lb2.2", granted: true, epoch: 2, ttlMs: 3000, reason: null },
    });
    // The promise is kept across a restart.
    expect(c.stored()).toEqual({ VI_1: { to: "lb2", epoch: 2 } });
    // lb2 gives it back: the promise ends, and that is kept too.
    await c.leases.fromPeer("lb2", { type: "release", unit: "VI_1", epoch: 2 });
    expect(c.stored()).toEqual({ VI_1: { to: null, epoch: 2 } });
    await c.leases.stop();
  });

  it("tells its peers its state: priority from tracked checks, and not eligible when a weight-0 check is down", async () => {
    const verdicts: Record<string, VoteState> = { "node:self/a": "up", "node:self/b": "down", "node:self/c": "up" };
    const c = client(director(), { verdict: (t) => verdicts[t] ?? "unknown" });
    const track = [
      { target: "node:self/a", weight: 10 },
      { target: "node:self/b", weight: -20 },
      { target: "node:self/c", weight: 0 },
    ];
    c.leases.setUnits([quorumSpec(3000, { track })]);
    const states = () => c.peered.filter((p) => p.message.type === "state");
    await until(() => states().length > 0, "a state message");
    expect(states().at(-1)).toEqual({
      to: "lb2",
      message: { type: "state", unit: "VI_1", eligible: true, priority: 90, holding: false, epoch: 0 },
    });
    verdicts["node:self/c"] = "down";
    await c.leases.stop();
    expect(states().at(-1)?.message).toMatchObject({ eligible: false, priority: 90 });
  });

  it("a holder tells its peers it let go, and under which epoch", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([quorumSpec(3000)]);
    await c.take(3000, 1);
    expect(host.addresses()).toEqual(["10.77.0.100/24"]);
    expect(c.peered.at(-1)?.message).toMatchObject({ type: "state", holding: true, epoch: 1 });
    await c.leases.release("VI_1");
    const after = c.peered.slice(-2);
    expect(after).toEqual([
      { to: "lb2", message: { type: "release", unit: "VI_1", epoch: 1 } },
      { to: "lb2", message: { type: "state", unit: "VI_1", eligible: true, priority: 100, holding: false, epoch: 1 } },
    ]);
    await c.leases.stop();
  });

  it("reports a peer that says it holds, with how long ago it was heard", async () => {
    const c = client(director());
    c.leases.setUnits([quorumSpec(300)]);
    await c.leases.fromPeer("lb2", lb2State(true, 4));
    const heard = performance.now();
    const reports = () =>
      c.sent
        .filter((s) => s.command.type === "lease.request" && s.command.holder?.node === "lb2")
        .map((s) => s.command);
    await until(() => reports().length > 0, "a report naming lb2");
    const [first] = reports();
    expect(first).toMatchObject({ epoch: 0, holding: false, holder: { node: "lb2", epoch: 4 }, promises: [] });
    const ago = (first as { holder: { heardMsAgo: number } }).holder.heardMsAgo;
    expect(ago).toBeGreaterThanOrEqual(0);
    expect(ago).toBeLessThanOrEqual(Math.ceil(performance.now() - heard));
    await c.leases.stop();
  });

  it("a holder whose weight-0 check fails hands over while the coordinator is unreachable, with the fault hook", async () => {
    const host = director();
    let connected = true;
    let web: VoteState = "up";
    const c = client(host, { connected: () => connected, verdict: () => web });
    const notify = [{ fault: { path: NOTIFY, args: ["--fault"] } }];
    c.leases.setUnits([quorumSpec(600, { track: [{ target: "node:self/web", weight: 0 }], notify })]);
    await c.take(600, 1);
    expect(host.addresses()).toEqual(["10.77.0.100/24"]);
    connected = false;
    web = "down";
    await until(
      () => c.log.includes("VI_1: released (a tracked check of its own is down; handing over, epoch 1)"),
      "the hand-over",
    );
    expect(host.addresses()).toEqual([]);
    expect(host.calls).toContainEqual([NOTIFY, "--fault", "VI_1", "fault", "1"]);
    await c.leases.stop();
  });
});

describe("the lease client without the coordinator", () => {
  const asksTo = (c: ReturnType<typeof client>, to: string) =>
    c.peered.filter((p) => p.to === to && p.message.type === "ask").map((p) => p.message);

  it("the best member asks its peers by the status quo, says so once, and holds on a peer's promise", async () => {
    const host = director();
    const c = client(host, { connected: () => false });
    c.leases.setUnits([quorumSpec(300)]);
    await until(() => asksTo(c, "lb2").length >= 3, "three rounds of asks");
    expect(asksTo(c, "lb2")[0]).toMatchObject({ type: "ask", unit: "VI_1", epoch: 1, because: "status-quo" });
    expect(c.log.filter((l) => l.includes("asking the peers"))).toEqual([
      "VI_1: the coordinator is unreachable and no one holds; asking the peers",
    ]);
    const last = asksTo(c, "lb2").at(-1) as { id: string; epoch: number };
    await c.leases.fromPeer("lb2", {
      type: "answer",
      unit: "VI_1",
      id: last.id,
      granted: true,
      epoch: last.epoch,
      ttlMs: 300,
      reason: null,
    });
    expect(host.addresses()).toEqual(["10.77.0.100/24"]);
    await c.leases.stop();
  });

  it("a peer's refusal holds nothing", async () => {
    const host = director();
    const c = client(host, { connected: () => false });
    c.leases.setUnits([quorumSpec(3000)]);
    await until(() => asksTo(c, "lb2").length > 0, "an ask");
    const ask = asksTo(c, "lb2")[0] as { id: string };
    await c.leases.fromPeer("lb2", {
      type: "answer",
      unit: "VI_1",
      id: ask.id,
      granted: false,
      epoch: 0,
      ttlMs: 0,
      reason: "restarted",
    });
    expect(host.addresses()).toEqual([]);
    expect(c.leases.holding()).toEqual([]);
    await c.leases.stop();
  });

  it("does not ask while a peer says it holds, or while a better peer is there", async () => {
    // Both hear lb2 while the coordinator is still there, then lose it.
    let connected = true;
    const c = client(director(), { connected: () => connected });
    c.leases.setUnits([quorumSpec(3000)]);
    await c.leases.fromPeer("lb2", lb2State(true, 3));
    const worse = client(director(), { connected: () => connected });
    worse.leases.setUnits([
      quorumSpec(3000, {
        members: quorumSpec(3000).members.map((m) => ({ ...m, priority: m.node === "lb1" ? 50 : 90 })),
      }),
    ]);
    await worse.leases.fromPeer("lb2", lb2State(false, 0));
    connected = false;
    // Two rounds (1 s apart) without the coordinator: neither asks.
    await sleep(2100);
    expect([asksTo(c, "lb2").length, asksTo(worse, "lb2").length]).toEqual([0, 0]);
    expect(c.log.concat(worse.log).filter((l) => l.includes("asking the peers"))).toEqual([]);
    // lb2 asks by the status quo: the worse member promises, as lb2 should hold.
    await worse.leases.fromPeer("lb2", { type: "ask", unit: "VI_1", epoch: 1, id: "lb2.1", because: "status-quo" });
    expect(worse.peered.at(-1)?.message).toMatchObject({ type: "answer", id: "lb2.1", granted: true, epoch: 1 });
    await c.leases.stop();
    await worse.leases.stop();
  });

  it("counts the coordinator gone when it has not been heard for a TTL, even on a live channel", async () => {
    const c = client(director());
    c.leases.setUnits([quorumSpec(300)]);
    const set = performance.now();
    const asked = await until(() => asksTo(c, "lb2").length > 0, "an ask by the status quo");
    expect(asked - set).toBeGreaterThanOrEqual(300);
    expect(asksTo(c, "lb2")[0]).toMatchObject({ because: "status-quo" });
    await c.leases.stop();
  });

  it("with an odd member count the coordinator is no voter: each round of asks goes with a report to it", async () => {
    const c = client(director(), { connected: () => false });
    const third = { node: "lb3", address: "10.77.0.13", peerPort: 7441, publicKey: KEY, priority: 80 };
    c.leases.setUnits([quorumSpec(300, { members: [...quorumSpec(300).members, third] })]);
    await until(() => asksTo(c, "lb3").length >= 2, "two rounds of asks");
    const requests = c.sent.map((s) => s.command).filter((x) => x.type === "lease.request");
    expect(requests.every((r) => r.epoch === 0)).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    await c.leases.stop();
  });
});

describe("a holder renewing with the coordinator", () => {
  it("keeps the VIP past its first deadline while each renewal is granted", async () => {
    const host = director();
    const c = client(host);
    c.leases.setUnits([spec(300)]);
    await c.take(300, 1);
    const granted = new Set<string>();
    const start = performance.now();
    let lost = false;
    while (performance.now() - start < 1200) {
      const ask = c.lastRequest();
      if (!granted.has(ask)) {
        granted.add(ask);
        await c.grant(300, 1, ask);
      }
      if (host.addresses().length === 0) lost = true;
      await sleep(5);
    }
    expect(lost).toBe(false);
    expect(granted.size).toBeGreaterThanOrEqual(4);
    expect(c.leases.holding()).toMatchObject([{ group: "VI_1", epoch: 1 }]);
    await c.leases.stop();
  });
});
