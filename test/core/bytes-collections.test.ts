/** Small helpers, by tables: hex, a bounded stream read, duplicates and chunks. */
import { describe, expect, it } from "vitest";
import { readAtMost, toHex } from "../../src/core/bytes.js";
import { chunks, duplicates } from "../../src/core/collections.js";

const stream = (...parts: number[][]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(Uint8Array.from(p));
      controller.close();
    },
  });

describe("bytes", () => {
  it("hex is lowercase, two digits a byte", () => {
    expect(toHex(Uint8Array.from([0, 1, 15, 16, 171, 255]))).toBe("00010f10abff");
    expect(toHex(new Uint8Array([7, 8]).buffer)).toBe("0708");
    expect(toHex(new Uint8Array())).toBe("");
  });

  it.each<[string, number[][], number, number[], boolean]>([
    ["all of a short stream", [[1, 2], [3]], 10, [1, 2, 3], false],
    ["exactly the bound", [[1, 2], [3]], 3, [1, 2, 3], false],
    [
      "cut inside a chunk",
      [
        [1, 2],
        [3, 4, 5],
      ],
      4,
      [1, 2, 3, 4],
      true,
    ],
    [
      "cut at a chunk's start",
      [
        [1, 2],
        [3, 4],
      ],
      2,
      [1, 2],
      true,
    ],
    ["nothing allowed", [[1]], 0, [], true],
  ])("reads %s", async (_name, parts, max, bytes, truncated) => {
    const out = await readAtMost(stream(...parts), max);
    expect([...out.bytes]).toEqual(bytes);
    expect(out.truncated).toBe(truncated);
  });

  it("reads nothing from no stream, and cancels the rest of one cut short", async () => {
    expect(await readAtMost(null, 10)).toEqual({ bytes: new Uint8Array(), truncated: false });
    let cancelled = false;
    const s = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(8));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect((await readAtMost(s, 20)).bytes.byteLength).toBe(20);
    expect(cancelled).toBe(true);
  });
});

describe("collections", () => {
  it("yields each repeated value with the index it repeats at", () => {
    expect([...duplicates(["a", "b", "a", "c", "b", "a"])]).toEqual([
      ["a", 2],
      ["b", 4],
      ["a", 5],
    ]);
    expect([...duplicates([1, 2, 3])]).toEqual([]);
  });

  it.each<[number[], number, number[][]]>([
    [[1, 2, 3, 4, 5], 2, [[1, 2], [3, 4], [5]]],
    [
      [1, 2, 3, 4],
      2,
      [
        [1, 2],
        [3, 4],
      ],
    ],
    [[1, 2], 5, [[1, 2]]],
    [[], 3, []],
    [[1, 2], 1, [[1], [2]]],
  ])("cuts %j into slices of %i", (values, size, out) => {
    expect(chunks(values, size)).toEqual(out);
  });

  it("refuses a slice size under 1", () => {
    expect(() => chunks([1], 0)).toThrow("chunk size 0: expected at least 1");
  });
});
