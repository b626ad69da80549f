/**
 * When a check runs next. A failed attempt is retried after `delayBeforeRetry` until the
 * retries are used up; only then does the failure count as a result (keepalived's
 * `retry` / `delay_before_retry`). Intervals carry jitter so probes do not fire in lockstep.
 */
import type { ProbeResult } from "./rise-fall.js";

export interface RunState {
  /** Attempts already failed in the current round. */
  attempt: number;
  nextDue: number;
}

export interface Timing {
  interval: number;
  retries: number;
  delayBeforeRetry: number;
}

/** Up to ±10% of the interval. `random` is in [0, 1). */
export function jittered(intervalS: number, random: number): number {
  return intervalS * 1000 * (0.9 + 0.2 * random);
}

/** The first run of a check: somewhere in its first interval, so a fleet of checks spreads out. */
export function firstRun(timing: Timing, now: number, random: number): RunState {
  return { attempt: 0, nextDue: now + Math.floor(timing.interval * 1000 * random) };
}

/** After one attempt: the next run, and the result to count, if this attempt ends the round. */
export function afterAttempt(
  timing: Timing,
  run: RunState,
  result: ProbeResult,
  now: number,
  random: number,
): { run: RunState; counted: ProbeResult | null } {
  if (result.state === "down" && run.attempt < timing.retries) {
    return { run: { attempt: run.attempt + 1, nextDue: now + timing.delayBeforeRetry * 1000 }, counted: null };
  }
  return { run: { attempt: 0, nextDue: now + jittered(timing.interval, random) }, counted: result };
}

/**
 * When to set the next alarm: the earliest due check or heartbeat, but in the future, and
 * never at `firing`, the time of the alarm now running (workerd takes an alarm set to that
 * time again for the one that just ran, and the loop would stop).
 */
export function nextAlarm(dueTimes: Iterable<number>, heartbeatDue: number, now: number, firing: number): number {
  let next = heartbeatDue;
  for (const t of dueTimes) if (t < next) next = t;
  return Math.max(Math.ceil(next), now + 1, firing + 1);
}
