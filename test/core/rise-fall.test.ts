import { describe, expect, it } from "vitest";
import { afterAttempt, firstRun, nextAlarm } from "../../src/core/probe-schedule.js";
import { initialObserver, observe, type ProbeResult } from "../../src/core/rise-fall.js";

const r = (state: ProbeResult["state"]): ProbeResult => ({
  state,
  latencyMs: 5,
  reason: state === "down" ? "refused" : null,
});

/** Feeds results one per second and returns the vote after each. */
function run(results: string, rise: number, fall: number): string[] {
  let s = initialObserver(0);
  return [...results].map((c, i) => {
    s = observe(s, r(c === "u" ? "up" : c === "d" ? "down" : "degraded"), { rise, fall }, (i + 1) * 1000).next;
    return s.state;
  });
}

describe("observe (rise/fall)", () => {
  it.each<[string, number, number, string[]]>([
    ["u", 1, 1, ["up"]],
    ["uu", 2, 3, ["unknown", "up"]],
    ["ddd", 2, 3, ["unknown", "unknown", "down"]],
    ["uuddd", 2, 3, ["unknown", "up", "up", "up", "down"]],
    ["uudud", 2, 3, ["unknown", "up", "up", "up", "up"]],
    ["dddudu", 2, 3, ["unknown", "unknown", "down", "down", "down", "down"]],
    ["ddduu", 2, 3, ["unknown", "unknown", "down", "down", "up"]],
    ["uugu", 2, 3, ["unknown", "up", "degraded", "up"]],
    ["ggdd", 2, 2, ["unknown", "degraded", "degraded", "down"]],
    // Up (or degraded) needs no rise again after a failure that did not bring it down.
    ["uugdu", 2, 3, ["unknown", "up", "degraded", "degraded", "up"]],
  ])("%s with rise %i, fall %i", (results, rise, fall, states) => {
    expect(run(results, rise, fall)).toEqual(states);
  });

  it("keeps since across unchanged results and counts probes and failures", () => {
    let s = initialObserver(0);
    s = observe(s, r("up"), { rise: 1, fall: 2 }, 1000).next;
    s = observe(s, r("down"), { rise: 1, fall: 2 }, 2000).next;
    expect(s).toMatchObject({ state: "up", since: 1000, probes: 2, failed: 1, error: "refused" });
  });
});

describe("afterAttempt (retries)", () => {
  const timing = { interval: 10, retries: 2, delayBeforeRetry: 1 };
  it("retries a failure after the delay and counts it only when retries are used up", () => {
    let state = firstRun(timing, 0, 0);
    expect(state.nextDue).toBe(0);
    const steps: [number, string | null][] = [];
    for (let now = 0, i = 0; i < 3; i++) {
      const out = afterAttempt(timing, state, r("down"), now, 0.5);
      steps.push([out.run.nextDue, out.counted?.state ?? null]);
      state = out.run;
      now = state.nextDue;
    }
    expect(steps).toEqual([
      [1000, null],
      [2000, null],
      [12000, "down"],
    ]);
  });

  it("counts a success at once and waits an interval with jitter", () => {
    const out = afterAttempt(timing, { attempt: 1, nextDue: 0 }, r("up"), 5000, 0);
    expect(out).toEqual({ run: { attempt: 0, nextDue: 5000 + 9000 }, counted: r("up") });
    expect(afterAttempt(timing, { attempt: 0, nextDue: 0 }, r("up"), 0, 0.999).run.nextDue).toBeLessThan(11000);
  });
});

describe("nextAlarm", () => {
  it.each<[string, number[], number, number, number, number]>([
    ["the earliest due check", [5000, 3000, 4000], 9000, 1000, 0, 3000],
    ["the heartbeat when it comes first", [5000], 2000, 1000, 0, 2000],
    ["never in the past", [500], 9000, 1000, 0, 1001],
    ["never again at the time of the alarm now running", [3000], 9000, 2990, 3000, 3001],
    ["whole milliseconds", [3000.4], 9000, 1000, 0, 3001],
  ])("%s", (_name, due, heartbeat, now, firing, expected) => {
    expect(nextAlarm(due, heartbeat, now, firing)).toBe(expected);
  });
});
