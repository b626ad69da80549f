/**
 * The cluster's verdict on one target from its observers' votes. Only fresh votes from
 * eligible observers count. The verdict changes only when at least `required` of them agree:
 * a minority never flips it, and too few fresh observers give `unknown`, never a guess.
 */
import type { Quorum } from "./check.js";
import type { VoteState } from "./vote.js";

export interface QuorumPolicy {
  /** Observers configured to probe this target, each once. */
  eligible: readonly string[];
  quorum: Quorum;
  /** A vote older than this (by the coordinator's receive time) is stale. */
  maxAgeMs: number;
}

export interface CountedVote {
  observer: string;
  state: VoteState;
  /** When the coordinator last heard this vote. */
  receivedAt: number;
}

export interface Verdict {
  state: VoteState;
  fresh: number;
  required: number;
  down: number;
  healthy: number;
}

/** How many agreeing fresh votes a verdict needs: a majority, all, or a fixed count. */
export function required(quorum: Quorum, eligible: number): number {
  if (quorum === "majority") return Math.floor(eligible / 2) + 1;
  if (quorum === "all") return eligible;
  return Math.min(quorum, eligible);
}

export function verdict(votes: Iterable<CountedVote>, policy: QuorumPolicy, previous: VoteState, now: number): Verdict {
  // One pass, no arrays: a coordinator evaluates this for every target a batch touches.
  let fresh = 0;
  let down = 0;
  let degraded = 0;
  for (const v of votes) {
    if (v.state === "unknown" || now - v.receivedAt > policy.maxAgeMs || !policy.eligible.includes(v.observer))
      continue;
    fresh += 1;
    if (v.state === "down") down += 1;
    else if (v.state === "degraded") degraded += 1;
  }
  const need = Math.max(1, required(policy.quorum, policy.eligible.length));
  const healthy = fresh - down;
  let state: VoteState;
  if (fresh < need) state = "unknown";
  else if (down >= need) state = "down";
  else if (healthy >= need) state = degraded >= need ? "degraded" : "up";
  // Fresh observers disagree and neither side has a quorum: keep the last verdict.
  else state = previous;
  return { state, fresh, required: need, down, healthy };
}

/** When the first counted vote is stale (past its receipt plus the policy's age), or null when none counts now. */
export function firstStaleAt(votes: Iterable<CountedVote>, policy: QuorumPolicy, now: number): number | null {
  let first: number | null = null;
  for (const v of votes) {
    const at = v.receivedAt + policy.maxAgeMs + 1;
    if (v.state === "unknown" || at <= now || !policy.eligible.includes(v.observer)) continue;
    if (first === null || at < first) first = at;
  }
  return first;
}

/**
 * A restarted coordinator holds no votes (they live in memory, never in storage): for one vote
 * lifetime after it started, too few fresh votes keep the verdict it stored instead of turning
 * it unknown; fresh votes that reach a quorum decide at once.
 */
export function heldAfterRestart(
  computed: VoteState,
  stored: VoteState,
  startedAt: number,
  now: number,
  maxAgeMs: number,
): VoteState {
  return computed === "unknown" && now - startedAt <= maxAgeMs ? stored : computed;
}
