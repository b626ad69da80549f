import { describe, expect, it } from "vitest";
import {
  answer,
  COORDINATOR,
  DRIFT,
  freshVoter,
  heldUntil,
  type MajorityConfig,
  marginMs,
  promiseDeadline,
  RULES,
  type Rules,
  released,
  statusQuoChoice,
  voterAfterStart,
  votersOf,
} from "../../src/core/majority.js";
import { seeds, underMutation } from "../shared/seeds.js";
import { simulate } from "./majority-sim.js";

const config: MajorityConfig = { ttlMs: 1000, graceMs: 300, marginMs: 100, drift: DRIFT };
const ok = { ok: true as const };

describe("who votes", () => {
  it.each([
    [["lb1"], ["lb1"], 1],
    [["lb1", "lb2"], ["lb1", "lb2", COORDINATOR], 2],
    [["lb1", "lb2", "lb3"], ["lb1", "lb2", "lb3"], 2],
    [["lb1", "lb2", "lb3", "lb4"], ["lb1", "lb2", "lb3", "lb4", COORDINATOR], 3],
  ])("with members %j: voters %j, majority %i", (members, voters, majority) => {
    expect(votersOf(members, "quorum")).toEqual({ voters, majority });
  });

  it("leaves release and hold to the coordinator alone", () => {
    expect(votersOf(["lb1", "lb2"], "release")).toEqual({ voters: [COORDINATOR], majority: 1 });
    expect(votersOf(["lb1", "lb2", "lb3"], "hold")).toEqual({ voters: [COORDINATOR], majority: 1 });
  });
});

describe("a voter", () => {
  it("promises one candidate at a time, renews it, and takes another only after expiry plus grace", () => {
    let v = freshVoter();
    const first = answer(v, { candidate: "lb1", epoch: 1 }, ok, 0, config);
    expect(first.answer).toEqual({ granted: true, epoch: 1, ttlMs: 1000 });
    v = first.state;
    expect(answer(v, { candidate: "lb2", epoch: 2 }, ok, 500, config).answer).toEqual({
      granted: false,
      reason: "promised to lb1 (epoch 1)",
      epoch: 1,
      to: "lb1",
    });
    v = answer(v, { candidate: "lb1", epoch: 1 }, ok, 900, config).state;
    expect(v.until).toBe(1900);
    expect(answer(v, { candidate: "lb2", epoch: 2 }, ok, 2199, config).answer.granted).toBe(false);
    expect(answer(v, { candidate: "lb2", epoch: 2 }, ok, 2200, config).answer.granted).toBe(true);
  });

  it("needs a higher epoch for anyone new, and the policy's consent", () => {
    const v = answer(freshVoter(), { candidate: "lb1", epoch: 4 }, ok, 0, config).state;
    const free = released(v, { candidate: "lb1", epoch: 4 });
    expect(free.to).toBeNull();
    expect(answer(free, { candidate: "lb2", epoch: 4 }, ok, 10, config).answer).toMatchObject({
      granted: false,
      reason: "epoch 4 is not above 4",
    });
    expect(answer(free, { candidate: "lb1", epoch: 4 }, ok, 10, config).answer.granted).toBe(false);
    const refused = answer(free, { candidate: "lb2", epoch: 5 }, { ok: false, reason: "lb1 should hold" }, 10, config);
    expect(refused.answer).toMatchObject({ granted: false, reason: "lb1 should hold" });
    expect(answer(free, { candidate: "lb2", epoch: 5 }, ok, 10, config).answer.granted).toBe(true);
  });

  it("renews its live promise whatever the policy says now", () => {
    const v = answer(freshVoter(), { candidate: "lb1", epoch: 1 }, ok, 0, config).state;
    expect(
      answer(v, { candidate: "lb1", epoch: 1 }, { ok: false, reason: "lb2 should hold" }, 300, config).answer,
    ).toEqual({ granted: true, epoch: 1, ttlMs: 1000 });
  });

  it("ignores a release for another candidate or epoch", () => {
    const v = answer(freshVoter(), { candidate: "lb1", epoch: 3 }, ok, 0, config).state;
    expect(released(v, { candidate: "lb1", epoch: 2 })).toBe(v);
    expect(released(v, { candidate: "lb2", epoch: 3 })).toBe(v);
  });

  it("after a restart promises nobody new for one TTL plus grace, but renews what it kept on disk", () => {
    const v = voterAfterStart(10_000, config, { to: "lb1", epoch: 7 });
    expect(answer(v, { candidate: "lb2", epoch: 8 }, ok, 11_299, config).answer).toMatchObject({
      granted: false,
      reason: "restarted: promises nothing new for 1 ms",
    });
    expect(answer(v, { candidate: "lb1", epoch: 7 }, ok, 10_001, config).answer.granted).toBe(true);
    expect(answer(v, { candidate: "lb2", epoch: 8 }, ok, 11_300, config).answer.granted).toBe(true);
  });
});

describe("a candidate", () => {
  it("counts a promise from when it asked, shortened for drift and the margin", () => {
    // 1000 * 0.99 / 1.01 = 980.19..., less the 100 ms margin.
    expect(promiseDeadline(5000, 1000, config)).toBe(5000 + 980 - 100);
    expect(marginMs(1000)).toBe(100);
    expect(marginMs(600)).toBe(100);
    expect(marginMs(3000)).toBe(300);
    expect(marginMs(60_000)).toBe(500);
  });

  it("holds while a majority of unexpired promises for its epoch cover it", () => {
    const promises = [
      { voter: "lb1", epoch: 2, deadline: 900 },
      { voter: "lb2", epoch: 2, deadline: 700 },
      { voter: COORDINATOR, epoch: 1, deadline: 5000 },
    ];
    expect(heldUntil(promises, 2, 2, 0)).toBe(700);
    expect(heldUntil(promises, 2, 2, 699)).toBe(700);
    expect(heldUntil(promises, 2, 2, 700)).toBeNull();
    expect(heldUntil(promises, 2, 1, 700)).toBe(900);
    expect(heldUntil(promises, 1, 2, 0)).toBeNull();
  });
});

describe("the status quo without the coordinator", () => {
  const peer = (node: string, over: Partial<Parameters<typeof statusQuoChoice>[0][number]> = {}) => ({
    node,
    eligible: true,
    priority: 100,
    holding: false,
    epoch: 1,
    heardAt: 1000,
    ...over,
  });

  it("keeps a live holder, whoever has a higher priority", () => {
    expect(statusQuoChoice([peer("lb1", { priority: 200 }), peer("lb2", { holding: true })], 1500, 1000)).toBe("lb2");
  });

  it("with no holder, picks the best eligible member heard within one TTL", () => {
    const peers = [
      peer("lb1", { priority: 200, heardAt: 0 }),
      peer("lb2", { priority: 150, eligible: false }),
      peer("lb3", { priority: 50 }),
      peer("lb4", { priority: 50 }),
    ];
    expect(statusQuoChoice(peers, 1500, 1000)).toBe("lb3");
    expect(statusQuoChoice([peer("lb1", { eligible: false })], 1500, 1000)).toBeNull();
  });
});

describe("never two holders, on a simulated network", () => {
  // Generous drift in the model (5%) and no grace or margin: the drift arithmetic alone must hold.
  const bare: MajorityConfig = { ttlMs: 1000, graceMs: 0, marginMs: 0, drift: 0.05 };
  const SEEDS = seeds(300);
  const run = (cfg: MajorityConfig, rules: Rules = RULES, seeds = SEEDS) => {
    const totals = { handovers: 0, crashes: 0, grants: 0 };
    for (let seed = 1; seed <= seeds; seed++) {
      const r = simulate({ seed, members: 1 + (seed % 4), config: cfg, rules });
      if (r.violation) return { seed, violation: r.violation, totals };
      totals.handovers += r.handovers;
      totals.crashes += r.crashes;
      totals.grants += r.grants;
    }
    return { seed: null, violation: null, totals };
  };

  it("holds for loss, delay, duplication, reordering, cuts, crashes, restarts and drifting clocks", () => {
    const out = run(bare);
    expect(out.violation, `seed ${out.seed}`).toBeNull();
    // The runs did move the unit around, through crashes and restarts.
    expect(out.totals.handovers).toBeGreaterThan(SEEDS);
    expect(out.totals.crashes).toBeGreaterThan(seeds(1000));
  }, 60_000);

  it("holds when the coordinator alone grants (release and hold)", () => {
    for (let seed = 1; seed <= seeds(100); seed++)
      expect(simulate({ seed, members: 1 + (seed % 3), config: bare, policy: "release" }).violation).toBeNull();
  }, 60_000);

  it("holds with the production grace, margin and drift bound", () => {
    expect(run({ ...config, drift: DRIFT }, RULES, seeds(100)).violation).toBeNull();
  }, 60_000);

  // Each rule safety rests on, broken on purpose: the same runs must find two holders.
  const mutants: [string, Rules][] = [
    ["a voter promising two candidates at once", { ...RULES, free: () => true }],
    ["a holder ignoring the drift margin", { ...RULES, deadline: (sentAt, ttl, c) => sentAt + ttl - c.marginMs }],
    ["a restarted voter promising at once", { ...RULES, quietUntil: (now) => now }],
    ["a holder counting an expired promise", { ...RULES, counts: (p, now) => now < p.deadline + 250 }],
  ];
  // These show the simulation's power to find a broken rule; under the mutation run (where the
  // mutants are the tool's, and each of these takes seconds per mutant) they do not run.
  for (const [name, rules] of mutants) {
    it.skipIf(underMutation)(
      `catches ${name}`,
      () => {
        const out = run(bare, rules, 500);
        expect(out.violation).toMatch(/^two holders/);
      },
      60_000,
    );
  }
});
