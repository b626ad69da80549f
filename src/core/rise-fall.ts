/**
 * One observer's view of one target: consecutive results counted against rise and fall
 * (keepalived's and HAProxy's semantics). Starts `unknown`; `rise` successes in a row make it
 * `up`, `fall` failures in a row make it `down`. A `degraded` result counts as a success, and
 * an `up` observer whose last result was degraded votes `degraded`.
 */
import type { VoteState } from "./vote.js";

export type ResultState = "up" | "down" | "degraded";

export interface ProbeResult {
  state: ResultState;
  latencyMs: number | null;
  /** Why a probe failed or is degraded: "refused", "timeout", "status 503", ... */
  reason: string | null;
}

export interface ObserverState {
  state: VoteState;
  since: number;
  successes: number;
  failures: number;
  latencyMs: number | null;
  error: string | null;
  probes: number;
  failed: number;
}

export function initialObserver(now: number): ObserverState {
  return {
    state: "unknown",
    since: now,
    successes: 0,
    failures: 0,
    latencyMs: null,
    error: null,
    probes: 0,
    failed: 0,
  };
}

/** The observer's state after one result; `changed` says whether its vote changed. */
export function observe(
  prev: ObserverState,
  result: ProbeResult,
  thresholds: { rise: number; fall: number },
  now: number,
): { next: ObserverState; changed: boolean } {
  const ok = result.state !== "down";
  const successes = ok ? prev.successes + 1 : 0;
  const failures = ok ? 0 : prev.failures + 1;
  let state: VoteState = prev.state;
  if (ok && (prev.state !== "unknown" && prev.state !== "down" ? true : successes >= thresholds.rise)) {
    state = result.state === "degraded" ? "degraded" : "up";
  } else if (!ok && failures >= thresholds.fall) {
    state = "down";
  }
  const next: ObserverState = {
    state,
    since: state === prev.state ? prev.since : now,
    successes,
    failures,
    latencyMs: result.latencyMs,
    error: result.reason,
    probes: prev.probes + 1,
    failed: prev.failed + (ok ? 0 : 1),
  };
  return { next, changed: state !== prev.state };
}
