import { describe, expect, it } from "vitest";
import {
  type Bucket,
  combine,
  type DayRow,
  type Figures,
  foldHour,
  HOUR_MS,
  MINUTE_MS,
  MinuteBook,
  percentile,
  rowsPerMonth,
  series,
} from "../../src/core/history.js";

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const vote = (probes: number, failures: number, latencyMs: number | null = 10) => ({ probes, failures, latencyMs });

describe("percentile", () => {
  it.each<[number[], number, number | null]>([
    [[], 50, null],
    [[7], 95, 7],
    [[5, 1, 3, 2, 4], 50, 3],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95, 19],
    [[1.234, 1.26], 95, 1.3],
    [[30, 10, 20], 50, 20],
    // Sorted as numbers, not as text.
    [[100, 9, 10], 34, 10],
  ])("%j at p%d is %s", (samples, p, expected) => {
    expect(percentile(samples, p)).toBe(expected);
  });
});

describe("combining figures", () => {
  it.each<[string, Figures[], Figures]>([
    [
      "adds counts and weighs latencies by probes, whatever the order",
      [
        [10, 1, 50, 90],
        [30, 0, 20, 60],
        [0, 0, null, null],
      ],
      [40, 1, 20, 90],
    ],
    [
      "takes the lower of two equal halves at p50, the upper at p95",
      [
        [1, 0, 20, 20],
        [1, 0, 10, 10],
      ],
      [2, 0, 10, 20],
    ],
    ["counts a figure without probes as one", [[0, 0, 5, 7]], [0, 0, 5, 7]],
    ["has no latency without any", [[3, 3, null, null]], [3, 3, null, null]],
    ["is empty for nothing", [], [0, 0, null, null]],
  ])("%s", (_name, parts, want) => {
    expect(combine(parts)).toEqual(want);
  });
});

describe("the minute book", () => {
  it("counts each minute from the growth of the observer's counts, with the latency of votes that brought a probe", () => {
    const book = new MinuteBook();
    expect(book.add("web/web1", "region:wnam", vote(100, 4, 9), T0 + 1_000)).toBeNull();
    book.add("web/web1", "region:wnam", vote(101, 4, 10), T0 + 2_000);
    book.add("web/web1", "region:wnam", vote(101, 4, 99), T0 + 3_000); // a heartbeat, no new probe
    book.add("web/web1", "region:wnam", vote(103, 5, 30), T0 + 4_000);
    expect(book.current()).toEqual({ minute: T0, bucket: { "web/web1": { "region:wnam": [3, 1, 10, 30] } } });
    const ended = book.add("web/web1", "region:wnam", vote(104, 5, 12), T0 + MINUTE_MS + 1);
    expect(ended).toEqual({ minute: T0, bucket: { "web/web1": { "region:wnam": [3, 1, 10, 30] } } });
    expect(book.current()?.bucket).toEqual({ "web/web1": { "region:wnam": [1, 0, 12, 12] } });
  });

  it("takes counts that went back for a restarted observer, and ends a quiet minute with nothing", () => {
    const book = new MinuteBook();
    book.add("t", "region:apac", vote(500, 0), T0);
    book.add("t", "region:apac", vote(2, 1, 40), T0 + 10);
    expect(book.current()?.bucket).toEqual({ t: { "region:apac": [2, 1, 40, 40] } });
    expect(book.close(T0 + MINUTE_MS)?.minute).toBe(T0);
    expect(book.close(T0 + 2 * MINUTE_MS)).toBeNull();
  });
});

describe("folding an hour into day rows", () => {
  it("answers each target's part of its day row: the minutes by minute of day, and the hour's combined figures", () => {
    const hour = T0;
    const minutes: { minute: number; bucket: Bucket }[] = [
      { minute: hour, bucket: { a: { "region:wnam": [10, 0, 10, 20] as Figures } } },
      {
        minute: hour + MINUTE_MS,
        bucket: { a: { "region:wnam": [30, 3, 30, 90] as Figures }, b: { "agent:lb1": [1, 1, null, null] as Figures } },
      },
    ];
    const rows = foldHour(hour, minutes);
    expect(rows.get("a")).toEqual({
      minutes: { "600": { "region:wnam": [10, 0, 10, 20] }, "601": { "region:wnam": [30, 3, 30, 90] } },
      // 40 probes: the median falls in the 30-probe minute, and so does the 95th percentile.
      hours: { "10": { "region:wnam": [40, 3, 30, 90] } },
    });
    expect(rows.get("b")).toEqual({
      minutes: { "601": { "agent:lb1": [1, 1, null, null] } },
      hours: { "10": { "agent:lb1": [1, 1, null, null] } },
    });
  });
});

describe("series", () => {
  const day = Date.UTC(2026, 11, 5);
  const rows = new Map<number, DayRow>([
    [
      day,
      {
        minutes: { "600": { o: [2, 0, 10, 12] }, "601": { o: [2, 1, 20, 40] } },
        hours: { "10": { o: [4, 1, 20, 40] } },
      },
    ],
    [day - 86_400_000, { minutes: null, hours: { "23": { o: [60, 0, 8, 9] } } }],
  ]);

  it("answers minute points where minutes are kept, hours elsewhere, plus what is not folded yet", () => {
    const out = series(
      rows,
      [{ minute: T0 + 2 * MINUTE_MS, figures: { o: [1, 0, 5, 5] } }],
      day - HOUR_MS,
      day + 11 * HOUR_MS,
      MINUTE_MS,
    );
    expect(out.get("o")).toEqual([
      { t: day - HOUR_MS, probes: 60, failures: 0, p50: 8, p95: 9 },
      { t: T0, probes: 2, failures: 0, p50: 10, p95: 12 },
      { t: T0 + MINUTE_MS, probes: 2, failures: 1, p50: 20, p95: 40 },
      { t: T0 + 2 * MINUTE_MS, probes: 1, failures: 0, p50: 5, p95: 5 },
    ]);
  });

  it("sums counts into wider steps and leaves out what is outside the range", () => {
    const out = series(rows, [], day, day + 24 * HOUR_MS, HOUR_MS);
    expect(out.get("o")).toEqual([{ t: T0, probes: 4, failures: 1, p50: 20, p95: 40 }]);
  });
});

describe("what history costs", () => {
  it("writes under a million rows a month for 1,000 targets in one cluster", () => {
    expect(rowsPerMonth(1000)).toBe(2 * 43_200 + 720_000 + 60_000);
    expect(rowsPerMonth(1000)).toBeLessThan(1_000_000);
  });
});
