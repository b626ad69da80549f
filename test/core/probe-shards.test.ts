/**
 * Prober shards: how many a region needs for its checks per second, and where each target goes:
 * every target in exactly one shard, shards of even size, and few targets moving when the
 * count changes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Check } from "../../src/core/check.js";
import { CHECKS_PER_SHARD, shardCount, shardOf, shardTargets } from "../../src/core/probe-shards.js";
import type { Target } from "../../src/core/targets.js";

const targets = (n: number, interval: number): Target[] => {
  const check = Check.parse({
    name: "web",
    type: "http",
    interval,
    timeout: interval / 2,
    observers: { regions: ["weur"] },
  });
  return Array.from({ length: n }, (_, i) => ({
    id: `svc${Math.floor(i / 50)}/rs${i % 50}`,
    check,
    address: "192.0.2.1",
    port: 80,
    observers: ["region:weur"],
  }));
};

describe("shardCount", () => {
  it.each([
    [0, 10, 1],
    [1, 10, 1],
    [100, 10, 1],
    [101, 10, 2],
    [1_000, 10, 10],
    [10_000, 10, 100],
    [1_500, 1, 150],
    [10, 1, 1],
    [11, 1, 2],
  ])("%i targets every %i s need %i shard(s)", (n, interval, shards) => {
    expect(shardCount(targets(n, interval))).toBe(shards);
  });

  it("gives no shard more than its checks per second, however the intervals mix", () => {
    const mixed = [...targets(30, 1), ...targets(300, 30), ...targets(45, 5)];
    const shards = shardCount(mixed);
    expect(shards * CHECKS_PER_SHARD).toBeGreaterThanOrEqual(30 + 10 + 9);
    expect((shards - 1) * CHECKS_PER_SHARD).toBeLessThan(30 + 10 + 9);
  });
});

describe("shardOf", () => {
  it("puts every target in exactly one shard, 0 to shards - 1", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 500 }), (id, shards) => {
        const s = shardOf(id, shards);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(shards);
        expect(shardOf(id, shards)).toBe(s);
      }),
    );
    const all = targets(1_000, 10);
    const split = Array.from({ length: 10 }, (_, s) => shardTargets(all, s, 10));
    expect(
      split
        .flat()
        .map((t) => t.id)
        .sort(),
    ).toEqual(all.map((t) => t.id).sort());
  });

  it("moves only the targets that land on a new shard when the count grows", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 1, max: 300 }),
        (ids, n) => {
          for (const id of ids) {
            const before = shardOf(id, n);
            const after = shardOf(id, n + 1);
            expect(after === before || after === n).toBe(true);
          }
        },
      ),
    );
    const ids = targets(10_000, 10).map((t) => t.id);
    const moved = ids.filter((id) => shardOf(id, 100) !== shardOf(id, 101)).length;
    expect(moved / ids.length).toBeLessThan(2 / 101);
  });

  it("spreads 10,000 targets over 100 shards within a third of the mean", () => {
    const sizes = new Array(100).fill(0);
    for (const t of targets(10_000, 10)) sizes[shardOf(t.id, 100)] += 1;
    expect(Math.min(...sizes)).toBeGreaterThan(100 * (2 / 3));
    expect(Math.max(...sizes)).toBeLessThan(100 * (4 / 3));
  });

  it("refuses a shard count that is not a whole number of at least one", () => {
    expect(() => shardOf("a", 0)).toThrow(/shards 0: expected a whole number >= 1/);
    expect(() => shardOf("a", 1.5)).toThrow(RangeError);
  });
});
