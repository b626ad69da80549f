import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterRestart,
  type Candidate,
  desiredHolder,
  effectivePriority,
  initialLease,
  type LeaseConfig,
  type LeaseEffect,
  type LeaseState,
  step,
} from "../../src/core/lease.js";

const config: LeaseConfig = { ttlMs: 3000, graceMs: 500, preempt: true, preemptDelayMs: 0 };
const both = (a: number, b: number): Candidate[] => [
  { node: "lb1", eligible: a > 0, priority: a },
  { node: "lb2", eligible: b > 0, priority: b },
];

function run(
  inputs: [number, Parameters<typeof step>[1]][],
  cfg = config,
): { state: LeaseState; effects: LeaseEffect[] } {
  let state = initialLease(0);
  const effects: LeaseEffect[] = [];
  for (const [now, input] of inputs) {
    const out = step(state, input, now, cfg);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

describe("lease reducer", () => {
  it("grants the highest priority and renews its holder", () => {
    const { state, effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [10, { type: "request", node: "lb2" }],
      [20, { type: "request", node: "lb1" }],
      [1000, { type: "request", node: "lb1" }],
    ]);
    expect(effects).toEqual([
      { type: "deny", node: "lb2", holder: null },
      { type: "moved", from: null, to: "lb1", epoch: 1 },
      { type: "grant", node: "lb1", epoch: 1, ttlMs: 3000 },
      { type: "grant", node: "lb1", epoch: 1, ttlMs: 3000 },
    ]);
    expect(state).toMatchObject({ holder: "lb1", epoch: 1, expiresAt: 4000 });
  });

  it("moves to the backup only after the dead holder's lease expired plus grace", () => {
    const { effects } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, { type: "request", node: "lb1" }],
      [100, { type: "candidates", candidates: both(0, 50) }],
      [2000, { type: "request", node: "lb2" }],
      [3200, { type: "request", node: "lb2" }],
      [3600, { type: "request", node: "lb2" }],
    ]);
    const kinds = effects.map((e) => `${e.type} ${"node" in e ? e.node : ""}`.trim());
    expect(kinds).toEqual([
      "moved",
      "grant lb1",
      "revoke lb1",
      "deny lb2",
      "expired lb1",
      "deny lb2",
      "moved",
      "grant lb2",
    ]);
    expect(effects.find((e) => e.type === "moved" && e.to === "lb2")).toEqual({
      type: "moved",
      from: "lb1",
      to: "lb2",
      epoch: 2,
    });
  });

  it("hands over at once when the old holder acknowledges its release", () => {
    const { state } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, { type: "request", node: "lb1" }],
      [100, { type: "switchover", to: "lb2" }],
      [150, { type: "release", node: "lb1", epoch: 1 }],
      [160, { type: "request", node: "lb2" }],
    ]);
    expect(state).toMatchObject({ holder: "lb2", epoch: 2, target: "lb2" });
  });

  it("keeps a switchover against preemption until its target cannot hold the group", () => {
    const pinned = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, { type: "request", node: "lb1" }],
      [100, { type: "switchover", to: "lb2" }],
      [150, { type: "release", node: "lb1", epoch: 1 }],
      [160, { type: "request", node: "lb2" }],
      [200, { type: "request", node: "lb1" }],
      [1000, { type: "request", node: "lb2" }],
    ]);
    expect(pinned.state).toMatchObject({ holder: "lb2", epoch: 2, revoking: false });
    expect(pinned.effects.filter((e) => e.type === "revoke")).toEqual([{ type: "revoke", node: "lb1", epoch: 1 }]);
    const failed = step(pinned.state, { type: "candidates", candidates: both(100, 0) }, 1100, config);
    expect(failed.state.target).toBeNull();
    expect(failed.effects).toEqual([{ type: "revoke", node: "lb2", epoch: 2 }]);
  });

  it("ignores a release for an old epoch", () => {
    const { state } = run([
      [0, { type: "candidates", candidates: both(100, 50) }],
      [0, { type: "request", node: "lb1" }],
      [100, { type: "release", node: "lb1", epoch: 0 }],
    ]);
    expect(state.holder).toBe("lb1");
  });

  it.each<[string, Partial<LeaseConfig>, number, string]>([
    ["preempt takes the VIP back", { preempt: true }, 0, "lb1"],
    ["nopreempt keeps the current holder", { preempt: false }, 0, "lb2"],
    ["preempt waits out the preempt delay", { preempt: true, preemptDelayMs: 5000 }, 1000, "lb2"],
    ["and preempts after it", { preempt: true, preemptDelayMs: 5000 }, 6000, "lb1"],
  ])("%s", (_name, cfg, after, expected) => {
    const s: LeaseState = {
      ...initialLease(0),
      holder: "lb2",
      epoch: 3,
      expiresAt: 99_999,
      candidates: both(100, 50),
      eligibleSince: { lb1: 0, lb2: 0 },
    };
    expect(desiredHolder(s, after, { ...config, ...cfg })).toBe(expected);
  });

  it("waits out a stored lease after a coordinator restart", () => {
    const stored: LeaseState = {
      ...initialLease(0),
      holder: "lb1",
      epoch: 4,
      expiresAt: 5000,
      candidates: both(100, 50),
    };
    const restarted = afterRestart(stored, 1000, config);
    expect(restarted.grantableAt).toBe(5500);
    const out = step({ ...restarted, candidates: both(0, 50) }, { type: "request", node: "lb2" }, 5200, config);
    expect(out.effects.at(-1)).toEqual({ type: "deny", node: "lb2", holder: null });
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

/**
 * A model of the protocol: agents send requests, the coordinator runs the reducer, replies
 * and revocations travel with random delays or get lost; agents crash, restart and are cut
 * off; the coordinator restarts from its stored state. An agent holds the VIP from a grant
 * until its own deadline (measured from when it sent the request, minus a margin) or until
 * told to release. At no instant may two agents hold it, and epochs may only grow.
 */
describe("lease safety under random interleavings", () => {
  const nodes = ["lb1", "lb2", "lb3"] as const;
  const MARGIN = 300;
  type Action =
    | { kind: "request"; node: number; delay: number; replyDelay: number; lost: boolean }
    | { kind: "crash" | "restart"; node: number }
    | { kind: "cut" | "heal"; node: number }
    | { kind: "candidates"; priorities: number[] }
    | { kind: "switchover"; node: number }
    | { kind: "coordinator-restart" };

  const action: fc.Arbitrary<Action> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant("request" as const),
        node: fc.nat(2),
        delay: fc.nat(800),
        replyDelay: fc.nat(800),
        lost: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constantFrom("crash" as const, "restart" as const, "cut" as const, "heal" as const),
        node: fc.nat(2),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("candidates" as const),
        priorities: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 3, maxLength: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("switchover" as const), node: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.constant({ kind: "coordinator-restart" as const }) },
  );

  it("never has two holders, and epochs only grow", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1500 }), action), { minLength: 10, maxLength: 120 }),
        fc.boolean(),
        (script, preempt) => {
          const cfg: LeaseConfig = { ...config, preempt };
          let coordinator = initialLease(0);
          const agents = nodes.map(() => ({
            alive: true,
            cut: false,
            holding: null as null | { epoch: number; deadline: number },
            maxEpoch: 0,
          }));
          type Pending = { at: number; run: (now: number) => void };
          const queue: Pending[] = [];
          let lastMoved = 0;
          let lastGrant = 0;

          const holdersAt = (now: number) =>
            agents.filter((a) => a.holding !== null && now < a.holding.deadline).length;
          const deliver = (
            now: number,
            input: Parameters<typeof step>[1],
            onEffects: (e: LeaseEffect[], at: number) => void,
          ) => {
            const out = step(coordinator, input, now, cfg);
            coordinator = out.state;
            for (const e of out.effects) {
              if (e.type === "moved") {
                expect(e.epoch).toBeGreaterThan(lastMoved);
                lastMoved = e.epoch;
              }
              if (e.type === "grant") {
                expect(e.epoch).toBeGreaterThanOrEqual(lastGrant);
                lastGrant = e.epoch;
              }
            }
            onEffects(out.effects, now);
          };
          const later = (at: number, run: (now: number) => void) => queue.push({ at, run });
          const handleEffects = (
            effects: LeaseEffect[],
            at: number,
            sentAt: Map<number, number>,
            replyDelay: number,
            lost: boolean,
          ) => {
            for (const e of effects) {
              if (e.type === "moved" || e.type === "expired") continue;
              const i = nodes.indexOf(e.node as (typeof nodes)[number]);
              if (e.type === "grant") {
                if (lost) continue;
                later(at + replyDelay, (now) => {
                  const agent = agents[i];
                  if (!agent?.alive || agent.cut || e.epoch < agent.maxEpoch) return;
                  const deadline = (sentAt.get(i) ?? now) + cfg.ttlMs - MARGIN;
                  if (deadline <= now) return;
                  agent.maxEpoch = e.epoch;
                  const others = agents.filter((a, j) => j !== i && a.holding !== null && now < a.holding.deadline);
                  expect(others, `two holders at ${now}`).toHaveLength(0);
                  agent.holding = { epoch: e.epoch, deadline };
                });
              } else if (e.type === "deny" || e.type === "revoke") {
                later(at + replyDelay, (now) => {
                  const agent = agents[i];
                  if (!agent?.alive || agent.cut || !agent.holding) return;
                  const epoch = agent.holding.epoch;
                  agent.holding = null;
                  if (e.type === "revoke")
                    queue.push({
                      at: now + replyDelay,
                      run: (t) => deliver(t, { type: "release", node: nodes[i] as string, epoch }, () => {}),
                    });
                });
              }
            }
          };

          let now = 0;
          for (const [gap, a] of script) {
            now += gap;
            // Everything due before this action happens first, in time order.
            queue.sort((x, y) => x.at - y.at);
            while (queue.length > 0 && (queue[0] as Pending).at <= now) {
              const next = queue.shift() as Pending;
              next.run(next.at);
            }
            for (const agent of agents) if (agent.holding && now >= agent.holding.deadline) agent.holding = null;
            expect(holdersAt(now)).toBeLessThanOrEqual(1);
            const agent = "node" in a ? agents[a.node] : undefined;
            switch (a.kind) {
              case "request": {
                if (!agent?.alive || agent.cut) break;
                const i = a.node;
                const sentAt = new Map([[i, now]]);
                queue.push({
                  at: now + a.delay,
                  run: (t) =>
                    deliver(t, { type: "request", node: nodes[i] as string }, (eff, at) =>
                      handleEffects(eff, at, sentAt, a.replyDelay, a.lost),
                    ),
                });
                break;
              }
              case "crash":
                // The VIP stays until the agent's own deadline: its watchdog removes it then.
                if (agent) agent.alive = false;
                break;
              case "restart":
                // A starting agent removes any VIP it finds and holds nothing.
                if (agent && !agent.alive) Object.assign(agent, { alive: true, holding: null });
                break;
              case "cut":
                if (agent) agent.cut = true;
                break;
              case "heal":
                if (agent) agent.cut = false;
                break;
              case "candidates":
                deliver(
                  now,
                  {
                    type: "candidates",
                    candidates: nodes.map((node, i) => ({
                      node,
                      eligible: (a.priorities[i] ?? 0) > 0,
                      priority: a.priorities[i] ?? 0,
                    })),
                  },
                  () => {},
                );
                break;
              case "switchover":
                deliver(now, { type: "switchover", to: nodes[a.node] as string }, () => {});
                break;
              case "coordinator-restart":
                coordinator = afterRestart(coordinator, now, cfg);
                break;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
