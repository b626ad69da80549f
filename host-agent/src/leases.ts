/**
 * The agent's side of the lease. For every lease unit it is a member of, it asks for the lease
 * every third of the TTL. A grant answers one request, and the lease runs from when that
 * request was sent, on this host's monotonic clock, minus a margin: so the agent's deadline
 * always falls before the coordinator's. At the deadline the agent removes the VIPs itself,
 * without the network; the watchdog does the same if the agent is gone by then.
 */
import type { Command, LeaseUnitSpec } from "../../src/core/command.js";
import type { Vip } from "../../src/core/vip-group.js";
import type { NotifyState } from "../../src/core/vocabulary.js";
import type { ProgramGate } from "./allowlist.js";
import { runHooks } from "./hooks.js";
import type { Runner } from "./runner.js";
import { announce, ensureVip } from "./vip.js";

/** The deadline falls this much before the lease runs out: timers fire late, `ip addr del` takes time. */
export function marginMs(leaseMs: number): number {
  return Math.min(500, Math.max(100, Math.round(leaseMs / 10)));
}

export interface LeaseDeps {
  runner: Runner;
  /** Signs and sends a message; the id it was sent under, or null when not connected. */
  send(command: Command, group: string): Promise<string | null>;
  connected(): boolean;
  /** What the watchdog should remove if the agent dies: every held VIP and the nearest deadline. */
  watchdog(vips: Vip[], remainingMs: number): void;
  /** The agent's allowlist, for notify and fault hooks. */
  gate: ProgramGate;
  log(line: string): void;
  /** Monotonic milliseconds. */
  now(): number;
}

interface Unit {
  spec: LeaseUnitSpec;
  holding: boolean;
  epoch: number;
  deadline: number;
  /** Request id -> when it was sent. */
  sent: Map<string, number>;
  renew: ReturnType<typeof setInterval> | null;
  expiry: ReturnType<typeof setTimeout> | null;
  refresh: ReturnType<typeof setInterval> | null;
  /** Host changes for this unit run one after another. */
  chain: Promise<void>;
}

export class LeaseClient {
  private readonly units = new Map<string, Unit>();

  constructor(private readonly deps: LeaseDeps) {}

  /** The coordinator's list of units for this node; units no longer listed are released. */
  setUnits(specs: LeaseUnitSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, unit] of this.units) {
      if (wanted.has(name)) continue;
      this.stopTimers(unit);
      if (unit.holding) this.queue(unit, () => this.drop(unit, "backup", "no longer a member"));
      this.units.delete(name);
    }
    for (const spec of specs) {
      const unit = this.units.get(spec.name);
      if (unit) {
        const intervalChanged = unit.spec.leaseMs !== spec.leaseMs;
        unit.spec = spec;
        if (intervalChanged) this.startRenewal(unit);
        continue;
      }
      const fresh: Unit = {
        spec,
        holding: false,
        epoch: 0,
        deadline: 0,
        sent: new Map(),
        renew: null,
        expiry: null,
        refresh: null,
        chain: Promise.resolve(),
      };
      this.units.set(spec.name, fresh);
      this.startRenewal(fresh);
      void this.request(fresh);
    }
  }

  /** A grant: claim the VIPs if not held yet, and move the deadline. Answers what happened. */
  async claim(command: Extract<Command, { type: "vip.claim" }>, epoch: number): Promise<Record<string, unknown>> {
    const unit = this.units.get(command.group);
    if (!unit) throw new Error(`not a member of ${command.group}`);
    const sentAt = unit.sent.get(command.request);
    if (sentAt === undefined) throw new Error(`grant for an unknown or old request ${command.request}`);
    const deadline = sentAt + command.leaseMs - marginMs(command.leaseMs);
    const now = this.deps.now();
    if (deadline <= now) throw new Error(`grant arrived after its deadline (${Math.round(now - deadline)} ms late)`);
    const fresh = !unit.holding || unit.epoch !== epoch;
    const dropped = unit.spec.vips.filter(
      (v) => !command.vips.some((c) => c.cidr === v.cidr && c.interface === v.interface),
    );
    const changed = dropped.length > 0 || command.vips.length !== unit.spec.vips.length;
    unit.spec = { ...unit.spec, vips: command.vips, garp: command.garp };
    unit.holding = true;
    unit.epoch = epoch;
    unit.deadline = fresh ? deadline : Math.max(unit.deadline, deadline);
    this.armExpiry(unit);
    this.tellWatchdog();
    if (fresh) await this.queue(unit, () => this.take(unit));
    else if (changed) await this.queue(unit, () => this.reconcile(unit, dropped));
    return { holding: true, epoch, remainingMs: Math.round(unit.deadline - now) };
  }

  /** The coordinator wants the VIPs back (switchover, preemption, drain, an ineligible holder). */
  async release(group: string): Promise<Record<string, unknown>> {
    const unit = this.units.get(group);
    if (!unit) return { holding: false };
    if (unit.holding) await this.queue(unit, () => this.drop(unit, "backup", "released on request"));
    return { holding: false };
  }

  /** The lease is free and this node should have it. */
  async offered(group: string): Promise<void> {
    const unit = this.units.get(group);
    if (unit) await this.request(unit);
  }

  /** A graceful stop: give every VIP back now, so the next holder need not wait for the lease to run out. */
  async stop(): Promise<void> {
    const drops: Promise<void>[] = [];
    for (const unit of this.units.values()) {
      this.stopTimers(unit);
      if (unit.holding) drops.push(this.queue(unit, () => this.drop(unit, "stop", "agent stopping")));
    }
    await Promise.all(drops);
  }

  holding(): { group: string; epoch: number; remainingMs: number }[] {
    const now = this.deps.now();
    return [...this.units.values()]
      .filter((u) => u.holding)
      .map((u) => ({ group: u.spec.name, epoch: u.epoch, remainingMs: Math.max(0, Math.round(u.deadline - now)) }));
  }

  private startRenewal(unit: Unit): void {
    if (unit.renew) clearInterval(unit.renew);
    unit.renew = setInterval(() => void this.request(unit), Math.max(50, Math.floor(unit.spec.leaseMs / 3)));
  }

  private async request(unit: Unit): Promise<void> {
    const sentAt = this.deps.now();
    let id: string | null = null;
    try {
      id = await this.deps.send({ type: "lease.request", group: unit.spec.name }, unit.spec.name);
    } catch (err) {
      this.deps.log(`${unit.spec.name}: lease request not sent: ${(err as Error).message}`);
    }
    if (id === null) return;
    unit.sent.set(id, sentAt);
    // Forget requests whose grant could no longer be used.
    for (const [old, at] of unit.sent) if (sentAt - at > unit.spec.leaseMs) unit.sent.delete(old);
  }

  private armExpiry(unit: Unit): void {
    if (unit.expiry) clearTimeout(unit.expiry);
    unit.expiry = setTimeout(() => this.expired(unit), Math.max(0, unit.deadline - this.deps.now()));
  }

  private expired(unit: Unit): void {
    if (!unit.holding) return;
    if (unit.spec.onCoordinatorLoss === "hold" && !this.deps.connected()) {
      // The operator chose availability over safety for this group: keep the VIPs while cut off.
      unit.deadline = this.deps.now() + unit.spec.leaseMs;
      this.deps.log(`${unit.spec.name}: lease ran out with the coordinator unreachable; holding (policy hold)`);
      this.armExpiry(unit);
      this.tellWatchdog();
      return;
    }
    void this.queue(unit, () => this.drop(unit, "backup", "lease ran out"));
  }

  private async take(unit: Unit): Promise<void> {
    if (!unit.holding) return;
    for (const vip of unit.spec.vips) await ensureVip(this.deps.runner, vip, true);
    this.deps.log(`${unit.spec.name}: holding ${unit.spec.vips.map((v) => v.cidr).join(", ")} (epoch ${unit.epoch})`);
    const { count, interval, refresh } = unit.spec.garp;
    // Announce in the background: renewals must not wait for the burst.
    const holding = () => unit.holding;
    void Promise.all(
      unit.spec.vips.map((vip) => announce(this.deps.runner, vip, count, interval, undefined, holding)),
    ).catch((err) => this.deps.log(`${unit.spec.name}: gratuitous ARP failed: ${(err as Error).message}`));
    if (refresh > 0 && unit.refresh === null) {
      unit.refresh = setInterval(() => {
        if (unit.holding)
          for (const vip of unit.spec.vips)
            void announce(this.deps.runner, vip, 1, 0, undefined, holding).catch(() => undefined);
      }, refresh * 1000);
    }
    await this.notify(unit, "master");
  }

  /** The group's VIPs changed while held: add the new ones (and announce them), remove the old. */
  private async reconcile(unit: Unit, dropped: Vip[]): Promise<void> {
    if (!unit.holding) return;
    for (const vip of dropped) await ensureVip(this.deps.runner, vip, false);
    for (const vip of unit.spec.vips) {
      if ((await ensureVip(this.deps.runner, vip, true)) === "changed")
        void announce(
          this.deps.runner,
          vip,
          unit.spec.garp.count,
          unit.spec.garp.interval,
          undefined,
          () => unit.holding,
        );
    }
    this.tellWatchdog();
  }

  private async drop(unit: Unit, state: NotifyState, why: string): Promise<void> {
    if (!unit.holding) return;
    unit.holding = false;
    if (unit.expiry) clearTimeout(unit.expiry);
    if (unit.refresh) clearInterval(unit.refresh);
    unit.refresh = null;
    this.tellWatchdog();
    for (const vip of unit.spec.vips) {
      try {
        await ensureVip(this.deps.runner, vip, false);
      } catch (err) {
        this.deps.log(`${unit.spec.name}: removing ${vip.cidr}: ${(err as Error).message}`);
      }
    }
    this.deps.log(`${unit.spec.name}: released (${why}, epoch ${unit.epoch})`);
    try {
      await this.deps.send({ type: "lease.released", group: unit.spec.name, leaseEpoch: unit.epoch }, unit.spec.name);
    } catch {
      // Unreachable coordinator: it lets the lease expire instead.
    }
    await this.notify(unit, state);
  }

  /** Runs the unit's notify hooks for a state the coordinator saw (fault: a weight-0 tracked check or interface down). */
  async runHooks(group: string, state: NotifyState): Promise<Record<string, unknown>> {
    const unit = this.units.get(group);
    if (!unit) throw new Error(`no lease unit ${group} on this node`);
    this.deps.log(`${group}: ${state}`);
    await this.notify(unit, state);
    return { group, state };
  }

  private notify(unit: Unit, state: NotifyState): Promise<void> {
    return runHooks(
      this.deps.runner,
      unit.spec.notify,
      state,
      unit.spec.name,
      unit.epoch,
      this.deps.gate,
      this.deps.log,
    );
  }

  private tellWatchdog(): void {
    const held = [...this.units.values()].filter((u) => u.holding);
    const now = this.deps.now();
    const remaining = held.length === 0 ? 0 : Math.max(0, Math.min(...held.map((u) => u.deadline)) - now);
    this.deps.watchdog(
      held.flatMap((u) => u.spec.vips),
      remaining,
    );
  }

  private stopTimers(unit: Unit): void {
    if (unit.renew) clearInterval(unit.renew);
    unit.renew = null;
  }

  private queue(unit: Unit, task: () => Promise<void>): Promise<void> {
    const next = unit.chain.then(task).catch((err) => this.deps.log(`${unit.spec.name}: ${(err as Error).message}`));
    unit.chain = next;
    return next;
  }
}
