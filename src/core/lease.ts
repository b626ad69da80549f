/**
 * The lease on one VIP group (or one sync group, whose members move together): who holds it,
 * with which epoch, until when. A reducer: (state, input, now) -> state and effects, no I/O.
 * The coordinator stores the state before it performs the effects.
 *
 * Safety: a grant goes only to a request, with an expiry measured from when the coordinator
 * received it; the agent measures its own deadline from when it sent the request, minus a
 * margin, so its deadline always falls first. A new holder is granted only when there is no
 * holder: after the old lease expired plus a grace period, or after the old holder
 * acknowledged its release. Epochs grow with every new holder.
 */

export interface LeaseConfig {
  ttlMs: number;
  /** Added to an expired lease before anyone else is granted. */
  graceMs: number;
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
  holder: string | null;
  epoch: number;
  /** The holder's lease ends here (coordinator's clock). */
  expiresAt: number;
  /** With no holder: no grant before this time. */
  grantableAt: number;
  /** Asked the holder to release (switchover, preemption, ineligible holder). */
  revoking: boolean;
  /** An operator's switchover target: holds the lease while it is eligible, preempt or not. */
  target: string | null;
  /** The last node that held the lease, for vip.moved events. */
  last: string | null;
  candidates: Candidate[];
  /** When each candidate last became eligible, for the preempt delay. */
  eligibleSince: Record<string, number>;
}

export type LeaseInput =
  | { type: "request"; node: string }
  | { type: "release"; node: string; epoch: number }
  | { type: "candidates"; candidates: Candidate[] }
  | { type: "switchover"; to: string }
  | { type: "tick" };

export type LeaseEffect =
  | { type: "grant"; node: string; epoch: number; ttlMs: number }
  | { type: "deny"; node: string; holder: string | null }
  | { type: "revoke"; node: string; epoch: number }
  | { type: "moved"; from: string | null; to: string; epoch: number }
  | { type: "expired"; node: string; epoch: number };

export function initialLease(now: number): LeaseState {
  return {
    holder: null,
    epoch: 0,
    expiresAt: 0,
    grantableAt: now,
    revoking: false,
    target: null,
    last: null,
    candidates: [],
    eligibleSince: {},
  };
}

/**
 * The state to persist before anything is sent after a coordinator restart: nobody new is
 * granted before the stored lease (plus grace) has run out, whatever the memory said.
 */
export function afterRestart(stored: LeaseState, now: number, config: LeaseConfig): LeaseState {
  return {
    ...stored,
    grantableAt: Math.max(stored.grantableAt, stored.expiresAt + config.graceMs, now),
    candidates: [],
  };
}

export function step(
  prev: LeaseState,
  input: LeaseInput,
  now: number,
  config: LeaseConfig,
): { state: LeaseState; effects: LeaseEffect[] } {
  let s: LeaseState = { ...prev };
  const effects: LeaseEffect[] = [];

  // Time first: a lease past its expiry is gone, whatever arrives now.
  if (s.holder !== null && now >= s.expiresAt) {
    effects.push({ type: "expired", node: s.holder, epoch: s.epoch });
    s = {
      ...s,
      last: s.holder,
      holder: null,
      revoking: false,
      grantableAt: Math.max(s.grantableAt, s.expiresAt + config.graceMs),
    };
  }

  switch (input.type) {
    case "candidates": {
      const since = { ...s.eligibleSince };
      for (const c of input.candidates) {
        if (!c.eligible) delete since[c.node];
        else since[c.node] ??= now;
      }
      // A switchover pins the group to its target until the target cannot hold it any more.
      const pinned = s.target !== null && input.candidates.some((c) => c.node === s.target && c.eligible);
      s = { ...s, candidates: input.candidates, eligibleSince: since, target: pinned ? s.target : null };
      break;
    }
    case "switchover":
      s = { ...s, target: input.to };
      break;
    case "release":
      if (input.node === s.holder && input.epoch === s.epoch) {
        s = { ...s, last: s.holder, holder: null, revoking: false, grantableAt: now };
      }
      break;
    default:
      break;
  }

  const desired = desiredHolder(s, now, config);
  if (s.holder !== null && desired !== s.holder && !s.revoking) {
    effects.push({ type: "revoke", node: s.holder, epoch: s.epoch });
    s = { ...s, revoking: true };
  }

  if (input.type === "request") {
    const node = input.node;
    if (node === s.holder && !s.revoking) {
      s = { ...s, expiresAt: now + config.ttlMs };
      effects.push({ type: "grant", node, epoch: s.epoch, ttlMs: config.ttlMs });
    } else if (s.holder === null && node === desired && now >= s.grantableAt) {
      const epoch = s.epoch + 1;
      effects.push({ type: "moved", from: s.last, to: node, epoch });
      s = {
        ...s,
        holder: node,
        epoch,
        expiresAt: now + config.ttlMs,
        revoking: false,
      };
      effects.push({ type: "grant", node, epoch, ttlMs: config.ttlMs });
    } else {
      effects.push({ type: "deny", node, holder: s.holder });
    }
  }
  return { state: s, effects };
}

/** Who should hold the lease now: the switchover target, else keep or preempt by priority. */
export function desiredHolder(s: LeaseState, now: number, config: LeaseConfig): string | null {
  const eligible = s.candidates.filter((c) => c.eligible);
  if (s.target !== null && eligible.some((c) => c.node === s.target)) return s.target;
  const best = [...eligible].sort((a, b) => b.priority - a.priority || (a.node < b.node ? -1 : 1))[0];
  const holder = eligible.find((c) => c.node === s.holder);
  if (!holder) return best?.node ?? null;
  if (!config.preempt || !best || best.node === holder.node || best.priority <= holder.priority) return holder.node;
  const waited = now - (s.eligibleSince[best.node] ?? now);
  return waited >= config.preemptDelayMs ? best.node : holder.node;
}

/** keepalived's track_script arithmetic: weights add while up (positive) or subtract while down (negative). */
export function effectivePriority(
  base: number,
  tracks: { weight: number; up: boolean }[],
): { priority: number; fault: boolean } {
  let priority = base;
  let fault = false;
  for (const t of tracks) {
    if (t.weight === 0 && !t.up) fault = true;
    else if (t.weight > 0 && t.up) priority += t.weight;
    else if (t.weight < 0 && !t.up) priority += t.weight;
  }
  return { priority: Math.max(1, Math.min(254, priority)), fault };
}
