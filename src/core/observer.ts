/**
 * One observer's pipeline for one target, the same for an edge region's Prober and for an
 * agent: when the check runs (first somewhere in its first interval, so a fleet spreads out,
 * then every interval ±10%), its retries (a failure counts only after `retries` more attempts
 * `delayBeforeRetry` apart failed too: keepalived's retry / delay_before_retry), rise/fall over
 * the counted results, and the vote it casts. The transports (edge sockets, the agent's
 * probes) only run one attempt and hand its result here.
 */
import { afterAttempt, firstRun, type RunState, type Timing } from "./probe-schedule.js";
import { initialObserver, type ObserverState, observe, type ProbeResult } from "./rise-fall.js";
import type { Vote } from "./vote.js";

export interface Observation {
  run: RunState;
  observer: ObserverState;
}

/** What the pipeline needs of a check. */
export type Pacing = Timing & { rise: number; fall: number };

/** A target newly observed. `random` is in [0, 1). */
export function beginObservation(pacing: Pacing, now: number, random: number): Observation {
  return { run: firstRun(pacing, now, random), observer: initialObserver(now) };
}

/** The check changed: a new round starts at once, and the observer keeps what it believes. */
export function restartObservation(prev: Observation, now: number): Observation {
  return { run: { attempt: 0, nextDue: now }, observer: prev.observer };
}

/**
 * After one attempt: when the next one is due, and the observer's state once the result
 * counts (not while retries are left). `changed` is true when the vote changed: send it at once.
 */
export function afterProbe(
  prev: Observation,
  pacing: Pacing,
  result: ProbeResult,
  now: number,
  random: number,
): { next: Observation; changed: boolean } {
  const step = afterAttempt(pacing, prev.run, result, now, random);
  if (!step.counted) return { next: { run: step.run, observer: prev.observer }, changed: false };
  const seen = observe(prev.observer, step.counted, pacing, now);
  return { next: { run: step.run, observer: seen.next }, changed: seen.changed };
}

/** The vote an observer casts on a target. */
export function voteOf(target: string, o: ObserverState): Vote {
  return {
    target,
    state: o.state,
    since: o.since,
    latencyMs: o.latencyMs,
    error: o.error,
    probes: o.probes,
    failures: o.failed,
  };
}
