/**
 * The observer pipeline both the Prober and the agent run: first attempt within the first
 * interval, then every interval ±10%; a failure counts only after its retries failed too;
 * rise/fall over what counts; a changed check restarts at once and keeps its belief.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { afterProbe, beginObservation, restartObservation, voteOf } from "../../src/core/observer.js";
import type { ProbeResult } from "../../src/core/rise-fall.js";

const pacing = { interval: 10, retries: 2, delayBeforeRetry: 1, rise: 2, fall: 2 };
const down: ProbeResult = { state: "down", reason: "refused", latencyMs: null };
const up: ProbeResult = { state: "up", reason: null, latencyMs: 4 };

describe("observer pipeline", () => {
  it("spreads first attempts over the first interval and keeps every later one within ±10% of it", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (a, b) => {
          const begun = beginObservation(pacing, 1_000, a);
          expect(begun.run.nextDue).toBeGreaterThanOrEqual(1_000);
          expect(begun.run.nextDue).toBeLessThan(11_000);
          const { next } = afterProbe(begun, pacing, up, 5_000, b);
          expect(next.run.nextDue).toBeGreaterThanOrEqual(5_000 + 9_000);
          expect(next.run.nextDue).toBeLessThanOrEqual(5_000 + 11_000);
        },
      ),
    );
  });

  it("counts a failure only after its retries failed, delayBeforeRetry apart, then votes down after fall", () => {
    let o = beginObservation(pacing, 0, 0);
    const steps: [string, number, boolean][] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const { next, changed } = afterProbe(o, pacing, down, now, 0.5);
      steps.push([next.observer.state, next.run.nextDue - now, changed]);
      o = next;
      now = next.run.nextDue;
    }
    expect(steps).toEqual([
      ["unknown", 1000, false], // retry 1
      ["unknown", 1000, false], // retry 2
      ["unknown", 10_000, false], // the round failed: one failure counted
      ["unknown", 1000, false],
      ["unknown", 1000, false],
      ["down", 10_000, true], // fall 2: the vote changes
    ]);
    expect(voteOf("web/web1", o.observer)).toMatchObject({ target: "web/web1", state: "down", failures: 2, probes: 2 });
  });

  it("a success ends a round of retries at once", () => {
    const o = beginObservation(pacing, 0, 0);
    const retry = afterProbe(o, pacing, down, 0, 0.5).next;
    const { next } = afterProbe(retry, pacing, up, 1000, 0.5);
    expect(next.run).toEqual({ attempt: 0, nextDue: 11_000 });
    expect(next.observer).toMatchObject({ successes: 1, failures: 0, probes: 1 });
  });

  it("a changed check runs again at once and keeps what the observer believes", () => {
    let o = beginObservation(pacing, 0, 0);
    for (const at of [0, 10_000]) o = afterProbe(o, pacing, up, at, 0.5).next;
    expect(o.observer.state).toBe("up");
    const restarted = restartObservation(o, 15_000);
    expect(restarted.run).toEqual({ attempt: 0, nextDue: 15_000 });
    expect(restarted.observer).toBe(o.observer);
  });
});
