/**
 * The coordinator's part in one lease unit (a VIP group, or a sync group whose members move
 * together). A reducer: (state, input, now) -> state and effects, no I/O; the coordinator
 * stores the state before it performs the effects.
 *
 * The coordinator plays two parts. As a voter (src/core/majority.ts: alone for `release` and
 * `hold`, the tie-breaker for `quorum` with an even member count) it promises one candidate at
 * a time, and only the one its rules want. As the decider it knows who should hold (switchover
 * target, then priorities with preemption, among eligible members), offers the unit to that
 * node when nobody holds it, and asks a holder that should not hold to release. Who holds is
 * what the members report: a holder may have its majority without the coordinator, and a
 * coordinator back from an outage learns the holder and its epoch before it decides anything.
 */
import {
  type Answer,
  answer,
  freshVoter,
  type MajorityConfig,
  released,
  type VoterState,
  voterAfterStart,
} from "./majority.js";

export interface LeaseConfig extends MajorityConfig {
  preempt: boolean;
  preemptDelayMs: number;
}

export interface Candidate {
  node: string;
  /** Connected, tracked checks with weight 0 up, and the quorum verdict on its service not down. */
  eligible: boolean;
  /** Priority with tracked checks' weights applied. */
  priority: number;
}

export interface LeaseState {
  /** The coordinator as a voter. */
  voter: VoterState;
  /** The highest epoch seen: promised, asked for or reported. */
  epoch: number;
  /** Who holds the unit as the members report it, under which epoch; null: nobody, as far as known. */
  holder: string | null;
  holderEpoch: number;
  /** When the holder was last reported (the coordinator's clock). */
  reportedAt: number;
  /** Asked the holder to release (switchover, preemption, ineligible holder). */
  revoking: boolean;
  /** An operator's switchover target: holds the lease while it is eligible, preempt or not. */
  target: string | null;
  /** The last node that held the lease, for vip.moved events. */
  last: string | null;
  /** `last` was lost from sight (its reports stopped), not released: it may still hold by its peers. */
  lastExpired: boolean;
  candidates: Candidate[];
  /** When each candidate last became eligible, for the preempt delay. */
  eligibleSince: Record<string, number>;
}

/** What a member says of the unit with every request (src/core/command.ts LeaseRequest). */
export interface Report {
  /** The epoch it asks the coordinator's promise for; 0 when it only reports. */
  epoch: number;
  holding: boolean;
  /** `heardMsAgo`: how old another member's word on the holder is (0, or absent, for its own). */
  holder: { node: string; epoch: number; heardMsAgo?: number } | null;
}

export type LeaseInput =
  | ({ type: "request"; node: string } & Report)
  | { type: "release"; node: string; epoch: number }
  | { type: "candidates"; candidates: Candidate[] }
  | { type: "switchover"; to: string }
  | { type: "tick" };

export type LeaseEffect =
  | { type: "grant"; node: string; epoch: number; ttlMs: number }
  | { type: "deny"; node: string; reason: string | null; epoch: number }
  | { type: "revoke"; node: string; epoch: number }
  | {
      type: "moved";
      from: string | null;
      to: string;
      epoch: number;
      reason: string;
      /** How long after the last word of the previous holder: the move as the coordinator saw it. */
      afterMs: number | null;
    }
  | { type: "expired"; node: string; epoch: number };

export function initialLease(_now: number): LeaseState {
  return {
    voter: freshVoter(),
    epoch: 0,
    holder: null,
    holderEpoch: 0,
    reportedAt: 0,
    revoking: false,
    target: null,
    last: null,
    lastExpired: false,
    candidates: [],
    eligibleSince: {},
  };
}

/**
 * A coordinator that just started from what it stored: it remembers whom it promised and the
 * epochs, not until when, so it promises nobody new for one TTL plus grace; the stored holder
 * has that long to report again.
 */
export function afterRestart(stored: LeaseState, now: number, config: LeaseConfig): LeaseState {
  return {
    ...stored,
    voter: voterAfterStart(now, config, { to: stored.voter.to, epoch: stored.voter.epoch }),
    reportedAt: now,
    candidates: [],
  };
}

/** The state as stored: what changes only when the unit's state does, not on every renewal or report. */
export function durable(s: LeaseState): unknown {
  const { reportedAt: _, voter, ...rest } = s;
  return { ...rest, voter: { to: voter.to, epoch: voter.epoch } };
}

/** How long a reported holder is believed without a new report: one TTL plus grace. */
const reportLifetime = (config: LeaseConfig) => config.ttlMs + config.graceMs;

export function step(
  prev: LeaseState,
  input: LeaseInput,
  now: number,
  config: LeaseConfig,
): { state: LeaseState; effects: LeaseEffect[] } {
  let s: LeaseState = { ...prev };
  const effects: LeaseEffect[] = [];
  const lose = (expired: boolean) => {
    s = { ...s, last: s.holder, holder: null, revoking: false, lastExpired: expired };
  };

  // Time first: a holder nobody reported for a TTL plus grace is gone.
  if (s.holder !== null && now - s.reportedAt > reportLifetime(config)) {
    effects.push({ type: "expired", node: s.holder, epoch: s.holderEpoch });
    lose(true);
  }

  switch (input.type) {
    case "candidates": {
      const since = { ...s.eligibleSince };
      for (const c of input.candidates) {
        if (!c.eligible) delete since[c.node];
        else since[c.node] ??= now;
      }
      // A switchover pins the group to its target until the target cannot hold it any more.
      const pinned = input.candidates.some((c) => c.node === s.target && c.eligible);
      s = { ...s, candidates: input.candidates, eligibleSince: since, target: pinned ? s.target : null };
      break;
    }
    case "switchover":
      s = { ...s, target: input.to };
      break;
    case "release":
      s = { ...s, voter: released(s.voter, { candidate: input.node, epoch: input.epoch }) };
      if (input.node === s.holder && input.epoch === s.holderEpoch) {
        lose(false);
        // It gave the unit up: not a candidate until it asks anew (the next candidates say so),
        // so the unit goes to the next one now, whatever else the holder's agent did first.
        const { [input.node]: _, ...since } = s.eligibleSince;
        s = {
          ...s,
          candidates: s.candidates.map((c) => (c.node === input.node ? { ...c, eligible: false } : c)),
          eligibleSince: since,
        };
      }
      break;
    case "request":
      s = learn(s, input, now, effects);
      break;
  }

  const desired = desiredHolder(s, now, config);
  if (s.holder !== null && desired !== s.holder && !s.revoking) {
    effects.push({ type: "revoke", node: s.holder, epoch: s.epoch });
    s = { ...s, revoking: true };
  } else if (s.revoking && desired === s.holder) {
    // Why it was asked to release is gone (it was out of reach a moment, its check is back): it keeps the unit.
    s = { ...s, revoking: false };
  }

  if (input.type === "request") {
    // A holder asked to release still renews or reports (holding on its peers' promises): the
    // release may have been lost, sent on a connection that had died; ask again, promise nothing.
    const stillHolds = s.revoking && input.node === s.holder;
    if (stillHolds && !effects.some((e) => e.type === "revoke"))
      effects.push({ type: "revoke", node: input.node, epoch: s.epoch });
    if (input.epoch === 0) effects.push({ type: "deny", node: input.node, reason: null, epoch: s.epoch });
    else if (stillHolds) effects.push({ type: "deny", node: input.node, reason: "asked to release", epoch: s.epoch });
    else {
      const allowed =
        input.node === desired
          ? { ok: true as const }
          : {
              ok: false as const,
              reason: desired === null ? "no member may hold it now" : `${desired} should hold it`,
            };
      const out = answer(s.voter, { candidate: input.node, epoch: input.epoch }, allowed, now, config);
      s = { ...s, voter: out.state };
      effects.push(answerEffect(input.node, out.answer, s.epoch));
    }
  }
  return { state: s, effects };
}

/** What a member's request tells about the holder: the highest epoch reported wins. */
function learn(s: LeaseState, input: Extract<LeaseInput, { type: "request" }>, now: number, effects: LeaseEffect[]) {
  let next = { ...s, epoch: Math.max(s.epoch, input.epoch, input.holder?.epoch ?? 0) };
  // A holder names itself (with the epoch it holds under, whether or not it asks for a promise).
  const said = input.holder ?? (input.holding ? { node: input.node, epoch: input.epoch } : null);
  // The holder it stopped hearing from (an outage between them) held on by its peers' promises.
  // Its own word counts; another member's only after an expiry, not after a release (its view
  // of a holder that just stopped may lag by a renewal).
  const heldOn =
    said !== null &&
    next.holder === null &&
    said.node === next.last &&
    said.epoch === next.holderEpoch &&
    (next.lastExpired || (input.holding && input.node === said.node));
  if (
    said !== null &&
    (said.epoch > next.holderEpoch || (said.epoch === next.holderEpoch && said.node === next.holder) || heldOn)
  ) {
    if (said.node !== next.holder && !heldOn) {
      effects.push({
        type: "moved",
        from: next.holder ?? next.last,
        to: said.node,
        epoch: said.epoch,
        reason: movedBecause(next, said.node),
        afterMs: (next.holder ?? next.last) === null ? null : Math.max(0, now - next.reportedAt),
      });
      next = { ...next, last: next.holder ?? next.last, revoking: false };
    }
    // A holder is believed for a TTL and grace from when anyone last heard it, not from when the word arrived.
    const heardAt = now - Math.max(0, input.holder?.heardMsAgo ?? 0);
    next = { ...next, holder: said.node, holderEpoch: said.epoch, reportedAt: Math.max(next.reportedAt, heardAt) };
  } else if (!input.holding && input.node === next.holder) {
    // The holder itself says it holds nothing (it dropped at its deadline, or stopped).
    next = { ...next, last: next.holder, holder: null, revoking: false, lastExpired: false };
  }
  return next;
}

/** Why `to` holds now, in words, from the state before it did. */
function movedBecause(s: LeaseState, to: string): string {
  if (s.target === to) return "the operator's switchover";
  if (s.holder !== null) return `${s.holder} was replaced under a higher epoch`;
  if (s.last === null) return "first holder";
  if (s.lastExpired) return `${s.last}'s lease expired: it stopped answering`;
  return `${s.last} released it`;
}

function answerEffect(node: string, a: Answer, epoch: number): LeaseEffect {
  return a.granted
    ? { type: "grant", node, epoch: a.epoch, ttlMs: a.ttlMs }
    : { type: "deny", node, reason: a.reason, epoch: Math.max(epoch, a.epoch) };
}

/** Who should hold the lease now: the switchover target, else keep or preempt by priority. */
export function desiredHolder(s: LeaseState, now: number, config: LeaseConfig): string | null {
  const eligible = s.candidates.filter((c) => c.eligible);
  if (eligible.some((c) => c.node === s.target)) return s.target;
  const [best] = [...eligible].sort((a, b) => b.priority - a.priority || (a.node < b.node ? -1 : 1));
  const holder = eligible.find((c) => c.node === s.holder);
  if (!holder) return best?.node ?? null;
  // With an eligible holder there is a best one: the holder itself at least.
  const top = best ?? holder;
  if (!config.preempt || top.priority <= holder.priority) return holder.node;
  const waited = now - (s.eligibleSince[top.node] ?? now);
  return waited >= config.preemptDelayMs ? top.node : holder.node;
}

/** Whether the coordinator should offer the unit to `node`: nobody holds it and its own promise is free or already that node's. */
export function offerable(s: LeaseState, node: string | null, now: number, config: LeaseConfig): boolean {
  if (node === null || s.holder !== null) return false;
  const v = s.voter;
  return now >= v.quietUntil && (v.to === null || v.to === node || now >= v.until + config.graceMs);
}

/** keepalived's track_script arithmetic: weights add while up (positive) or subtract while down (negative). */
export function effectivePriority(
  base: number,
  tracks: { weight: number; up: boolean }[],
): { priority: number; fault: boolean } {
  const fault = tracks.some((t) => t.weight === 0 && !t.up);
  const priority = tracks.reduce((p, t) => p + (t.up ? Math.max(0, t.weight) : Math.min(0, t.weight)), base);
  return { priority: Math.max(1, Math.min(254, priority)), fault };
}
