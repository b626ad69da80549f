/**
 * The quick check for vote batches (`isPlainVoteBatch`) never accepts what `VoteBatch` refuses
 * or would change, and accepts the batches probers and agents send.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlainVoteBatch, parseVoteBatch, VOTE_STATES, VoteBatch } from "../../src/core/vote.js";

/** Values at and past every edge the schema has, and of every type. */
const edgy = fc.oneof(
  fc.constantFrom(
    -1,
    -0,
    0,
    1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    100_000,
    100_001,
    null,
    undefined,
    true,
    "",
    "x",
    "up",
    "sideways",
    "a".repeat(200),
    "a".repeat(201),
    "e".repeat(300),
    "e".repeat(301),
    "region:weur",
    "agent:lb1",
    "agent:",
    "peer:lb1",
    [],
    {},
  ),
  fc.anything(),
);

const vote = fc.record(
  {
    target: fc.string({ minLength: 1, maxLength: 200 }),
    state: fc.constantFrom(...VOTE_STATES),
    since: fc.nat(),
    latencyMs: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null }),
    error: fc.option(fc.string({ maxLength: 300 }), { nil: null }),
    probes: fc.nat(),
    failures: fc.nat(),
  },
  { noNullPrototype: true },
);

const batch = fc.record(
  {
    observer: fc.constantFrom("region:weur", "agent:lb1", "agent:a.b-c_d"),
    shard: fc.nat({ max: 100_000 }),
    seq: fc.nat(),
    heartbeat: fc.boolean(),
    votes: fc.array(vote, { maxLength: 5 }),
  },
  { requiredKeys: ["observer", "seq", "heartbeat", "votes"], noNullPrototype: true },
);

/** One change to a batch or to one of its votes: a value replaced, a key dropped or added. */
const mutated = fc
  .tuple(
    batch,
    fc.boolean(),
    fc.constantFrom(
      "observer",
      "shard",
      "seq",
      "heartbeat",
      "votes",
      "target",
      "state",
      "since",
      "latencyMs",
      "error",
      "probes",
      "failures",
      "extra",
    ),
    fc.constantFrom("replace", "delete"),
    edgy,
  )
  .map(([b, inVote, key, how, value]) => {
    const copy = structuredClone(b) as Record<string, unknown>;
    const votes = copy.votes as Record<string, unknown>[];
    const where = inVote && votes.length > 0 ? (votes[0] as Record<string, unknown>) : copy;
    if (how === "delete") delete where[key];
    else where[key] = value;
    return copy;
  });

describe("vote batches", () => {
  it("passes every well-formed batch quickly, as VoteBatch has it", () => {
    fc.assert(
      fc.property(batch, (b) => {
        expect(isPlainVoteBatch(b)).toBe(true);
        expect(VoteBatch.parse(b)).toEqual(b);
      }),
    );
  });

  it("passes nothing that VoteBatch refuses or would change", () => {
    fc.assert(
      fc.property(mutated, (b) => {
        if (!isPlainVoteBatch(b)) return;
        const zod = VoteBatch.safeParse(b);
        expect(zod.success).toBe(true);
        expect(zod.data).toEqual(b);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ["a class instance", new (class Batch {})()],
    [
      "a null-prototype object",
      Object.assign(Object.create(null), { observer: "agent:lb1", seq: 1, heartbeat: true, votes: [] }),
    ],
    ["an undefined shard", { observer: "agent:lb1", shard: undefined, seq: 1, heartbeat: true, votes: [] }],
    [
      "an infinite latency",
      {
        observer: "agent:lb1",
        seq: 1,
        heartbeat: true,
        votes: [
          {
            target: "t",
            state: "up",
            since: 0,
            latencyMs: Number.POSITIVE_INFINITY,
            error: null,
            probes: 0,
            failures: 0,
          },
        ],
      },
    ],
  ])("leaves %s to zod", (_, raw) => {
    expect(isPlainVoteBatch(raw)).toBe(false);
  });

  it("names what is wrong through zod when the quick check does not pass", () => {
    const refused = parseVoteBatch({ observer: "agent:lb1", seq: -1, heartbeat: true, votes: [] });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(["seq"]);
    const passed = { observer: "agent:lb1", seq: 1, heartbeat: true, votes: [] };
    expect(parseVoteBatch(passed)).toEqual({ success: true, data: passed });
  });
});
