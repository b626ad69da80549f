/**
 * Leases by majority: the rules every voter and every candidate follow, with no I/O and no
 * clock of their own (each caller passes its own monotonic time).
 *
 * The voters on a unit are its members' agents, plus the coordinator when the member count is
 * even, so there is always an odd number of them and a strict majority exists (see votersOf).
 * A voter promises at most one candidate at a time, until a deadline on its own clock. A
 * candidate holds the unit while unexpired promises for one epoch cover it from a majority of
 * voters, each promise's end measured on the candidate's clock from when it sent the request,
 * shortened for the drift between two clocks. Two majorities share a voter, and that voter
 * promised only one of them at any instant: so two candidates never hold at once.
 *
 * A voter that restarts without its promises promises nobody new until the longest promise it
 * may have made has run out. A promise for a different candidate needs a higher epoch than any
 * the voter promised before, so epochs grow with every change of holder.
 */

/** The coordinator's name among a unit's voters (not a valid node name, so it never collides). */
export const COORDINATOR = "@coordinator";

/**
 * The bound on clock rates this protocol is safe for: every host's monotonic clock runs within
 * ±1% of real time, so two clocks differ by at most about 2%. NTP-disciplined clocks are
 * within 0.05%; a free-running quartz within 0.01%.
 */
export const DRIFT = 0.01;

export interface MajorityConfig {
  /** How long one promise lasts on the voter's clock. */
  ttlMs: number;
  /** A voter waits this much past an expired promise before it promises someone else. */
  graceMs: number;
  /** Taken off every promise on the candidate's side: timers fire late, `ip addr del` takes time. */
  marginMs: number;
  /** The clock-rate bound (DRIFT in production). */
  drift: number;
}

/** The deadline falls this much before the promise runs out, beyond drift: timers fire late, `ip addr del` takes time. */
export function marginMs(ttlMs: number): number {
  return Math.min(500, Math.max(100, Math.round(ttlMs / 10)));
}

/** The grace a voter waits past an expired promise: a fifth of the TTL, 100 to 300 ms. */
export function graceMs(ttlMs: number): number {
  return Math.min(300, Math.max(100, Math.round(ttlMs / 5)));
}

/** The production settings for a unit with this TTL. */
export function majorityConfig(ttlMs: number): MajorityConfig {
  return { ttlMs, graceMs: graceMs(ttlMs), marginMs: marginMs(ttlMs), drift: DRIFT };
}

export type CoordinatorLoss = "quorum" | "release" | "hold";

/**
 * Who votes on a unit and how many promises hold it. `quorum`: the members, plus the
 * coordinator when their count is even (1 member: itself alone, as keepalived's lone
 * director; 2: both and the coordinator, 2 of 3; 3: the three, 2 of 3; 4: the four and the
 * coordinator, 3 of 5). `release` and `hold`: the coordinator alone, as before quorum leases.
 */
export function votersOf(members: readonly string[], policy: CoordinatorLoss): { voters: string[]; majority: number } {
  if (policy !== "quorum") return { voters: [COORDINATOR], majority: 1 };
  const voters = members.length % 2 === 0 ? [...members, COORDINATOR] : [...members];
  return { voters, majority: Math.floor(voters.length / 2) + 1 };
}

// ---------------------------------------------------------------- voter

export interface VoterState {
  /** Whom the last promise went to; null when it was released (or never made). */
  to: string | null;
  /** The highest epoch this voter promised. */
  epoch: number;
  /** The last promise ends here (voter's clock). */
  until: number;
  /** After a restart without the promises: nothing new before this (voter's clock). */
  quietUntil: number;
}

export interface PromiseRequest {
  candidate: string;
  epoch: number;
}

/** A refusal carries the voter's highest epoch, so a candidate learns what to ask under next. */
export type Answer =
  | { granted: true; epoch: number; ttlMs: number }
  | { granted: false; reason: string; epoch: number; to: string | null };

/**
 * A voter that just started: it may have promised someone before it stopped, for up to one TTL
 * (plus grace) from then, and it does not know whom. `remembered` is what it kept on disk, if
 * anything: a promise to the same candidate and epoch can be renewed during the quiet time.
 */
export function voterAfterStart(
  now: number,
  config: MajorityConfig,
  remembered: { to: string | null; epoch: number } = { to: null, epoch: 0 },
  rules: Rules = RULES,
): VoterState {
  return { ...remembered, until: now, quietUntil: rules.quietUntil(now, config) };
}

export function freshVoter(): VoterState {
  return { to: null, epoch: 0, until: 0, quietUntil: 0 };
}

/**
 * A voter's answer to a request. `allowed` is the policy's word (the coordinator's choice, or
 * the status quo without it); it never overrides the safety rules, and a renewal of the live
 * promise needs no permission.
 */
export function answer(
  s: VoterState,
  req: PromiseRequest,
  allowed: { ok: true } | { ok: false; reason: string },
  now: number,
  config: MajorityConfig,
  rules: Rules = RULES,
): { state: VoterState; answer: Answer } {
  const grant = (): { state: VoterState; answer: Answer } => ({
    state: { ...s, to: req.candidate, epoch: req.epoch, until: now + config.ttlMs },
    answer: { granted: true, epoch: req.epoch, ttlMs: config.ttlMs },
  });
  const refuse = (reason: string) => ({
    state: s,
    answer: { granted: false as const, reason, epoch: s.epoch, to: s.to },
  });
  if (s.to === req.candidate && s.epoch === req.epoch) return grant();
  if (now < s.quietUntil) return refuse(`restarted: promises nothing new for ${Math.ceil(s.quietUntil - now)} ms`);
  if (!rules.free(s, now, config)) return refuse(`promised to ${s.to} (epoch ${s.epoch})`);
  if (req.epoch <= s.epoch) return refuse(`epoch ${req.epoch} is not above ${s.epoch}`);
  if (!allowed.ok) return refuse(allowed.reason);
  return grant();
}

/** The holder gave the unit up: its promise ends now, and the epoch stays spent. */
export function released(s: VoterState, req: PromiseRequest): VoterState {
  return s.to === req.candidate && s.epoch === req.epoch ? { ...s, to: null } : s;
}

// ---------------------------------------------------------------- candidate

/** One promise as the candidate counts it: until `deadline` on the candidate's clock. */
export interface HeldPromise {
  voter: string;
  epoch: number;
  deadline: number;
}

/** Where a promise answering a request sent at `sentAt` ends on the candidate's clock. */
export function promiseDeadline(sentAt: number, ttlMs: number, config: MajorityConfig, rules: Rules = RULES): number {
  return rules.deadline(sentAt, ttlMs, config);
}

/**
 * Until when (candidate's clock) the promises cover `epoch` from a majority: the majority-th
 * latest unexpired deadline, or null when they do not cover it now.
 */
export function heldUntil(
  promises: Iterable<HeldPromise>,
  epoch: number,
  majority: number,
  now: number,
  rules: Rules = RULES,
): number | null {
  const deadlines = [...promises]
    .filter((p) => p.epoch === epoch && rules.counts(p, now))
    .map((p) => p.deadline)
    .sort((a, b) => b - a);
  return deadlines.length >= majority ? (deadlines[majority - 1] as number) : null;
}

// ---------------------------------------------------------------- the rules themselves

/**
 * The four rules safety rests on, named so the property test can show that breaking any one
 * of them breaks "never two holders".
 */
export interface Rules {
  /** The voter may promise someone new: its last promise was released, or ran out plus grace. */
  free(s: VoterState, now: number, config: MajorityConfig): boolean;
  /** When a started voter may promise again. */
  quietUntil(now: number, config: MajorityConfig): number;
  /** A promise's end on the candidate's clock: shortened by the worst clock-rate ratio and the margin. */
  deadline(sentAt: number, ttlMs: number, config: MajorityConfig): number;
  /** A promise the candidate may count now. */
  counts(p: HeldPromise, now: number): boolean;
}

export const RULES: Rules = {
  free: (s, now, config) => s.to === null || now >= s.until + config.graceMs,
  quietUntil: (now, config) => now + config.ttlMs + config.graceMs,
  // The voter's TTL on its clock lasts at least ttl/(1+drift) real ms; the candidate's clock
  // counts that as at least ttl*(1-drift)/(1+drift). The voter started after the request left.
  deadline: (sentAt, ttlMs, config) =>
    sentAt + Math.floor((ttlMs * (1 - config.drift)) / (1 + config.drift)) - config.marginMs,
  counts: (p, now) => now < p.deadline,
};

// ---------------------------------------------------------------- policy without the coordinator

/** What one member says of itself to its peers. */
export interface PeerState {
  node: string;
  /** No weight-0 tracked check it runs itself is down, and it is not stopping. */
  eligible: boolean;
  /** Its priority with its own tracked checks' weights applied. */
  priority: number;
  /** It holds the unit now, under `epoch`. */
  holding: boolean;
  epoch: number;
  /** When it was last heard (the listener's clock). */
  heardAt: number;
}

/**
 * The status quo, for directors that cannot reach the coordinator: nobody preempts a live
 * holder; with none, the eligible member heard within one TTL with the highest priority (then
 * the lowest name) should hold.
 */
export function statusQuoChoice(peers: readonly PeerState[], now: number, ttlMs: number): string | null {
  const live = peers.filter((p) => now - p.heardAt <= ttlMs);
  const holder = live.find((p) => p.holding);
  if (holder) return holder.node;
  const best = live.filter((p) => p.eligible).sort((a, b) => b.priority - a.priority || (a.node < b.node ? -1 : 1))[0];
  return best?.node ?? null;
}
