import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CountedVote, firstStaleAt, heldAfterRestart, required, verdict } from "../../src/core/quorum.js";
import type { VoteState } from "../../src/core/vote.js";

const NOW = 1_000_000;
const observers = (n: number) => Array.from({ length: n }, (_, i) => `region:r${i}`);
const votes = (states: VoteState[], age = 0): CountedVote[] =>
  states.map((state, i) => ({ observer: `region:r${i}`, state, receivedAt: NOW - age }));
const policy = (n: number, quorum: "majority" | "all" | number) => ({
  eligible: observers(n),
  quorum,
  maxAgeMs: 15_000,
});

describe("required", () => {
  it.each<["majority" | "all" | number, number, number]>([
    [1, 3, 1],
    [2, 3, 2],
    [3, 3, 3],
    [2, 5, 2],
    ["majority", 4, 3],
    ["majority", 3, 2],
    ["majority", 1, 1],
    ["all", 5, 5],
    [7, 3, 3],
  ])("quorum %s of %i observers needs %i", (quorum, n, need) => {
    expect(required(quorum, n)).toBe(need);
  });
});

describe("verdict", () => {
  it.each<[string, number, "majority" | "all" | number, VoteState[], VoteState, VoteState]>([
    ["1 of 3: one down vote is enough", 3, 1, ["down", "up", "up"], "up", "down"],
    ["2 of 3: one down vote is not", 3, 2, ["down", "up", "up"], "up", "up"],
    ["2 of 3: two down votes are", 3, 2, ["down", "down", "up"], "up", "down"],
    ["3 of 3: two down votes are not", 3, 3, ["down", "down", "up"], "up", "up"],
    ["3 of 3: three down votes are", 3, 3, ["down", "down", "down"], "up", "down"],
    ["3 of 3: two up votes do not bring it back", 3, 3, ["up", "up", "down"], "down", "down"],
    ["2 of 5: two down votes are enough", 5, 2, ["down", "down", "up", "up", "up"], "up", "down"],
    ["majority of 4: two down votes are not", 4, "majority", ["down", "down", "up", "up"], "up", "up"],
    [
      "majority of 4: two down votes do not bring it up either",
      4,
      "majority",
      ["down", "down", "up", "up"],
      "down",
      "down",
    ],
    ["majority of 4: three down votes are", 4, "majority", ["down", "down", "down", "up"], "up", "down"],
    ["majority of 3: two up votes bring it back", 3, "majority", ["up", "up", "down"], "down", "up"],
    ["degraded from a quorum", 3, "majority", ["degraded", "degraded", "up"], "up", "degraded"],
    ["degraded counts as healthy", 3, "majority", ["degraded", "up", "down"], "down", "up"],
    ["unknown votes are not fresh", 3, "majority", ["unknown", "unknown", "down"], "up", "unknown"],
  ])("%s", (_name, n, quorum, states, previous, expected) => {
    expect(verdict(votes(states), policy(n, quorum), previous, NOW).state).toBe(expected);
  });

  it("ignores stale votes and gives unknown when too few are fresh", () => {
    const stale = [...votes(["down", "down"], 20_000), ...votes(["up"]).map((v) => ({ ...v, observer: "region:r2" }))];
    expect(verdict(stale, policy(3, "majority"), "up", NOW)).toMatchObject({ state: "unknown", fresh: 1, required: 2 });
  });

  it("counts a vote exactly at the age limit as fresh", () => {
    expect(verdict(votes(["down", "down", "down"], 15_000), policy(3, "majority"), "up", NOW).state).toBe("down");
  });

  it("ignores observers that are not eligible", () => {
    const outsiders = votes(["down", "down", "down"]).map((v, i) => ({ ...v, observer: `agent:x${i}` }));
    expect(verdict(outsiders, policy(3, "majority"), "up", NOW).state).toBe("unknown");
  });

  it("never flips on fewer than the quorum of fresh votes", () => {
    const vote = fc.record({
      state: fc.constantFrom<VoteState>("up", "down", "degraded", "unknown"),
      age: fc.integer({ min: 0, max: 30_000 }),
      observer: fc.integer({ min: 0, max: 6 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.oneof(fc.constant("majority" as const), fc.constant("all" as const), fc.integer({ min: 1, max: 6 })),
        fc.array(vote, { maxLength: 12 }),
        fc.constantFrom<VoteState>("up", "down", "degraded", "unknown"),
        (n, quorum, raw, previous) => {
          const p = policy(n, quorum);
          // One current vote per observer, as the coordinator keeps them.
          const latest = new Map(raw.map((v) => [v.observer, v]));
          const counted = [...latest.values()].map((v) => ({
            observer: `region:r${v.observer}`,
            state: v.state,
            receivedAt: NOW - v.age,
          }));
          const result = verdict(counted, p, previous, NOW);
          const fresh = counted.filter(
            (v) => p.eligible.includes(v.observer) && v.state !== "unknown" && NOW - v.receivedAt <= p.maxAgeMs,
          );
          const need = required(quorum, n);
          if (result.state === "unknown") expect(fresh.length < need || previous === "unknown").toBe(true);
          if (result.state !== previous && result.state !== "unknown") {
            const agreeing = fresh.filter((v) => (result.state === "down" ? v.state === "down" : v.state !== "down"));
            expect(agreeing.length).toBeGreaterThanOrEqual(need);
          }
        },
      ),
    );
  });
});

describe("heldAfterRestart", () => {
  // Started at 1000; votes live 30 s.
  const held = (computed: VoteState, stored: VoteState, now: number) =>
    heldAfterRestart(computed, stored, 1000, now, 30_000);

  it.each([
    // A restarted coordinator has no votes yet: the stored verdict holds for one vote lifetime.
    ["unknown", "down", 1000, "down"],
    ["unknown", "up", 31_000, "up"],
    // Past it, too few fresh votes mean unknown, as always.
    ["unknown", "up", 31_001, "unknown"],
    // Fresh votes that reach a quorum decide at once, either way.
    ["up", "down", 1500, "up"],
    ["down", "up", 1500, "down"],
    ["degraded", "up", 1500, "degraded"],
    // Nothing stored: nothing to hold.
    ["unknown", "unknown", 1500, "unknown"],
  ] as const)("computed %s, stored %s, at %d: %s", (computed, stored, now, expected) => {
    expect(held(computed, stored, now)).toBe(expected);
  });
});

describe("firstStaleAt", () => {
  const vote = (observer: string, state: VoteState, age: number): CountedVote => ({
    observer,
    state,
    receivedAt: NOW - age,
  });

  it.each<[string, CountedVote[], number | null]>([
    ["no votes", [], null],
    [
      "the oldest counted vote's age limit, and a millisecond",
      [vote("region:r0", "up", 1000), vote("region:r1", "down", 5000)],
      NOW - 5000 + 15_001,
    ],
    ["an unknown vote does not count", [vote("region:r0", "unknown", 9000), vote("region:r1", "up", 0)], NOW + 15_001],
    ["nor an observer that is not eligible", [vote("agent:x", "up", 9000), vote("region:r1", "up", 0)], NOW + 15_001],
    ["a vote already stale does not wait", [vote("region:r0", "up", 16_000), vote("region:r1", "up", 0)], NOW + 15_001],
    ["a vote exactly at the limit is still fresh", [vote("region:r0", "up", 15_000)], NOW + 1],
    ["all stale: nothing more to wait for", [vote("region:r0", "up", 15_001)], null],
  ])("%s", (_name, votes, expected) => {
    expect(firstStaleAt(votes, policy(3, "majority"), NOW)).toBe(expected);
  });

  it("is the first time the verdict can change without a new vote", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            observer: fc.integer({ min: 0, max: 3 }),
            state: fc.constantFrom<VoteState>("up", "down", "degraded", "unknown"),
            age: fc.integer({ min: 0, max: 20_000 }),
          }),
          { maxLength: 6 },
        ),
        fc.constantFrom<VoteState>("up", "down", "unknown"),
        (drawn, previous) => {
          const votes = drawn.map((d) => vote(`region:r${d.observer}`, d.state, d.age));
          const p = policy(3, "majority");
          const at = firstStaleAt(votes, p, NOW);
          const now = verdict(votes, p, previous, NOW);
          // Up to just before it, the verdict (from the same previous state) is the one computed now.
          const until = at === null ? NOW + 30_000 : at - 1;
          for (const t of [NOW, Math.floor((NOW + until) / 2), until])
            expect(verdict(votes, p, previous, t)).toEqual(now);
        },
      ),
    );
  });
});
