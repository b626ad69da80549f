/**
 * The quick check (src/core/quick-check.ts) passes the messages Vigil sends most, and never a
 * value its zod schema refuses or would return changed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { Envelope } from "../../src/core/envelope.js";
import { Cidr, IpAddress } from "../../src/core/primitives.js";
import { quickCheck, quickParse } from "../../src/core/quick-check.js";
import { VOTE_STATES, VoteBatch } from "../../src/core/vote.js";
import { claim } from "../shared/envelope-cases.js";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const envelope = (command: Envelope["command"], seq = 7): Envelope => ({
  v: 1,
  kid: "agent:lb1",
  cluster: "classic-lvs",
  agent: "lb1",
  id: `m-${seq}`,
  seq,
  epoch: 3,
  issuedAt: NOW,
  notAfter: NOW + 10_000,
  command,
});
const vote = {
  target: "web/web1",
  state: "up",
  since: NOW,
  latencyMs: 1.5,
  error: null,
  probes: 9,
  failures: 0,
} as const;

/** What agents and the coordinator send each other most, one of each. */
const COMMON: [string, Envelope][] = [
  ["votes", envelope({ type: "votes", heartbeat: true, votes: [vote, { ...vote, state: "down", error: "refused" }] })],
  [
    "lease.request",
    envelope({
      type: "lease.request",
      group: "VI_1",
      epoch: 3,
      holding: true,
      holder: { node: "lb1", epoch: 3, heardMsAgo: 20 },
      promises: [{ voter: "lb2", remainingMs: 2500 }],
    }),
  ],
  ["lease.released", envelope({ type: "lease.released", group: "VI_1", leaseEpoch: 3 })],
  ["ack", envelope({ type: "ack", of: "m-1", ok: true, error: null, result: { pong: "n-1", nested: { a: [1] } } })],
  ["ack without a result", envelope({ type: "ack", of: "m-1", ok: false, error: "REPLAY", result: null })],
  ["hello", envelope({ type: "hello", nonce: "n".repeat(16), hostActions: "show", pinned: ["coord-1"] })],
  ["ping", envelope({ type: "ping", nonce: "n-1" })],
  ["lease.answer", envelope({ type: "lease.answer", group: "VI_1", request: "lb1-7", reason: null, epoch: 3 })],
];

/** Values at and past the edges schemas have, and of every type. */
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
    "VI_1",
    "a".repeat(64),
    "a".repeat(65),
    "a".repeat(201),
    "e".repeat(301),
    "region:weur",
    "agent:",
    "ack",
    "votes",
    [],
    {},
    [1, 2],
  ),
  fc.anything(),
);

type Tree = Record<string, unknown> | unknown[];
/** Every object and array in a value, with the path to it. */
function containers(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; node: Tree }[] {
  if (typeof value !== "object" || value === null) return [];
  const node = value as Tree;
  const children = Array.isArray(node) ? node.map((v, i) => [i, v] as const) : Object.entries(node);
  return [{ path, node }, ...children.flatMap(([k, v]) => containers(v, [...path, k]))];
}

/** One change somewhere in `value`: a value replaced, a key or element dropped, or one added. */
const mutation = (value: unknown) =>
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom("replace", "delete", "add"),
      edgy,
      fc.constantFrom("extra", "type", "v", "seq"),
    )
    .map(([at, which, how, replacement, newKey]) => {
      const copy = structuredClone(value);
      const all = containers(copy);
      const { node } = all[at % all.length] as { node: Tree };
      const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
      const key = keys.length > 0 ? keys[which % keys.length] : undefined;
      if (how === "add") {
        if (Array.isArray(node)) node.push(replacement);
        else node[newKey] = replacement;
      } else if (key !== undefined) {
        if (how === "replace") (node as Record<string | number, unknown>)[key] = replacement;
        else if (Array.isArray(node)) node.splice(key as number, 1);
        else delete node[key as string];
      }
      return copy;
    });

/** quick ⇒ zod accepts, and returns the value as it is. */
function agrees(schema: z.ZodType, value: unknown): void {
  if (!quickCheck(schema)(value)) return;
  const zod = schema.safeParse(value);
  expect(zod.success).toBe(true);
  expect(zod.data).toEqual(value);
}

const voteArb = fc.record(
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
const batchArb = fc.record(
  {
    observer: fc.constantFrom("region:weur", "agent:lb1", "agent:a.b-c_d"),
    shard: fc.nat({ max: 100_000 }),
    seq: fc.nat(),
    heartbeat: fc.boolean(),
    votes: fc.array(voteArb, { maxLength: 5 }),
  },
  { requiredKeys: ["observer", "seq", "heartbeat", "votes"], noNullPrototype: true },
);

describe("quick checks", () => {
  it.each(COMMON)("pass a well-formed %s envelope, as zod has it", (_, e) => {
    expect(quickCheck(Envelope)(e)).toBe(true);
    expect(Envelope.parse(e)).toEqual(e);
  });

  it("pass every well-formed vote batch, as zod has it", () => {
    fc.assert(
      fc.property(batchArb, (b) => {
        expect(quickCheck(VoteBatch)(b)).toBe(true);
        expect(VoteBatch.parse(b)).toEqual(b);
      }),
    );
  });

  it("pass no envelope with one change that zod refuses or would change", () => {
    const samples = COMMON.map(([, e]) => e);
    fc.assert(
      fc.property(
        fc.constantFrom(...samples).chain((e) => mutation(e)),
        (e) => agrees(Envelope, e),
      ),
      { numRuns: 5000 },
    );
  });

  it("pass no vote batch with one change that zod refuses or would change", () => {
    fc.assert(
      fc.property(
        batchArb.chain((b) => mutation(b)),
        (b) => agrees(VoteBatch, b),
      ),
      { numRuns: 5000 },
    );
  });

  it.each<[string, z.ZodType, unknown]>([
    ["a refinement", z.string().refine(() => true), "x"],
    ["a default", z.strictObject({ n: z.number().default(1) }), { n: 1 }],
    ["a transform", z.string().transform((s) => s), "x"],
    ["an object that passes unknown keys", z.object({ a: z.string() }).loose(), { a: "x" }],
    [
      "a union of objects without a discriminator",
      z.union([z.strictObject({ a: z.string() }), z.strictObject({ b: z.string() })]),
      { a: "x" },
    ],
    ["an IPv6 address (zod parses it further)", z.union([z.ipv4(), z.ipv6()]), "2001:db8::1"],
    ["an IPv6 CIDR", z.union([z.cidrv4(), z.cidrv6()]), "2001:db8::/64"],
    ["a format other than a pattern", z.string().email(), "a@example.com"],
    ["a coerced number", z.coerce.number(), 1],
    ["a global pattern", z.string().regex(/x/g), "x"],
  ])("leave a schema with %s to zod", (_, schema, value) => {
    expect(schema.safeParse(value).success).toBe(true);
    expect(quickCheck(schema)(value)).toBe(false);
  });

  it.each<[string, unknown]>([
    ["a class instance", new (class Batch {})()],
    [
      "a null-prototype object",
      Object.assign(Object.create(null), { observer: "agent:lb1", seq: 1, heartbeat: true, votes: [] }),
    ],
    ["a key present as undefined", { observer: "agent:lb1", shard: undefined, seq: 1, heartbeat: true, votes: [] }],
    [
      "an array with a hole",
      { observer: "agent:lb1", seq: 1, heartbeat: true, votes: Object.assign(new Array(2), { 1: vote }) },
    ],
    [
      "an infinite latency",
      { observer: "agent:lb1", seq: 1, heartbeat: true, votes: [{ ...vote, latencyMs: Number.POSITIVE_INFINITY }] },
    ],
  ])("leave %s to zod", (_, value) => {
    expect(quickCheck(VoteBatch)(value)).toBe(false);
  });

  it("pass IPv4 addresses and prefixes, and nothing near them that zod refuses", () => {
    expect(quickCheck(IpAddress)("192.168.88.15")).toBe(true);
    expect(quickCheck(Cidr)("192.168.88.15/24")).toBe(true);
    const near = fc.oneof(
      fc.ipV4(),
      fc.ipV4().map((ip) => `${ip}/${Math.floor(Math.random() * 40)}`),
      fc.stringMatching(/^[0-9./ ]{0,20}$/),
      fc.ipV6(),
    );
    fc.assert(
      fc.property(near, (text) => {
        agrees(IpAddress, text);
        agrees(Cidr, text);
      }),
      { numRuns: 3000 },
    );
  });

  it.each<[z.ZodType, unknown, boolean]>([
    [z.number().positive(), 0, false],
    [z.number().positive(), 0.5, true],
    [z.number().lt(7), 7, false],
    [z.number().lte(7), 7, true],
    [z.number().int(), 1.5, false],
    [z.int(), 2 ** 53, false],
    [z.string().length(2), "abc", false],
    [z.string().length(2), "ab", true],
    [z.string().max(3), "abc", true],
    [z.string().max(3), "abcd", false],
    [z.number().gte(2), 2, true],
    [z.number().gt(2), 2, false],
    [z.number().lt(7), 6.5, true],
    [z.array(z.number()).min(1), [], false],
    [z.array(z.number()).max(2), [1, 2], true],
    [z.array(z.string()), "ab", false],
    [z.array(z.string()), { length: 1, 0: "a" }, false],
    [z.boolean(), "true", false],
    [z.number(), "5", false],
    [z.record(z.string(), z.number()), [1], false],
    [z.record(z.string(), z.number()), { a: 1 }, true],
    [z.record(z.string(), z.number()), { a: "1" }, false],
    [z.record(z.string().max(2), z.number()), { abc: 1 }, false],
    [z.record(z.string(), z.unknown()), { a: null }, true],
    [z.union([z.string(), z.number()]), 5, true],
    [z.union([z.string(), z.number()]), true, false],
    [z.strictObject({ a: z.string().optional() }), {}, true],
    [z.strictObject({ a: z.string().optional() }), { a: 1 }, false],
    [z.strictObject({ a: z.string() }), { a: "x", b: 1 }, false],
    [z.discriminatedUnion("t", [z.strictObject({ t: z.literal("a") })]), { t: "b" }, false],
    [z.discriminatedUnion("t", [z.strictObject({ t: z.literal("a") })]), "a", false],
    [z.int(), 3, true],
  ])("say for %s and %j what zod says", (schema, value, ok) => {
    expect(schema.safeParse(value).success).toBe(ok);
    expect(quickCheck(schema)(value)).toBe(ok);
  });

  it("leave a VIP claim to zod, whose VIP schema has a rule across its fields", () => {
    const vipClaim = claim(3, 7);
    expect(quickCheck(Envelope)(vipClaim)).toBe(false);
    expect(quickParse(Envelope, vipClaim).success).toBe(true);
  });

  it("answer zod's error, naming the field, when the quick check says no", () => {
    const refused = quickParse(VoteBatch, { observer: "agent:lb1", seq: -1, heartbeat: true, votes: [] });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(["seq"]);
    const passed = { observer: "agent:lb1", seq: 1, heartbeat: true, votes: [] };
    expect(quickParse(VoteBatch, passed)).toEqual({ success: true, data: passed });
  });
});
