/**
 * One lease unit as this agent takes part in it: a candidate for the lease and a voter on it
 * (src/core/majority.ts holds the rules). No host actions and no sockets here: the lease
 * client (leases.ts) sends what this returns and acts when the holding changes.
 *
 * Who may get this voter's promise: while the coordinator is reachable, whoever it offered the
 * unit to (its choice is the rule); without it, the status quo: the live holder, or with none
 * the best eligible member. A renewal of the live promise needs nobody's consent.
 */
import type { LeaseUnitSpec } from "../../src/core/command.js";
import {
  type Answer,
  answer,
  COORDINATOR,
  freshVoter,
  type HeldPromise,
  heldUntil,
  type MajorityConfig,
  majorityConfig,
  type PeerState,
  promiseDeadline,
  released,
  statusQuoChoice,
  type VoterState,
  voterAfterStart,
  votersOf,
} from "../../src/core/majority.js";
import type { PeerMessage } from "../../src/core/peer.js";

export type Because = "renew" | "offer" | "status-quo";

/** One request to send: to a peer, to the coordinator, or answered here by this node's own voter. */
export interface Ask {
  voter: string;
  id: string;
  epoch: number;
  because: Because;
}

export class MajorityUnit {
  voters: string[] = [];
  majority = 1;
  config: MajorityConfig;
  voter: VoterState;
  /** The epoch this node campaigns or holds under; 0 when it does neither. */
  epoch = 0;
  because: Because = "renew";
  /** The highest epoch heard of anywhere. */
  knownEpoch: number;
  /** A campaign gives up here without a majority. */
  campaignUntil = 0;
  readonly promises = new Map<string, HeldPromise>();
  /** Request id -> when it was sent. */
  private readonly sent = new Map<string, number>();
  readonly peers = new Map<string, PeerState>();
  private nextId = 1;

  constructor(
    public spec: LeaseUnitSpec,
    readonly self: string,
    remembered: { to: string | null; epoch: number } | null,
    now: number,
  ) {
    this.config = majorityConfig(spec.leaseMs);
    // Whom this voter promised survives a restart; until when does not: it waits that out.
    this.voter = remembered ? voterAfterStart(now, this.config, remembered) : freshVoter();
    this.knownEpoch = this.voter.epoch;
    this.configure(spec);
  }

  configure(spec: LeaseUnitSpec): void {
    this.spec = spec;
    this.config = majorityConfig(spec.leaseMs);
    const { voters, majority } = votersOf(
      spec.members.map((m) => m.node),
      spec.onCoordinatorLoss,
    );
    this.voters = voters;
    this.majority = majority;
  }

  get quorum(): boolean {
    return this.spec.onCoordinatorLoss === "quorum";
  }

  /** The peers among the voters (everyone but this node and the coordinator). */
  peerVoters(): string[] {
    return this.voters.filter((v) => v !== this.self && v !== COORDINATOR);
  }

  /** Starts a campaign under a fresh epoch above everything heard of (and the coordinator's hint). */
  campaign(because: Because, hint: number, now: number): Ask[] {
    this.epoch = Math.max(this.knownEpoch, this.voter.epoch, hint) + 1;
    this.knownEpoch = this.epoch;
    this.because = because;
    this.campaignUntil = now + this.config.ttlMs;
    this.promises.clear();
    return this.asks(now);
  }

  /** One round of requests to every voter, under the current epoch. */
  asks(now: number): Ask[] {
    if (this.epoch === 0) return [];
    for (const [id, at] of this.sent) if (now - at > this.config.ttlMs) this.sent.delete(id);
    return this.voters.map((voter) => {
      const id = `${this.self}.${this.nextId++}`;
      this.sent.set(id, now);
      return { voter, id, epoch: this.epoch, because: this.because };
    });
  }

  /** When a request still worth answering was sent, or undefined. */
  sentAt(id: string): number | undefined {
    return this.sent.get(id);
  }

  /** The coordinator's request went out under its own id (its envelope's), not the one planned. */
  rename(planned: string, actual: string | null): void {
    const at = this.sent.get(planned);
    this.sent.delete(planned);
    if (actual !== null && at !== undefined) this.sent.set(actual, at);
  }

  /** An answer from a voter (this node's own, a peer, or the coordinator). */
  onAnswer(voter: string, id: string, a: Answer, now: number): void {
    this.knownEpoch = Math.max(this.knownEpoch, a.epoch);
    const sentAt = this.sent.get(id);
    if (!a.granted || sentAt === undefined || a.epoch !== this.epoch) return;
    const deadline = promiseDeadline(sentAt, a.ttlMs, this.config);
    const old = this.promises.get(voter);
    if (!old || old.epoch !== a.epoch || old.deadline < deadline)
      this.promises.set(voter, { voter, epoch: a.epoch, deadline });
    if (deadline <= now) this.promises.delete(voter);
  }

  /** Until when (this host's clock) a majority covers this node, or null. */
  heldUntil(now: number): number | null {
    return this.epoch === 0 ? null : heldUntil(this.promises.values(), this.epoch, this.majority, now);
  }

  /** A campaign that got nowhere for one TTL stops; so does one overtaken by a higher epoch. */
  campaignStale(now: number, holding: boolean): boolean {
    return !holding && this.epoch !== 0 && (now >= this.campaignUntil || this.knownEpoch > this.epoch);
  }

  /** Stops campaigning or holding (the caller releases what it held). */
  stand(): void {
    this.epoch = 0;
    this.promises.clear();
  }

  /** This node's own voter answers a request; the caller persists `voter` when `changed`. */
  vote(
    candidate: string,
    epoch: number,
    because: Because,
    ctx: { coordinatorReachable: boolean; selfState: PeerState },
    now: number,
  ): { answer: Answer; changed: boolean } {
    const before = this.voter;
    const allowed = this.consent(candidate, because, ctx, now);
    const out = answer(this.voter, { candidate, epoch }, allowed, now, this.config);
    this.voter = out.state;
    return { answer: out.answer, changed: before.to !== out.state.to || before.epoch !== out.state.epoch };
  }

  private consent(
    candidate: string,
    because: Because,
    ctx: { coordinatorReachable: boolean; selfState: PeerState },
    now: number,
  ): { ok: true } | { ok: false; reason: string } {
    if (because === "offer") return { ok: true };
    const views = [...this.peers.values(), ctx.selfState];
    if (because === "renew" && views.some((p) => p.node === candidate && p.holding)) return { ok: true };
    if (ctx.coordinatorReachable) return { ok: false, reason: "the coordinator decides while it is reachable" };
    const choice = statusQuoChoice(views, now, this.config.ttlMs);
    return choice === candidate ? { ok: true } : { ok: false, reason: `${choice ?? "nobody"} should hold` };
  }

  /** A holder's release: returns true when this voter's promise ended. */
  onRelease(candidate: string, epoch: number): boolean {
    const before = this.voter;
    this.voter = released(this.voter, { candidate, epoch });
    return before !== this.voter;
  }

  onState(from: string, m: Extract<PeerMessage, { type: "state" }>, now: number): void {
    this.knownEpoch = Math.max(this.knownEpoch, m.epoch);
    this.peers.set(from, {
      node: from,
      eligible: m.eligible,
      priority: m.priority,
      holding: m.holding,
      epoch: m.epoch,
      heardAt: now,
    });
  }

  /** A peer heard within one TTL that says it holds the unit, if any. */
  peerHolder(now: number): PeerState | null {
    for (const p of this.peers.values()) if (p.holding && now - p.heardAt <= this.config.ttlMs) return p;
    return null;
  }

  /** The promises that cover this node now, for the coordinator's view. */
  promiseView(now: number): { voter: string; remainingMs: number }[] {
    return [...this.promises.values()]
      .filter((p) => p.epoch === this.epoch && p.deadline > now)
      .map((p) => ({ voter: p.voter, remainingMs: Math.round(p.deadline - now) }));
  }
}
