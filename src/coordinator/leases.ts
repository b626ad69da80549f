/**
 * The coordinator's leases: runs the lease reducer (src/core/lease.ts) for every lease unit of
 * the cluster, stores each change of state in the Durable Object's SQLite before it sends
 * anything (whom it promised and the epochs, not each renewal: a restarted coordinator waits
 * out one TTL before it promises anyone new), and turns the reducer's effects into signed
 * commands and events.
 */
import type { ClusterDocument } from "../core/cluster.js";
import type { Command } from "../core/command.js";
import {
  afterRestart,
  desiredHolder,
  durable,
  initialLease,
  type LeaseEffect,
  type LeaseInput,
  type LeaseState,
  offerable,
  type Report,
  step,
} from "../core/lease.js";
import { type CandidateView, candidates, faultsOf, type LeaseUnit, leaseUnits } from "../core/lease-units.js";
import type { LeaseView } from "../core/lease-view.js";
import { votersOf } from "../core/majority.js";
import type { EventDraft } from "../core/verdict-events.js";
import type { VoteState } from "../core/vote.js";

export interface LeaseIo {
  /** Seals and sends a command to a node's agent if it is connected; never waits for an ack. */
  post(node: string, command: Command, epoch: number): Promise<void>;
  record(event: EventDraft): void;
  connected(node: string): boolean;
  verdict(target: string): VoteState;
}

export class LeaseKeeper {
  private units = new Map<string, LeaseUnit>();
  private readonly states = new Map<string, LeaseState>();
  /** `unit node` -> when that node last asked for the unit's lease. */
  private readonly asked = new Map<string, number>();
  private readonly drained = new Set<string>();
  /** The last offer sent per unit and when, so an alarm does not repeat it within a TTL. */
  private readonly offered = new Map<string, { offer: string; at: number }>();
  /** `unit node` pairs in fault (a weight-0 tracked check or interface down) whose agent was told. */
  private readonly faulted = new Set<string>();

  /** Units read from storage whose restart rules wait for their configuration (their TTL). */
  private readonly restarting = new Set<string>();
  /** The promises each unit's holder last reported, and when (not stored: they change with every renewal). */
  private readonly promised = new Map<
    string,
    { holder: string; at: number; promises: { voter: string; remainingMs: number }[] }
  >();

  constructor(
    private readonly sql: SqlStorage,
    private readonly io: LeaseIo,
  ) {
    for (const row of sql.exec<{ unit: string; body: string }>("SELECT unit, body FROM leases")) {
      this.states.set(row.unit, { ...initialLease(0), ...JSON.parse(row.body) });
      this.restarting.add(row.unit);
    }
    for (const row of sql.exec<{ node: string }>("SELECT node FROM drained")) this.drained.add(row.node);
  }

  /**
   * A restart forgets until when it promised: nobody new before one TTL plus grace. The stored
   * holder is taken as asking, so a standby's request arriving first does not revoke a holder
   * that is about to renew.
   */
  private restarted(now: number): void {
    for (const name of this.restarting) {
      const unit = this.units.get(name);
      const state = this.states.get(name);
      if (!unit || !state) continue;
      this.restarting.delete(name);
      const fresh = afterRestart(state, now, unit.config);
      this.states.set(name, fresh);
      if (fresh.holder !== null) this.asked.set(`${name} ${fresh.holder}`, now);
    }
  }

  /** Learns the cluster's lease units, and does nothing else: what a restarted object does before any input. */
  know(doc: ClusterDocument | null): void {
    this.units = new Map((doc ? leaseUnits(doc) : []).map((u) => [u.name, u]));
    this.restarted(Date.now());
  }

  /** Takes the cluster's current configuration; units that are gone are released and forgotten. */
  async configure(doc: ClusterDocument | null, now: number): Promise<void> {
    const units = new Map((doc ? leaseUnits(doc) : []).map((u) => [u.name, u]));
    const sends: Promise<void>[] = [];
    for (const [name, state] of this.states) {
      if (units.has(name)) continue;
      if (state.holder !== null) {
        const old = this.units.get(name);
        sends.push(
          this.io.post(state.holder, { type: "vip.release", group: name, vips: old?.spec.vips ?? [] }, state.epoch),
        );
        this.promised.delete(name);
      }
      this.states.delete(name);
      this.sql.exec("DELETE FROM leases WHERE unit = ?", name);
    }
    this.units = units;
    this.restarted(now);
    await Promise.all(sends);
    await this.refresh(now);
  }

  /** The lease units a node is a member of, as its agent needs them. */
  unitsOf(node: string): LeaseUnit[] {
    return [...this.units.values()].filter((u) => u.members.some((m) => m.node === node));
  }

  /**
   * A member's lease.request: what it knows of the unit, and (epoch > 0) a request for this
   * voter's promise. One issued longer ago than the TTL is not taken: the agent would find a
   * promise answering it already run out, and it may be the last words of an agent that has
   * since died, held up in a cut network (they must not make that node live, or win it the lease).
   */
  async request(
    node: string,
    unit: string,
    requestId: string,
    report: Report & { promises: { voter: string; remainingMs: number }[] },
    now: number,
    ageMs = 0,
  ): Promise<void> {
    const known = this.units.get(unit);
    if (!known?.members.some((m) => m.node === node)) return;
    if (ageMs > known.config.ttlMs) {
      console.warn(`coordinator: ${unit}: not taking ${node}'s lease request ${requestId}: issued ${ageMs} ms ago`);
      return;
    }
    this.asked.set(`${unit} ${node}`, now);
    if (report.holding) this.promised.set(unit, { holder: node, at: now, promises: report.promises });
    const { promises: _, ...said } = report;
    await this.apply(unit, { type: "request", node, ...said }, now, requestId);
  }

  /** A node's agent (re)connected or went away: it is not live for the unit until it asks anew. */
  forget(node: string): void {
    for (const name of this.units.keys()) this.asked.delete(`${name} ${node}`);
  }

  /**
   * A node gave the unit up (asked to, stopping, or its deadline passed). It is not taken for
   * live again until it asks anew: a stopping agent is not offered back what it just released.
   */
  async released(node: string, unit: string, epoch: number, now: number): Promise<void> {
    this.asked.delete(`${unit} ${node}`);
    await this.apply(unit, { type: "release", node, epoch }, now);
  }

  /** Moves a unit to a member; returns why not when it cannot. */
  async switchover(unit: string, to: string, now: number): Promise<string | null> {
    const u = this.units.get(unit);
    if (!u) return `no VIP group or sync group named ${unit}`;
    const member = this.view(now)
      .find((v) => v.group === unit)
      ?.members.find((m) => m.node === to);
    if (!member) return `${to} is not a member of ${unit}`;
    if (!member.eligible) return `${to} cannot hold ${unit}: ${member.reasons.join(", ")}`;
    await this.apply(unit, { type: "switchover", to }, now);
    return null;
  }

  async drain(node: string, drained: boolean, now: number): Promise<void> {
    if (drained) {
      this.drained.add(node);
      this.sql.exec("INSERT OR IGNORE INTO drained (node) VALUES (?)", node);
    } else {
      this.drained.delete(node);
      this.sql.exec("DELETE FROM drained WHERE node = ?", node);
    }
    await this.refresh(now);
  }

  isDrained(node: string): boolean {
    return this.drained.has(node);
  }

  /** Re-evaluates every unit: candidates, expiries, offers. */
  async refresh(now: number): Promise<void> {
    await Promise.all([...this.units.keys()].map((name) => this.apply(name, { type: "tick" }, now)));
    await this.faults();
  }

  /**
   * keepalived's FAULT state: a member whose weight-0 tracked check or interface went down is
   * told once, so its agent runs the unit's notify_fault hooks; it is told again only after it
   * recovered and failed anew.
   */
  private async faults(): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const unit of this.units.values()) {
      for (const { node } of unit.members) {
        const key = `${unit.name} ${node}`;
        if (faultsOf(unit, node, (t) => this.io.verdict(t)).length === 0) this.faulted.delete(key);
        else if (!this.faulted.has(key) && this.io.connected(node)) {
          this.faulted.add(key);
          // Under the unit's current epoch: the agent refuses anything about a unit older than what it saw.
          const epoch = this.states.get(unit.name)?.epoch ?? 0;
          sends.push(this.io.post(node, { type: "hook.run", group: unit.name, state: "fault" }, epoch));
        }
      }
    }
    await Promise.all(sends);
  }

  view(now: number): LeaseView[] {
    return [...this.units.values()].map((unit) => {
      const state = this.states.get(unit.name) ?? initialLease(now);
      const members = this.candidatesOf(unit, now);
      const { voters, majority } = votersOf(
        unit.members.map((m) => m.node),
        unit.spec.onCoordinatorLoss,
      );
      const seen = this.promised.get(unit.name);
      const report = seen && seen.holder === state.holder ? seen : null;
      const left = (voter: string) => {
        const p = report?.promises.find((x) => x.voter === voter);
        return p ? Math.max(0, p.remainingMs - (now - (report?.at ?? now))) : null;
      };
      const remaining = voters
        .map(left)
        .filter((x): x is number => x !== null && x > 0)
        .sort((a, b) => b - a);
      return {
        group: unit.name,
        vipGroups: unit.groups.map((g) => g.name),
        holder: state.holder,
        epoch: state.holder !== null ? state.holderEpoch : state.epoch,
        remainingMs: state.holder === null ? null : (remaining[majority - 1] ?? 0),
        desired: desiredHolder({ ...state, candidates: members }, now, unit.config),
        switchoverTo: state.target,
        members,
        onCoordinatorLoss: unit.spec.onCoordinatorLoss,
        voters: voters.map((voter) => {
          const ms = state.holder === null ? null : left(voter);
          return { voter, promised: ms !== null && ms > 0, remainingMs: ms };
        }),
        majority,
      };
    });
  }

  holder(unit: string): string | null {
    return this.states.get(unit)?.holder ?? null;
  }

  /** When a reported holder goes stale, the coordinator's promise may be offered, or a holder's silence should be noticed. */
  nextWake(now: number): number | null {
    let next: number | null = null;
    for (const unit of this.units.values()) {
      const s = this.states.get(unit.name);
      const { ttlMs, graceMs } = unit.config;
      const at = s?.holder
        ? Math.min(s.reportedAt + ttlMs + graceMs + 1, now + ttlMs / 2)
        : Math.max(Math.min(s?.voter.quietUntil ?? now, (s?.voter.until ?? now) + graceMs), now + ttlMs / 2);
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  /**
   * Who may hold the unit now. The holder the members report counts as live even when this
   * coordinator does not hear it (it is believed only while reported, and expires otherwise):
   * a holder cut off from the coordinator keeps its majority through its peers, a revoke would
   * not reach it, and a coordinator that stalled a moment must not take its own deafness for
   * the holder's silence.
   */
  private candidatesOf(unit: LeaseUnit, now: number): CandidateView[] {
    const window = unit.config.ttlMs + unit.config.graceMs;
    const holder = this.states.get(unit.name)?.holder ?? null;
    return candidates(
      unit,
      (node) => ({
        live:
          node === holder ||
          (this.io.connected(node) && now - (this.asked.get(`${unit.name} ${node}`) ?? -Infinity) <= window),
        drained: this.drained.has(node),
      }),
      (target) => this.io.verdict(target),
    );
  }

  private async apply(name: string, input: LeaseInput, now: number, requestId?: string): Promise<void> {
    const unit = this.units.get(name);
    if (!unit) return;
    const before = this.states.get(name) ?? initialLease(now);
    const fresh = step(
      before,
      { type: "candidates", candidates: this.candidatesOf(unit, now).map(({ reasons: _, ...c }) => c) },
      now,
      unit.config,
    );
    const out = step(fresh.state, input, now, unit.config);
    const state = out.state;
    const effects = [...fresh.effects, ...out.effects];
    if (JSON.stringify(durable(state)) !== JSON.stringify(durable(before))) this.save(name, state);
    this.states.set(name, state);
    // Stored first; only now does anything leave.
    const sends = effects.map((e) => this.perform(unit, e, requestId, state.epoch, now));
    const desired = desiredHolder(state, now, unit.config);
    if (offerable(state, desired, now, unit.config) && desired !== null) {
      // Once per change, and again each TTL while nobody takes it (a campaign may have failed).
      const offer = `${desired} ${state.epoch} ${state.last}`;
      const last = this.offered.get(name);
      if (last?.offer !== offer || now - last.at >= unit.config.ttlMs) {
        this.offered.set(name, { offer, at: now });
        console.log(
          `${new Date().toISOString()} coordinator: ${name}: offering it to ${desired} (epoch ${state.epoch})`,
        );
        sends.push(this.io.post(desired, { type: "lease.offer", group: name }, state.epoch));
      }
    } else if (state.holder !== null) this.offered.delete(name);
    await Promise.all(sends);
  }

  private perform(
    unit: LeaseUnit,
    effect: LeaseEffect,
    requestId: string | undefined,
    epoch: number,
    now: number,
  ): Promise<void> {
    switch (effect.type) {
      case "grant":
        return this.io.post(
          effect.node,
          {
            type: "vip.claim",
            group: unit.name,
            vips: unit.spec.vips,
            garp: unit.spec.garp,
            leaseMs: effect.ttlMs,
            request: requestId ?? "",
            leaseEpoch: effect.epoch,
          },
          epoch,
        );
      case "deny":
        if (!requestId) return Promise.resolve();
        return this.io.post(
          effect.node,
          { type: "lease.answer", group: unit.name, request: requestId, reason: effect.reason, epoch: effect.epoch },
          epoch,
        );
      case "revoke": {
        const why = this.candidatesOf(unit, now)
          .map((c) => `${c.node} ${c.eligible ? `priority ${c.priority}` : c.reasons.join(", ")}`)
          .join("; ");
        console.log(
          `${new Date().toISOString()} coordinator: ${unit.name}: asking ${effect.node} to release (epoch ${epoch}; ${why})`,
        );
        return this.io.post(effect.node, { type: "vip.release", group: unit.name, vips: unit.spec.vips }, epoch);
      }
      case "moved":
        this.io.record({
          type: "vip.moved",
          severity: effect.from === null ? "info" : "warning",
          subject: unit.name,
          details: {
            from: effect.from,
            to: effect.to,
            epoch: effect.epoch,
            reason: effect.reason,
            afterMs: effect.afterMs,
            vipGroups: unit.groups.map((g) => g.name),
          },
        });
        return Promise.resolve();
      case "expired":
        this.promised.delete(unit.name);
        this.io.record({
          type: "lease.expired",
          severity: "warning",
          subject: unit.name,
          details: { node: effect.node, epoch: effect.epoch },
        });
        return Promise.resolve();
      default:
        return Promise.resolve();
    }
  }

  private save(name: string, state: LeaseState): void {
    this.sql.exec("INSERT OR REPLACE INTO leases (unit, body) VALUES (?, ?)", name, JSON.stringify(durable(state)));
  }
}
