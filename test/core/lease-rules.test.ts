/**
 * The lease reducer's smaller rules, by tables: who should hold (priority, then name; a
 * switchover target only while eligible; preemption and its delay), what a candidates update
 * keeps, each reason a move is given, the expiry boundary, and what a fresh state holds.
 */
import { describe, expect, it } from "vitest";
import {
  afterRestart,
  type Candidate,
  desiredHolder,
  effectivePriority,
  initialLease,
  type LeaseConfig,
  type LeaseEffect,
  type LeaseInput,
  type LeaseState,
  offerable,
  step,
} from "../../src/core/lease.js";
import { runLease } from "./lease-run.js";

const config: LeaseConfig = { ttlMs: 3000, graceMs: 300, marginMs: 300, drift: 0.01, preempt: true, preemptDelayMs: 0 };
const c = (node: string, priority: number, eligible = true): Candidate => ({ node, priority, eligible });
const holds = (node: string, epoch: number): LeaseInput => ({
  type: "request",
  node,
  epoch: 0,
  holding: true,
  holder: { node, epoch },
});

const run = (inputs: [number, LeaseInput][], start = initialLease(0), cfg = config) => runLease(inputs, cfg, start);

describe("who should hold", () => {
  const state = (over: Partial<LeaseState>): LeaseState => ({ ...initialLease(0), ...over });
  it.each<[string, Partial<LeaseState>, Partial<LeaseConfig>, string | null]>([
    ["the highest priority", { candidates: [c("lb1", 50), c("lb2", 100), c("lb3", 70)] }, {}, "lb2"],
    ["on a tie, the lowest name", { candidates: [c("lb3", 100), c("lb1", 100), c("lb2", 100)] }, {}, "lb1"],
    ["on a tie, the lowest name, listed last", { candidates: [c("lb2", 100), c("lb1", 100)] }, {}, "lb1"],
    ["only an eligible one", { candidates: [c("lb1", 200, false), c("lb2", 100)] }, {}, "lb2"],
    ["nobody when none is eligible", { candidates: [c("lb1", 200, false)] }, {}, null],
    ["the switchover target while eligible", { target: "lb2", candidates: [c("lb1", 200), c("lb2", 100)] }, {}, "lb2"],
    [
      "not a target that is not eligible",
      { target: "lb2", candidates: [c("lb1", 200), c("lb2", 100, false)] },
      {},
      "lb1",
    ],
    ["not a target that is not a member", { target: "lb9", candidates: [c("lb1", 200)] }, {}, "lb1"],
    [
      "the holder, when the best has the same priority",
      { holder: "lb2", candidates: [c("lb1", 100), c("lb2", 100)], eligibleSince: { lb1: 0 } },
      {},
      "lb2",
    ],
    [
      "the best over a lower holder, with preempt",
      { holder: "lb2", candidates: [c("lb1", 101), c("lb2", 100)], eligibleSince: { lb1: 0 } },
      {},
      "lb1",
    ],
    [
      "the holder, without preempt",
      { holder: "lb2", candidates: [c("lb1", 200), c("lb2", 100)], eligibleSince: { lb1: 0 } },
      { preempt: false },
      "lb2",
    ],
    [
      "the holder, while the best waits out the preempt delay",
      { holder: "lb2", candidates: [c("lb1", 200), c("lb2", 100)], eligibleSince: { lb1: 999 } },
      { preemptDelayMs: 2 },
      "lb2",
    ],
    [
      "the best, once the preempt delay is over (to the millisecond)",
      { holder: "lb2", candidates: [c("lb1", 200), c("lb2", 100)], eligibleSince: { lb1: 998 } },
      { preemptDelayMs: 2 },
      "lb1",
    ],
    [
      "the best, eligible since now, with no delay",
      { holder: "lb2", candidates: [c("lb1", 200), c("lb2", 100)], eligibleSince: {} },
      {},
      "lb1",
    ],
    [
      "the best, when the holder is not eligible",
      { holder: "lb2", candidates: [c("lb1", 50), c("lb2", 100, false)] },
      { preempt: false },
      "lb1",
    ],
  ])("%s", (_name, over, cfg, expected) => {
    expect(desiredHolder(state(over), 1000, { ...config, ...cfg })).toBe(expected);
  });
});

describe("a candidates update", () => {
  it("keeps when each member became eligible, forgets it when it is not, and does not restart the clock", () => {
    const { state } = run([
      [100, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] }],
      [200, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50, false)] }],
      [300, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] }],
    ]);
    expect(state.eligibleSince).toEqual({ lb1: 100, lb2: 300 });
    expect(state.candidates).toEqual([c("lb1", 100), c("lb2", 50)]);
  });

  it("keeps a switchover target while it is eligible, and drops it for good once it is not", () => {
    const pinned = run([
      [0, { type: "switchover", to: "lb2" }],
      [10, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] }],
    ]).state;
    expect(pinned.target).toBe("lb2");
    const dropped = run([[20, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50, false)] }]], pinned).state;
    expect(dropped.target).toBeNull();
    const back = run([[30, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] }]], dropped).state;
    expect(back.target).toBeNull();
    const absent = run([[20, { type: "candidates", candidates: [c("lb1", 100)] }]], pinned).state;
    expect(absent.target).toBeNull();
  });
});

describe("why a move happened", () => {
  const moved = (effects: LeaseEffect[]) =>
    effects
      .filter((e): e is Extract<LeaseEffect, { type: "moved" }> => e.type === "moved")
      .map((e) => [e.to, e.reason]);
  const candidates: LeaseInput = { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] };

  it.each<[string, [number, LeaseInput][], [string, string][]]>([
    ["the first holder", [[0, holds("lb1", 1)]], [["lb1", "first holder"]]],
    [
      "a holder replaced under a higher epoch",
      [
        [0, holds("lb1", 1)],
        [10, holds("lb2", 2)],
      ],
      [
        ["lb1", "first holder"],
        ["lb2", "lb1 was replaced under a higher epoch"],
      ],
    ],
    [
      "after a release",
      [
        [0, holds("lb1", 1)],
        [10, { type: "release", node: "lb1", epoch: 1 }],
        [20, holds("lb2", 2)],
      ],
      [
        ["lb1", "first holder"],
        ["lb2", "lb1 released it"],
      ],
    ],
    [
      "after an expiry",
      [
        [0, holds("lb1", 1)],
        [3301, holds("lb2", 2)],
      ],
      [
        ["lb1", "first holder"],
        ["lb2", "lb1's lease expired: it stopped answering"],
      ],
    ],
    [
      "a switchover",
      [
        [0, holds("lb1", 1)],
        [5, { type: "switchover", to: "lb2" }],
        [10, { type: "release", node: "lb1", epoch: 1 }],
        [20, holds("lb2", 2)],
      ],
      [
        ["lb1", "first holder"],
        ["lb2", "the operator's switchover"],
      ],
    ],
  ])("%s", (_name, inputs, reasons) => {
    expect(moved(run([[0, candidates], ...inputs]).effects)).toEqual(reasons);
  });

  it("says how long after the previous holder's last word the move was seen", () => {
    const { effects } = run([
      [0, candidates],
      [1000, holds("lb1", 1)],
      [1700, holds("lb2", 2)],
    ]);
    expect(effects.filter((e) => e.type === "moved").map((e) => e.type === "moved" && e.afterMs)).toEqual([null, 700]);
  });
});

describe("the reducer's edges", () => {
  it("starts with nobody holding, nothing asked, no candidates", () => {
    expect(initialLease(0)).toEqual({
      voter: { to: null, epoch: 0, until: 0, quietUntil: 0 },
      epoch: 0,
      holder: null,
      holderEpoch: 0,
      reportedAt: 0,
      revoking: false,
      target: null,
      last: null,
      lastExpired: false,
      candidates: [],
      eligibleSince: {},
    });
  });

  it("believes a holder for exactly one TTL and grace after its last word", () => {
    const start = run([[0, holds("lb1", 1)]]).state;
    expect(run([[3300, { type: "tick" }]], start).state.holder).toBe("lb1");
    const gone = run([[3301, { type: "tick" }]], start);
    expect(gone.state).toMatchObject({ holder: null, last: "lb1", lastExpired: true, revoking: false });
    expect(gone.effects).toEqual([{ type: "expired", node: "lb1", epoch: 1 }]);
  });

  it("a holder that says it holds nothing is gone, not expired", () => {
    const start = run([[0, holds("lb1", 1)]]).state;
    const { state } = run([[10, { type: "request", node: "lb1", epoch: 0, holding: false, holder: null }]], start);
    expect(state).toMatchObject({ holder: null, last: "lb1", lastExpired: false, revoking: false });
  });

  it("refuses a request when no member may hold the unit, and says so", () => {
    const { effects } = run([
      [0, { type: "candidates", candidates: [c("lb1", 100, false)] }],
      [10, { type: "request", node: "lb1", epoch: 1, holding: false, holder: null }],
    ]);
    expect(effects).toEqual([{ type: "deny", node: "lb1", reason: "no member may hold it now", epoch: 1 }]);
  });

  it("asks a holder to release once, however many times it renews in the same step", () => {
    const start = run([
      [0, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] }],
      [0, { type: "request", node: "lb1", epoch: 1, holding: true, holder: { node: "lb1", epoch: 1 } }],
    ]).state;
    const out = step(start, { type: "switchover", to: "lb2" }, 10, config);
    expect(out.effects).toEqual([{ type: "revoke", node: "lb1", epoch: 1 }]);
    const renew = step(
      out.state,
      { type: "request", node: "lb1", epoch: 1, holding: true, holder: { node: "lb1", epoch: 1 } },
      20,
      config,
    );
    expect(renew.effects.filter((e) => e.type === "revoke")).toHaveLength(1);
  });

  it("takes another member's word on a holder it lost from sight, but not a word for an older epoch or another node", () => {
    const lost = run([
      [0, holds("lb1", 4)],
      [4000, { type: "tick" }],
    ]).state;
    expect(lost).toMatchObject({ holder: null, last: "lb1", lastExpired: true });
    const word = (node: string, epoch: number): LeaseInput => ({
      type: "request",
      node: "lb2",
      epoch: 0,
      holding: false,
      holder: { node, epoch, heardMsAgo: 0 },
    });
    expect(run([[4010, word("lb1", 4)]], lost).state).toMatchObject({ holder: "lb1", holderEpoch: 4 });
    expect(run([[4010, word("lb1", 3)]], lost).state.holder).toBeNull();
    expect(run([[4010, word("lb3", 4)]], lost).state.holder).toBeNull();
  });
});

describe("keepalived's track weights", () => {
  it.each<[string, { weight: number; up: boolean }[], number, boolean]>([
    ["a positive weight while down adds nothing", [{ weight: 20, up: false }], 100, false],
    ["a negative weight while up takes nothing", [{ weight: -20, up: true }], 100, false],
    ["a zero weight up is no fault", [{ weight: 0, up: true }], 100, false],
    [
      "several add up",
      [
        { weight: 20, up: true },
        { weight: -30, up: false },
        { weight: 5, up: true },
      ],
      95,
      false,
    ],
    ["clamped to at least 1", [{ weight: -200, up: false }], 1, false],
  ])("%s", (_name, tracks, priority, fault) => {
    expect(effectivePriority(100, tracks)).toEqual({ priority, fault });
  });
});

describe("what the reducer keeps and forgets", () => {
  const word = (from: string, node: string, epoch: number): LeaseInput => ({
    type: "request",
    node: from,
    epoch: 0,
    holding: false,
    holder: { node, epoch, heardMsAgo: 0 },
  });

  it("forgets the candidates on a restart, and hears the stored holder from then", () => {
    const held = run([
      [0, { type: "candidates", candidates: [c("lb1", 100)] }],
      [0, holds("lb1", 3)],
    ]).state;
    const restarted = afterRestart(held, 5000, config);
    expect(restarted).toMatchObject({ candidates: [], holder: "lb1", holderEpoch: 3, reportedAt: 5000 });
  });

  it("clears the holder only on its own release under its own epoch", () => {
    const held = run([[0, holds("lb1", 3)]]).state;
    expect(run([[10, { type: "release", node: "lb2", epoch: 3 }]], held).state.holder).toBe("lb1");
    expect(run([[10, { type: "release", node: "lb1", epoch: 2 }]], held).state.holder).toBe("lb1");
    expect(run([[10, { type: "release", node: "lb1", epoch: 3 }]], held).state).toMatchObject({
      holder: null,
      last: "lb1",
      lastExpired: false,
    });
  });

  it("asks a holder that renews in the very step it should go to release once, and denies the renewal", () => {
    const start = run(
      [
        [0, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 200)] }],
        [0, holds("lb1", 1)],
      ],
      initialLease(0),
      { ...config, preemptDelayMs: 2000 },
    ).state;
    const renew: LeaseInput = {
      type: "request",
      node: "lb1",
      epoch: 1,
      holding: true,
      holder: { node: "lb1", epoch: 1 },
    };
    const early = step(start, renew, 1000, { ...config, preemptDelayMs: 2000 });
    expect(early.effects.map((e) => e.type)).toEqual(["grant"]);
    const due = step(early.state, renew, 2500, { ...config, preemptDelayMs: 2000 });
    expect(due.effects).toEqual([
      { type: "revoke", node: "lb1", epoch: 1 },
      { type: "deny", node: "lb1", reason: "asked to release", epoch: 1 },
    ]);
  });

  it("keeps the holder against a word for an older epoch, or for another node under its epoch", () => {
    const held = run([
      [0, holds("lb1", 5)],
      [10, holds("lb2", 6)],
    ]).state;
    expect(run([[20, word("lb3", "lb1", 5)]], held).state).toMatchObject({ holder: "lb2", holderEpoch: 6 });
    expect(run([[20, word("lb3", "lb1", 6)]], held).state).toMatchObject({ holder: "lb2", holderEpoch: 6 });
    // A stale word on the holder itself neither lowers its epoch nor counts as hearing it.
    expect(run([[2000, word("lb3", "lb2", 5)]], held).state).toMatchObject({
      holder: "lb2",
      holderEpoch: 6,
      reportedAt: 10,
    });
  });

  it("remembers the holder before a move as the last one, released or replaced", () => {
    expect(
      run([
        [0, holds("lb1", 1)],
        [10, { type: "release", node: "lb1", epoch: 1 }],
        [20, holds("lb2", 2)],
      ]).state,
    ).toMatchObject({ holder: "lb2", last: "lb1" });
    expect(
      run([
        [0, holds("lb1", 1)],
        [10, holds("lb2", 2)],
      ]).state,
    ).toMatchObject({ holder: "lb2", last: "lb1" });
  });

  it("takes a member that says it holds without naming a holder as the holder", () => {
    const { state } = run([[100, { type: "request", node: "lb1", epoch: 2, holding: true, holder: null }]]);
    expect(state).toMatchObject({ holder: "lb1", holderEpoch: 2, reportedAt: 100 });
  });

  it("after a release, takes no other member's word on the old holder, even one that says it holds", () => {
    const released = run([
      [0, holds("lb1", 4)],
      [10, { type: "release", node: "lb1", epoch: 4 }],
    ]).state;
    const claims: LeaseInput = {
      type: "request",
      node: "lb2",
      epoch: 0,
      holding: true,
      holder: { node: "lb1", epoch: 4 },
    };
    expect(run([[20, claims]], released).state.holder).toBeNull();
    expect(run([[20, word("lb2", "lb1", 4)]], released).state.holder).toBeNull();
  });

  it("asks a holder it lost and then heard of again to release, when it should not hold any more", () => {
    const lost = run([
      [0, { type: "candidates", candidates: [c("lb1", 100), c("lb2", 50)] }],
      [0, holds("lb1", 4)],
      [4000, { type: "tick" }],
      [4005, { type: "candidates", candidates: [c("lb1", 100, false), c("lb2", 50)] }],
    ]).state;
    expect(lost).toMatchObject({ holder: null, last: "lb1", lastExpired: true, revoking: false });
    const heard = step(lost, word("lb2", "lb1", 4), 4010, config);
    expect(heard.state).toMatchObject({ holder: "lb1", revoking: true });
    expect(heard.effects.filter((e) => e.type === "revoke")).toEqual([{ type: "revoke", node: "lb1", epoch: 4 }]);
  });
});

describe("when the coordinator offers the unit", () => {
  const base = initialLease(0);
  const voter = (v: Partial<LeaseState["voter"]>): LeaseState => ({ ...base, voter: { ...base.voter, ...v } });
  it.each<[string, LeaseState, string | null, number, boolean]>([
    ["to nobody", base, null, 0, false],
    ["not while someone holds it", { ...base, holder: "lb2" }, "lb1", 0, false],
    ["to the desired node when nothing is promised", base, "lb1", 0, true],
    ["not during the quiet time after a restart", voter({ quietUntil: 1000 }), "lb1", 999, false],
    ["once the quiet time is over, to the millisecond", voter({ quietUntil: 1000 }), "lb1", 1000, true],
    ["to the node it promised", voter({ to: "lb1", epoch: 2, until: 3000 }), "lb1", 100, true],
    ["not to another node while a promise runs", voter({ to: "lb2", epoch: 2, until: 3000 }), "lb1", 100, false],
    ["not before the promise's grace is over", voter({ to: "lb2", epoch: 2, until: 3000 }), "lb1", 3299, false],
    ["once the promise and its grace are over", voter({ to: "lb2", epoch: 2, until: 3000 }), "lb1", 3300, true],
    ["at once after the promised node released it", voter({ to: null, epoch: 2, until: 3000 }), "lb1", 100, true],
  ])("%s", (_name, state, node, now, expected) => {
    expect(offerable(state, node, now, config)).toBe(expected);
  });
});
