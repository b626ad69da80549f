/**
 * The coordinator's part in a lease unit, by tables: whom it promises (only who should hold),
 * what it learns from the members' reports, when it revokes and offers, and how it restarts.
 * Safety of the whole protocol (never two holders) is shown on a simulated network in
 * majority.test.ts, for quorum and for the coordinator alone.
 */
import { describe, expect, it } from "vitest";
import {
  afterRestart,
  type Candidate,
  desiredHolder,
  durable,
  effectivePriority,
  initialLease,
  type LeaseConfig,
  type LeaseInput,
  type LeaseState,
  offerable,
  step,
} from "../../src/core/lease.js";
import { runLease } from "./lease-run.js";

const config: LeaseConfig = {
  ttlMs: 3000,
  graceMs: 300,
  marginMs: 300,
  drift: 0.01,
  preempt: true,
  preemptDelayMs: 0,
};
const both = (a: number, b: number): Candidate[] => [
  { node: "lb1", eligible: a > 0, priority: a },
  { node: "lb2", eligible: b > 0, priority: b },
];
const ask = (node: string, epoch: number, holding = false): LeaseInput => ({
  type: "request",
  node,
  epoch,
  holding,
  holder: holding ? { node, epoch } : null,
});
const report = (node: string, holder: { node: string; epoch: number } | null): LeaseInput => ({
  type: "request",
  node,
  epoch: 0,
  holding: false,
  holder,
});

const run = (inputs: [number, LeaseInput][], start = initialLease(0), cfg = config) => runLease(inputs, cfg, start);

describe("the coordinator as a voter", () => {
  it("promises only who should hold, renews it, and learns it holds from its report", () => {
    const { state, effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [10, ask("lb2", 1)],
      [20, ask("lb1", 1)],
      [30, ask("lb1", 1, true)],
      [1000, ask("lb1", 1, true)],
    ]);
    expect(effects).toEqual([
      { type: "deny", node: "lb2", reason: "lb1 should hold it", epoch: 1 },
      { type: "grant", node: "lb1", epoch: 1, ttlMs: 3000 },
      { type: "moved", from: null, to: "lb1", epoch: 1, reason: "first holder", afterMs: null },
      { type: "grant", node: "lb1", epoch: 1, ttlMs: 3000 },
      { type: "grant", node: "lb1", epoch: 1, ttlMs: 3000 },
    ]);
    expect(state).toMatchObject({ holder: "lb1", holderEpoch: 1, epoch: 1, voter: { to: "lb1", until: 4000 } });
  });

  it("answers a report, which asks nothing, with its epoch", () => {
    const { effects } = run([[0, report("lb2", null)]]);
    expect(effects).toEqual([{ type: "deny", node: "lb2", reason: null, epoch: 0 }]);
  });

  it("after a dead holder, promises the next only when its own promise ran out plus grace", () => {
    const { effects, state } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1)],
      [10, ask("lb1", 1, true)],
      [100, { type: "candidates", candidates: both(0, 50) }],
      [3200, ask("lb2", 2)],
      [3311, ask("lb2", 2)],
    ]);
    const kinds = effects.map((e) => `${e.type} ${"node" in e ? e.node : "to" in e ? e.to : ""}`);
    expect(kinds).toEqual([
      "grant lb1",
      "moved lb1",
      "grant lb1",
      "revoke lb1",
      "deny lb2",
      "expired lb1",
      "grant lb2",
    ]);
    expect(effects[4]).toMatchObject({ reason: "promised to lb1 (epoch 1)" });
    expect(state.voter).toMatchObject({ to: "lb2", epoch: 2 });
  });

  it("hands over at once when the old holder releases", () => {
    const { state, effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
      [100, { type: "switchover", to: "lb2" }],
      [150, { type: "release", node: "lb1", epoch: 1 }],
      [160, ask("lb2", 2)],
      [170, ask("lb2", 2, true)],
    ]);
    expect(effects.filter((e) => e.type === "revoke")).toEqual([{ type: "revoke", node: "lb1", epoch: 1 }]);
    expect(effects.filter((e) => e.type === "grant").map((e) => e.node)).toEqual(["lb1", "lb2", "lb2"]);
    expect(state).toMatchObject({ holder: "lb2", holderEpoch: 2, target: "lb2" });
  });

  it("offers the unit to the next member once its holder released it, even with the holder still a candidate", () => {
    // The holder's agent stops: its connection's end may be seen before its release, while it
    // is still the holder (so still a live candidate). Its release alone moves the unit on.
    const { state } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
      [100, { type: "candidates", candidates: both(100, 50) }],
      [150, { type: "release", node: "lb1", epoch: 1 }],
    ]);
    expect(state).toMatchObject({ holder: null, last: "lb1" });
    expect(state.candidates).toEqual([
      { node: "lb1", eligible: false, priority: 100 },
      { node: "lb2", eligible: true, priority: 50 },
    ]);
    expect(desiredHolder(state, 150, config)).toBe("lb2");
    expect(offerable(state, "lb2", 150, config)).toBe(true);
    // Asking anew makes it a candidate again: with preemption it is then the one to hold.
    const back = step(state, { type: "candidates", candidates: both(100, 50) }, 200, config);
    expect(desiredHolder(back.state, 200, config)).toBe("lb1");
  });

  it("keeps a member that released a unit it did not hold a candidate", () => {
    const { state } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
      [100, { type: "release", node: "lb2", epoch: 1 }],
    ]);
    expect(state.candidates).toEqual(both(100, 50));
    expect(state.holder).toBe("lb1");
  });

  it("asks a holder that only reports it holds after a revoke again (the first may have been lost)", () => {
    const { effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb2", 1, true)],
      [100, { type: "candidates", candidates: both(100, 50) }],
      [1000, report("lb2", { node: "lb2", epoch: 1 })],
    ]);
    expect(effects.filter((e) => e.type === "revoke")).toEqual([
      { type: "revoke", node: "lb2", epoch: 1 },
      { type: "revoke", node: "lb2", epoch: 1 },
    ]);
    expect(effects.at(-1)).toEqual({ type: "deny", node: "lb2", reason: null, epoch: 1 });
  });

  it("asks a holder that keeps renewing after a revoke again, and promises it nothing", () => {
    const { effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
      [100, { type: "switchover", to: "lb2" }],
      [1000, ask("lb1", 1, true)],
    ]);
    expect(effects.slice(2)).toEqual([
      { type: "revoke", node: "lb1", epoch: 1 },
      { type: "revoke", node: "lb1", epoch: 1 },
      { type: "deny", node: "lb1", reason: "asked to release", epoch: 1 },
    ]);
  });

  it("keeps a switchover against preemption until its target cannot hold the group", () => {
    const pinned = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
      [100, { type: "switchover", to: "lb2" }],
      [150, { type: "release", node: "lb1", epoch: 1 }],
      [160, ask("lb2", 2, true)],
      [200, ask("lb1", 3)],
    ]);
    expect(pinned.state).toMatchObject({ holder: "lb2", holderEpoch: 2, revoking: false });
    expect(pinned.effects.at(-1)).toMatchObject({ type: "deny", node: "lb1" });
    const failed = step(pinned.state, { type: "candidates", candidates: both(100, 0) }, 1100, config);
    expect(failed.state.target).toBeNull();
    expect(failed.effects).toEqual([{ type: "revoke", node: "lb2", epoch: 3 }]);
  });

  it("ignores a release for another epoch", () => {
    const { state } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 2, true)],
      [100, { type: "release", node: "lb1", epoch: 1 }],
    ]);
    expect(state).toMatchObject({ holder: "lb1", voter: { to: "lb1", epoch: 2 } });
  });
});

describe("what the coordinator learns from the members", () => {
  it("takes a holder made without it (a hand-over during an outage) from any member's report", () => {
    const start = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 4, true)],
    ]).state;
    const { state, effects } = run([[60_000, report("lb1", { node: "lb2", epoch: 5 })]], start);
    expect(effects).toEqual([
      { type: "expired", node: "lb1", epoch: 4 },
      {
        type: "moved",
        from: "lb1",
        to: "lb2",
        epoch: 5,
        reason: "lb1's lease expired: it stopped answering",
        afterMs: 60_000,
      },
      // Only now does it decide: lb1 is back and preempts, so lb2 is asked to give the unit back.
      { type: "revoke", node: "lb2", epoch: 5 },
      { type: "deny", node: "lb1", reason: null, epoch: 5 },
    ]);
    expect(state).toMatchObject({ holder: "lb2", holderEpoch: 5, epoch: 5 });
  });

  it("takes back a holder it lost from sight that held on by its peers' promises, and moves nothing", () => {
    const start = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 4, true)],
    ]).state;
    // Cut off from both directors for a minute: lb1's report is overdue, then it comes back.
    const { state, effects } = run([[60_000, ask("lb1", 4, true)]], start);
    expect(effects).toEqual([
      { type: "expired", node: "lb1", epoch: 4 },
      { type: "grant", node: "lb1", epoch: 4, ttlMs: 3000 },
    ]);
    expect(state).toMatchObject({ holder: "lb1", holderEpoch: 4, revoking: false });
    expect(offerable(state, "lb1", 60_000, config)).toBe(false);
  });

  it("takes a holder back from another member's report only after losing it from sight, not after its release", () => {
    const start = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 4, true)],
    ]).state;
    const lagging = report("lb2", { node: "lb1", epoch: 4 });
    const released = run(
      [
        [100, { type: "release", node: "lb1", epoch: 4 }],
        [120, lagging],
      ],
      start,
    ).state;
    expect(released).toMatchObject({ holder: null, last: "lb1" });
    const expired = run([[60_000, lagging]], start).state;
    expect(expired).toMatchObject({ holder: "lb1", holderEpoch: 4 });
    // Nor after the holder said it holds nothing (it dropped at its deadline, or stopped).
    const dropped = run(
      [
        [100, ask("lb1", 0)],
        [120, lagging],
      ],
      start,
    ).state;
    expect(dropped).toMatchObject({ holder: null, last: "lb1", lastExpired: false });
  });

  it("asks a member that reports holding under a newer epoch to release once, and promises it nothing", () => {
    const start = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
    ]).state;
    // lb2 says it holds under epoch 2 (its peers promised it while lb1 was out of its sight); lb1 should hold.
    const { effects } = step(start, ask("lb2", 2, true), 100, config);
    expect(effects.filter((e) => e.type !== "moved")).toEqual([
      { type: "revoke", node: "lb2", epoch: 2 },
      { type: "deny", node: "lb2", reason: "asked to release", epoch: 2 },
    ]);
  });

  it("lets a holder keep the unit when the reason to revoke it went away before it released", () => {
    const { state, effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 4, true)],
      // lb1 out of the coordinator's reach a moment: lb2 should hold, lb1 is asked to release.
      [100, { type: "candidates", candidates: both(0, 50) }],
      // lb1 is back before it got the word, and renews.
      [200, { type: "candidates", candidates: both(100, 50) }],
      [300, ask("lb1", 4, true)],
    ]);
    expect(effects.filter((e) => e.type === "revoke")).toEqual([{ type: "revoke", node: "lb1", epoch: 4 }]);
    expect(effects.at(-1)).toEqual({ type: "grant", node: "lb1", epoch: 4, ttlMs: 3000 });
    expect(state).toMatchObject({ holder: "lb1", revoking: false });
  });

  it("learns the holder from its own report that asks for nothing (a unit it has no vote on)", () => {
    const { state, effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, { type: "request", node: "lb1", epoch: 0, holding: true, holder: { node: "lb1", epoch: 7 } }],
    ]);
    expect(state).toMatchObject({ holder: "lb1", holderEpoch: 7, epoch: 7 });
    expect(effects).toEqual([
      { type: "moved", from: null, to: "lb1", epoch: 7, reason: "first holder", afterMs: null },
      { type: "deny", node: "lb1", reason: null, epoch: 7 },
    ]);
  });

  it("believes another member's word on the holder from when that member last heard it", () => {
    const start = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 4, true)],
    ]).state;
    const word = (heardMsAgo: number): LeaseInput => ({
      type: "request",
      node: "lb2",
      epoch: 0,
      holding: false,
      holder: { node: "lb1", epoch: 4, heardMsAgo },
    });
    // lb1 died at 0; lb2 still names it at 2000, having last heard it then: it expires at TTL + grace.
    const stale = run(
      [
        [2000, word(2000)],
        [3301, { type: "tick" }],
      ],
      start,
    );
    expect(stale.effects).toContainEqual({ type: "expired", node: "lb1", epoch: 4 });
    const fresh = run(
      [
        [2000, word(0)],
        [3301, { type: "tick" }],
      ],
      start,
    );
    expect(fresh.state.holder).toBe("lb1");
  });

  it("does not take an older report over a newer holder", () => {
    const start = run([[0, ask("lb2", 7, true)]]).state;
    expect(run([[10, report("lb1", { node: "lb1", epoch: 6 })]], start).state).toMatchObject({
      holder: "lb2",
      holderEpoch: 7,
    });
  });

  it("forgets a holder that says it holds nothing", () => {
    const start = run([[0, ask("lb1", 1, true)]]).state;
    expect(run([[10, report("lb1", null)]], start).state).toMatchObject({ holder: null, last: "lb1" });
  });

  it("offers the unit only when nobody holds it and its own promise is free or for that node", () => {
    const held = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
    ]).state;
    expect(offerable(held, "lb1", 10, config)).toBe(false);
    const gone = run([[0, report("lb1", null)]], held).state;
    expect(offerable(gone, "lb1", 10, config)).toBe(true);
    expect(offerable(gone, "lb2", 10, config)).toBe(false);
    expect(offerable(gone, "lb2", 3300, config)).toBe(true);
    expect(offerable(gone, null, 3300, config)).toBe(false);
  });
});

describe("a coordinator restart", () => {
  it("promises nobody new for one TTL plus grace, renews the promise it stored, and gives the holder that long to report", () => {
    const stored = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 4, true)],
    ]).state;
    const restarted = afterRestart(JSON.parse(JSON.stringify(durable(stored))), 10_000, config);
    const withCandidates = { ...initialLease(0), ...restarted, candidates: both(0, 50) };
    const denied = step(withCandidates, ask("lb2", 5), 13_299, config);
    expect(denied.effects.at(-1)).toMatchObject({ type: "deny", reason: expect.stringMatching(/^restarted/) });
    expect(denied.state.holder).toBe("lb1");
    const renewed = step({ ...withCandidates, candidates: both(100, 50) }, ask("lb1", 4, true), 10_001, config);
    expect(renewed.effects).toEqual([{ type: "grant", node: "lb1", epoch: 4, ttlMs: 3000 }]);
    const later = step(withCandidates, ask("lb2", 5), 13_301, config);
    expect(later.effects.map((e) => e.type)).toEqual(["expired", "grant"]);
  });

  it("stores what changes with the unit, not with each renewal", () => {
    const a = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, ask("lb1", 1, true)],
    ]).state;
    const b = run([[1000, ask("lb1", 1, true)]], a).state;
    expect(b.voter.until).not.toBe(a.voter.until);
    expect(JSON.stringify(durable(b))).toBe(JSON.stringify(durable(a)));
  });
});

describe("who should hold", () => {
  it.each<[string, Partial<LeaseConfig>, number, string]>([
    ["preempt takes the VIP back", { preempt: true }, 0, "lb1"],
    ["nopreempt keeps the current holder", { preempt: false }, 0, "lb2"],
    ["preempt waits out the preempt delay", { preempt: true, preemptDelayMs: 5000 }, 1000, "lb2"],
    ["and preempts after it", { preempt: true, preemptDelayMs: 5000 }, 6000, "lb1"],
  ])("%s", (_name, cfg, after, expected) => {
    const s: LeaseState = {
      ...initialLease(0),
      holder: "lb2",
      holderEpoch: 3,
      epoch: 3,
      candidates: both(100, 50),
      eligibleSince: { lb1: 0, lb2: 0 },
    };
    expect(desiredHolder(s, after, { ...config, ...cfg })).toBe(expected);
  });

  it.each<[string, number, { weight: number; up: boolean }[], number, boolean]>([
    ["no tracks", 100, [], 100, false],
    ["a positive weight while up", 100, [{ weight: 20, up: true }], 120, false],
    ["a negative weight while down", 100, [{ weight: -60, up: false }], 40, false],
    ["a zero weight down is a fault", 100, [{ weight: 0, up: false }], 100, true],
    ["clamped to 1-254", 250, [{ weight: 20, up: true }], 254, false],
  ])("effective priority: %s", (_name, base, tracks, priority, fault) => {
    expect(effectivePriority(base, tracks)).toEqual({ priority, fault });
  });
});
