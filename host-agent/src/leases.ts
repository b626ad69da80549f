/**
 * The agent's side of the lease. For every lease unit it is a member of, it is a candidate and
 * a voter (majority-unit.ts): it holds the unit's VIPs while promises from a majority of the
 * unit's voters cover it, each measured on this host's monotonic clock from when it asked,
 * shortened for drift and a margin, so its deadline falls before any voter may promise anyone
 * else. At the deadline it removes the VIPs itself, without the network; the watchdog does the
 * same if the agent is gone by then.
 *
 * Every third of the TTL it renews (or reports, when it holds nothing) to the coordinator and
 * tells its peers its state. It campaigns when the coordinator offers it the unit, or, with the
 * coordinator unreachable and `onCoordinatorLoss: quorum`, when the status quo names it.
 */
import type { Command, LeaseUnitSpec } from "../../src/core/command.js";
import { effectivePriority } from "../../src/core/lease.js";
import { type Answer, COORDINATOR, type PeerState, promiseDeadline, statusQuoChoice } from "../../src/core/majority.js";
import type { PeerMessage } from "../../src/core/peer.js";
import type { Vip } from "../../src/core/vip-group.js";
import type { NotifyState } from "../../src/core/vocabulary.js";
import type { VoteState } from "../../src/core/vote.js";
import type { ProgramGate } from "./allowlist.js";
import { HeldVips } from "./held-vips.js";
import { runHooks } from "./hooks.js";
import { ensureSyncRole, type SyncRole } from "./lvs-sync.js";
import { type Ask, MajorityUnit } from "./majority-unit.js";
import type { PeerAddress } from "./peers.js";
import type { Runner } from "./runner.js";

export { marginMs } from "../../src/core/majority.js";

export interface LeaseDeps {
  /** This node's name. */
  node: string;
  runner: Runner;
  /** Signs and sends a message to the coordinator; the id it was sent under, or null when not connected. */
  send(command: Command, group: string): Promise<string | null>;
  connected(): boolean;
  /** Sends a lease message to a peer director (dropped when the peer link is down). */
  peer(to: string, message: PeerMessage): void;
  /** The directors this node exchanges promises with, across all its units. */
  setPeers(peers: PeerAddress[]): void;
  /** The UDP port this agent listens on for its peers. */
  peerPort: number;
  /** What the watchdog should remove if the agent dies: every held VIP and the nearest deadline. */
  watchdog(vips: Vip[], remainingMs: number): void;
  /** This agent's own verdict on a target it checks. */
  verdict(target: string): VoteState;
  /** Whom this node's voter promised, per unit: kept across restarts. */
  promises: {
    load(): Record<string, { to: string | null; epoch: number }>;
    save(all: Record<string, { to: string | null; epoch: number }>): void;
  };
  /**
   * Whether this agent left IPVS sync daemons running: kept across restarts, so a later run
   * stops daemons an earlier one started once no group syncs any more, and never one it did not start.
   */
  syncDaemons: { load(): boolean; save(started: boolean): void };
  /** The agent's allowlist, for notify and fault hooks. */
  gate: ProgramGate;
  log(line: string): void;
  /** Monotonic milliseconds. */
  now(): number;
}

interface Unit {
  m: MajorityUnit;
  holding: boolean;
  deadline: number;
  tick: ReturnType<typeof setInterval> | null;
  expiry: ReturnType<typeof setTimeout> | null;
  /** Its VIPs on this host while held. */
  vips: HeldVips;
  /** Host changes for this unit run one after another. */
  chain: Promise<void>;
}

export class LeaseClient {
  private readonly units = new Map<string, Unit>();
  private coordinatorHeardAt = Number.NEGATIVE_INFINITY;
  private stopping = false;
  private readonly remembered: Record<string, { to: string | null; epoch: number }>;
  /** Sync daemons this agent (this run or an earlier one) started and has not stopped. */
  private syncStarted: boolean;
  /** The stop of the daemons an earlier run left, when the first list of units syncs nothing: role changes wait for it. */
  private leftDaemons: Promise<void> | null = null;
  private unitsSeen = false;

  constructor(private readonly deps: LeaseDeps) {
    this.remembered = deps.promises.load();
    this.syncStarted = deps.syncDaemons.load();
  }

  /** The coordinator's list of units for this node; units no longer listed are released. */
  setUnits(specs: LeaseUnitSpec[]): void {
    this.heard();
    if (!this.unitsSeen) {
      this.unitsSeen = true;
      // An earlier run started the daemons (and died, or the setting went while it was down).
      if (this.syncStarted && !specs.some((s) => s.lvsSync))
        this.leftDaemons = this.stopDaemons(
          "no VIP group syncs connections",
          "IPVS connection sync stopped: an earlier run of this agent started it, and no VIP group here syncs connections now",
        );
    }
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, unit] of this.units) {
      if (wanted.has(name)) continue;
      this.stopTimers(unit);
      if (unit.holding) this.queue(unit, () => this.drop(unit, "backup", "no longer a member"));
      if (unit.m.spec.lvsSync) void this.queue(unit, () => this.stopSync(unit));
      this.units.delete(name);
    }
    const now = this.deps.now();
    for (const spec of specs) {
      const unit = this.units.get(spec.name);
      if (unit) {
        const intervalChanged = unit.m.spec.leaseMs !== spec.leaseMs;
        const syncChanged = JSON.stringify(unit.m.spec.lvsSync) !== JSON.stringify(spec.lvsSync);
        unit.m.configure(spec);
        if (intervalChanged) this.startTicks(unit);
        if (syncChanged)
          void this.queue(unit, () =>
            spec.lvsSync ? this.syncRole(unit, unit.holding ? "master" : "backup") : this.stopSync(unit),
          );
        continue;
      }
      const fresh: Unit = {
        m: new MajorityUnit(spec, this.deps.node, this.remembered[spec.name] ?? null, now),
        holding: false,
        deadline: 0,
        tick: null,
        expiry: null,
        vips: new HeldVips(this.deps.runner, this.deps.log),
        chain: Promise.resolve(),
      };
      this.units.set(spec.name, fresh);
      this.startTicks(fresh);
      // A member that does not hold takes the holder's connections in, ready for a failover.
      if (spec.lvsSync) void this.queue(fresh, () => this.syncRole(fresh, "backup"));
      void this.tick(fresh);
    }
    this.deps.setPeers(this.peerAddresses());
    for (const spec of specs) {
      const own = spec.members.find((m) => m.node === this.deps.node);
      if (spec.onCoordinatorLoss === "quorum" && own && own.peerPort !== this.deps.peerPort)
        this.deps.log(
          `${spec.name}: the cluster says peers reach this node on port ${own.peerPort}, but it listens on ${this.deps.peerPort}: set peerPort to the same value in both`,
        );
    }
  }

  /** The coordinator's promise (its grant): counted like any voter's. Answers what happened. */
  async claim(command: Extract<Command, { type: "vip.claim" }>): Promise<Record<string, unknown>> {
    this.heard();
    const unit = this.units.get(command.group);
    if (!unit) throw new Error(`not a member of ${command.group}`);
    const sentAt = unit.m.sentAt(command.request);
    if (sentAt === undefined) throw new Error(`grant for an unknown or old request ${command.request}`);
    const now = this.deps.now();
    unit.m.onAnswer(
      COORDINATOR,
      command.request,
      { granted: true, epoch: command.leaseEpoch, ttlMs: command.leaseMs },
      now,
    );
    const deadline = promiseDeadline(sentAt, command.leaseMs, unit.m.config);
    if (deadline <= now) throw new Error(`grant arrived after its deadline (${Math.round(now - deadline)} ms late)`);
    if (command.leaseEpoch !== unit.m.epoch)
      throw new Error(
        unit.m.epoch === 0
          ? `grant under epoch ${command.leaseEpoch}, but this node no longer asks for ${command.group}`
          : `grant under epoch ${command.leaseEpoch}, but this node asks under epoch ${unit.m.epoch}`,
      );
    const dropped = unit.m.spec.vips.filter(
      (v) => !command.vips.some((c) => c.cidr === v.cidr && c.interface === v.interface),
    );
    const changed = dropped.length > 0 || command.vips.length !== unit.m.spec.vips.length;
    unit.m.spec = { ...unit.m.spec, vips: command.vips, garp: command.garp };
    await this.evaluate(unit);
    if (unit.holding && changed) await this.queue(unit, () => this.reconcile(unit, dropped));
    return {
      holding: unit.holding,
      epoch: unit.m.epoch,
      remainingMs: unit.holding ? Math.round(unit.deadline - this.deps.now()) : 0,
    };
  }

  /** The coordinator did not grant (or was only told): its epoch and its reason. */
  answered(command: Extract<Command, { type: "lease.answer" }>): Record<string, unknown> {
    this.heard();
    const unit = this.units.get(command.group);
    if (!unit) return {};
    const answer: Answer = { granted: false, reason: command.reason ?? "", epoch: command.epoch, to: null };
    unit.m.onAnswer(COORDINATOR, command.request, answer, this.deps.now());
    return { epoch: command.epoch };
  }

  /** The coordinator wants the VIPs back (switchover, preemption, drain, an ineligible holder). */
  async release(group: string): Promise<Record<string, unknown>> {
    this.heard();
    const unit = this.units.get(group);
    if (!unit) return { holding: false };
    if (unit.holding) await this.queue(unit, () => this.drop(unit, "backup", "released on request"));
    else unit.m.stand();
    return { holding: false };
  }

  /**
   * The coordinator chose this node for the unit: campaign now, above the coordinator's epoch.
   * An offer that only echoes the epoch of the offered campaign under way changes nothing:
   * starting over would throw away the answers on their way, and the next ask would draw the
   * next offer. A campaign of its own (the status quo, while it thought the coordinator gone)
   * gives way to the offer, which the peers consent to.
   */
  async offered(group: string, epoch: number): Promise<void> {
    this.heard();
    const unit = this.units.get(group);
    if (!unit || unit.holding) return;
    const m = unit.m;
    if (m.epoch !== 0 && m.because === "offer" && m.epoch >= epoch && !m.campaignStale(this.deps.now(), false)) return;
    await this.dispatch(unit, unit.m.campaign("offer", epoch, this.deps.now()));
  }

  /** A graceful stop: give every VIP back now, so the next holder need not wait for the lease to run out. */
  async stop(): Promise<void> {
    this.stopping = true;
    const drops: Promise<void>[] = [];
    for (const unit of this.units.values()) {
      this.stopTimers(unit);
      if (unit.holding) drops.push(this.queue(unit, () => this.drop(unit, "stop", "agent stopping")));
      else this.tellPeers(unit);
    }
    await Promise.all(drops);
  }

  holding(): {
    group: string;
    epoch: number;
    remainingMs: number;
    promises: { voter: string; remainingMs: number }[];
  }[] {
    const now = this.deps.now();
    return [...this.units.values()]
      .filter((u) => u.holding)
      .map((u) => ({
        group: u.m.spec.name,
        epoch: u.m.epoch,
        remainingMs: Math.max(0, Math.round(u.deadline - now)),
        promises: u.m.promiseView(now),
      }));
  }

  /** A lease message from a peer director (already verified by the peer link). */
  async fromPeer(from: string, message: PeerMessage): Promise<void> {
    const unit = this.units.get(message.unit);
    if (!unit?.m.voters.includes(from)) {
      this.deps.log(
        `peer ${from}: ignored a ${message.type} for ${message.unit}, which it does not share with this node`,
      );
      return;
    }
    const now = this.deps.now();
    switch (message.type) {
      case "ask": {
        const out = unit.m.vote(from, message.epoch, message.because, this.context(unit), now);
        if (out.changed) this.remember(unit);
        const a = out.answer;
        this.deps.peer(from, {
          type: "answer",
          unit: message.unit,
          id: message.id,
          granted: a.granted,
          epoch: a.epoch,
          ttlMs: a.granted ? a.ttlMs : 0,
          reason: a.granted ? null : a.reason.slice(0, 200),
        });
        return;
      }
      case "answer": {
        const a: Answer = message.granted
          ? { granted: true, epoch: message.epoch, ttlMs: message.ttlMs }
          : { granted: false, reason: message.reason ?? "", epoch: message.epoch, to: null };
        unit.m.onAnswer(from, message.id, a, now);
        await this.evaluate(unit);
        return;
      }
      case "release":
        if (unit.m.onRelease(from, message.epoch)) this.remember(unit);
        await this.statusQuo(unit);
        return;
      case "state":
        unit.m.onState(from, message, now);
        await this.statusQuo(unit);
        return;
    }
  }

  /** Runs the unit's notify hooks for a state the coordinator saw (fault: a weight-0 tracked check or interface down). */
  async runHooks(group: string, state: NotifyState): Promise<Record<string, unknown>> {
    const unit = this.units.get(group);
    if (!unit) throw new Error(`no lease unit ${group} on this node`);
    this.deps.log(`${group}: ${state}`);
    await this.notify(unit, state);
    return { group, state };
  }

  private heard(): void {
    this.coordinatorHeardAt = this.deps.now();
  }

  /** The coordinator answered within one TTL on a live channel. */
  private coordinatorReachable(unit: Unit): boolean {
    return this.deps.connected() && this.deps.now() - this.coordinatorHeardAt <= unit.m.spec.leaseMs;
  }

  /** What this node says of itself for the unit: eligible unless stopping or a weight-0 check of its own is down. */
  private selfState(unit: Unit): PeerState {
    const tracks = unit.m.spec.track.map((t) => ({ weight: t.weight, state: this.deps.verdict(t.target) }));
    const faulted = tracks.some((t) => t.weight === 0 && t.state === "down");
    const base = unit.m.spec.members.find((m) => m.node === this.deps.node)?.priority ?? 0;
    const { priority } = effectivePriority(
      base,
      tracks.map((t) => ({ weight: t.weight, up: t.weight > 0 ? t.state === "up" : t.state !== "down" })),
    );
    return {
      node: this.deps.node,
      eligible: !this.stopping && !faulted,
      priority,
      holding: unit.holding,
      epoch: unit.holding ? unit.m.epoch : unit.m.knownEpoch,
      heardAt: this.deps.now(),
    };
  }

  private context(unit: Unit): { coordinatorReachable: boolean; selfState: PeerState } {
    return { coordinatorReachable: this.coordinatorReachable(unit), selfState: this.selfState(unit) };
  }

  private startTicks(unit: Unit): void {
    if (unit.tick) clearInterval(unit.tick);
    unit.tick = setInterval(() => void this.tick(unit), Math.max(50, Math.floor(unit.m.spec.leaseMs / 3)));
  }

  /** Every third of the TTL: renew, go on campaigning, or report; and tell the peers. */
  private async tick(unit: Unit): Promise<void> {
    if (this.stopping) return;
    const m = unit.m;
    const now = this.deps.now();
    const self = this.selfState(unit);
    this.tellPeers(unit, self);
    if (unit.holding && m.quorum && !self.eligible && !this.coordinatorReachable(unit)) {
      // Without the coordinator, a holder in fault hands its vote to the best eligible peer.
      await this.queue(unit, () => this.drop(unit, "fault", "a tracked check of its own is down; handing over"));
      return;
    }
    if (unit.holding) return this.dispatch(unit, m.asks(now));
    if (m.epoch !== 0 && !m.campaignStale(now, false)) return this.dispatch(unit, m.asks(now));
    if (m.epoch !== 0 && m.knownEpoch > m.epoch && now < m.campaignUntil)
      return this.dispatch(unit, m.campaign(m.because, 0, now));
    if (m.epoch !== 0) m.stand();
    if (!(await this.statusQuo(unit))) await this.report(unit);
  }

  /** Without the coordinator, campaigns when the status quo names this node. Answers whether it did. */
  private async statusQuo(unit: Unit): Promise<boolean> {
    const m = unit.m;
    if (this.stopping || unit.holding || m.epoch !== 0 || !m.quorum || this.coordinatorReachable(unit)) return false;
    const now = this.deps.now();
    const self = this.selfState(unit);
    if (!self.eligible || statusQuoChoice([...m.peers.values(), self], now, m.spec.leaseMs) !== this.deps.node)
      return false;
    // Said once per outage, not at every round of asking.
    if (m.because !== "status-quo")
      this.deps.log(`${m.spec.name}: the coordinator is unreachable and no one holds; asking the peers`);
    await this.dispatch(unit, m.campaign("status-quo", 0, now));
    return true;
  }

  /**
   * Tells the coordinator what this node knows of the unit, asking nothing: who holds it (this
   * node, with its promises, or a peer that says so). Where the coordinator is no voter (an odd
   * member count) this goes with every round of asks, so it still sees who is there and decides.
   */
  private async report(unit: Unit): Promise<void> {
    const m = unit.m;
    const now = this.deps.now();
    const peer = m.peerHolder(now);
    const holder = unit.holding
      ? { node: this.deps.node, epoch: m.epoch, heardMsAgo: 0 }
      : peer && { node: peer.node, epoch: peer.epoch, heardMsAgo: Math.max(0, Math.round(now - peer.heardAt)) };
    await this.deps
      .send(
        {
          type: "lease.request",
          group: m.spec.name,
          epoch: 0,
          holding: unit.holding,
          holder,
          promises: unit.holding ? m.promiseView(now) : [],
        },
        m.spec.name,
      )
      .catch((err) => this.deps.log(`${m.spec.name}: report not sent: ${(err as Error).message}`));
  }

  /** Sends one round of asks: this node's own voter answers at once, the others over the network. */
  private async dispatch(unit: Unit, asks: Ask[]): Promise<void> {
    const m = unit.m;
    const now = this.deps.now();
    const sends: Promise<void>[] = [];
    for (const ask of asks) {
      if (ask.voter === this.deps.node) {
        const out = m.vote(this.deps.node, ask.epoch, ask.because, this.context(unit), now);
        if (out.changed) this.remember(unit);
        m.onAnswer(this.deps.node, ask.id, out.answer, now);
      } else if (ask.voter === COORDINATOR) sends.push(this.askCoordinator(unit, ask));
      else
        this.deps.peer(ask.voter, {
          type: "ask",
          unit: m.spec.name,
          epoch: ask.epoch,
          id: ask.id,
          because: ask.because,
        });
    }
    if (asks.length > 0 && !m.voters.includes(COORDINATOR)) sends.push(this.report(unit));
    await Promise.all(sends);
    await this.evaluate(unit);
  }

  private async askCoordinator(unit: Unit, ask: Ask): Promise<void> {
    const m = unit.m;
    let id: string | null = null;
    try {
      id = await this.deps.send(
        {
          type: "lease.request",
          group: m.spec.name,
          epoch: ask.epoch,
          holding: unit.holding,
          holder: unit.holding ? { node: this.deps.node, epoch: m.epoch, heardMsAgo: 0 } : null,
          promises: unit.holding ? m.promiseView(this.deps.now()) : [],
        },
        m.spec.name,
      );
    } catch (err) {
      this.deps.log(`${m.spec.name}: lease request not sent: ${(err as Error).message}`);
    }
    m.rename(ask.id, id);
  }

  /** After any answer: start holding when a majority covers this node, or move the deadline. */
  private async evaluate(unit: Unit): Promise<void> {
    const until = unit.m.heldUntil(this.deps.now());
    if (until === null) return;
    unit.deadline = until;
    this.armExpiry(unit);
    const fresh = !unit.holding;
    unit.holding = true;
    this.tellWatchdog();
    if (!fresh) return;
    this.tellPeers(unit);
    // The coordinator learns the new holder at once, not at the next renewal.
    const ask = unit.m.asks(this.deps.now()).find((a) => a.voter === COORDINATOR);
    if (ask) void this.askCoordinator(unit, ask);
    await this.queue(unit, () => this.take(unit));
  }

  private armExpiry(unit: Unit): void {
    if (unit.expiry) clearTimeout(unit.expiry);
    unit.expiry = setTimeout(() => this.expired(unit), Math.max(0, unit.deadline - this.deps.now()));
  }

  private expired(unit: Unit): void {
    if (!unit.holding) return;
    const until = unit.m.heldUntil(this.deps.now());
    if (until !== null) {
      unit.deadline = until;
      this.armExpiry(unit);
      return;
    }
    if (unit.m.spec.onCoordinatorLoss === "hold" && !this.deps.connected()) {
      // The operator chose availability over safety for this group: keep the VIPs while cut off.
      unit.deadline = this.deps.now() + unit.m.spec.leaseMs;
      this.deps.log(`${unit.m.spec.name}: lease ran out with the coordinator unreachable; holding (policy hold)`);
      this.armExpiry(unit);
      this.tellWatchdog();
      return;
    }
    void this.queue(unit, () => this.drop(unit, "backup", "lease ran out"));
  }

  private async take(unit: Unit): Promise<void> {
    if (!unit.holding) return;
    const spec = unit.m.spec;
    // Master before the gratuitous ARP: the connections this node took in as backup are in its
    // table when the traffic arrives, and new ones go out to the members from the first packet.
    await this.syncRole(unit, "master");
    await unit.vips.add(spec, () => unit.holding);
    this.deps.log(`${spec.name}: holding ${spec.vips.map((v) => v.cidr).join(", ")} (epoch ${unit.m.epoch})`);
    await this.notify(unit, "master");
  }

  /** The group's VIPs changed while held: add the new ones (and announce them), remove the old. */
  private async reconcile(unit: Unit, dropped: Vip[]): Promise<void> {
    if (!unit.holding) return;
    await unit.vips.reconcile(unit.m.spec, dropped, () => unit.holding);
    this.tellWatchdog();
  }

  /** Gives the unit up: VIPs removed, every voter told the promise for this epoch may end. */
  private async drop(unit: Unit, state: NotifyState, why: string): Promise<void> {
    if (!unit.holding) return;
    const m = unit.m;
    const epoch = m.epoch;
    unit.holding = false;
    m.stand();
    if (unit.expiry) clearTimeout(unit.expiry);
    this.tellWatchdog();
    await unit.vips.remove(m.spec);
    this.deps.log(`${m.spec.name}: released (${why}, epoch ${epoch})`);
    await this.syncRole(unit, "backup");
    // Only once the VIPs are gone may a voter promise someone else.
    if (m.onRelease(this.deps.node, epoch)) this.remember(unit);
    for (const peer of m.peerVoters()) this.deps.peer(peer, { type: "release", unit: m.spec.name, epoch });
    this.tellPeers(unit);
    try {
      await this.deps.send({ type: "lease.released", group: m.spec.name, leaseEpoch: epoch }, m.spec.name);
    } catch {
      // Unreachable coordinator: it learns from the next report instead.
    }
    await this.notify(unit, state, epoch);
  }

  private tellPeers(unit: Unit, self = this.selfState(unit)): void {
    const m = unit.m;
    if (!m.quorum) return;
    const state: PeerMessage = {
      type: "state",
      unit: m.spec.name,
      eligible: self.eligible,
      priority: self.priority,
      holding: self.holding,
      epoch: self.epoch,
    };
    for (const member of m.spec.members) if (member.node !== this.deps.node) this.deps.peer(member.node, state);
  }

  private remember(unit: Unit): void {
    this.remembered[unit.m.spec.name] = { to: unit.m.voter.to, epoch: unit.m.voter.epoch };
    this.deps.promises.save(this.remembered);
  }

  private peerAddresses(): PeerAddress[] {
    const peers = new Map<string, PeerAddress>();
    for (const unit of this.units.values()) {
      if (!unit.m.quorum) continue;
      for (const member of unit.m.spec.members) {
        if (member.node === this.deps.node || member.publicKey === null) continue;
        peers.set(member.node, {
          node: member.node,
          address: member.address,
          port: member.peerPort,
          publicKey: member.publicKey,
        });
      }
    }
    return [...peers.values()];
  }

  /**
   * Puts the IPVS sync daemon in `role` when the unit syncs connections. A failure is logged and
   * does not stop a claim: the VIPs matter more than the connections already open.
   */
  private async syncRole(unit: Unit, role: SyncRole): Promise<void> {
    const sync = unit.m.spec.lvsSync;
    if (!sync) return;
    await this.leftDaemons;
    try {
      if ((await ensureSyncRole(this.deps.runner, sync, role)) === "changed")
        this.deps.log(`${unit.m.spec.name}: IPVS connection sync ${role} on ${sync.interface} (syncid ${sync.syncId})`);
      this.rememberSync(true);
    } catch (err) {
      this.deps.log(`${unit.m.spec.name}: the IPVS sync daemon could not become ${role}: ${(err as Error).message}`);
    }
  }

  /** The unit no longer syncs connections here (its setting removed, or this node left it): the daemons stop. */
  private async stopSync(unit: Unit): Promise<void> {
    // Another unit that syncs (a group renamed in the same work) keeps the daemon, in its own settings.
    if ([...this.units.values()].some((u) => u !== unit && u.m.spec.lvsSync)) return;
    await this.stopDaemons(unit.m.spec.name);
  }

  private async stopDaemons(subject: string, said = `${subject}: IPVS connection sync stopped`): Promise<void> {
    try {
      if ((await ensureSyncRole(this.deps.runner, null, null)) === "changed") this.deps.log(said);
      this.rememberSync(false);
    } catch (err) {
      this.deps.log(`${subject}: the IPVS sync daemon could not be stopped: ${(err as Error).message}`);
    }
  }

  private rememberSync(started: boolean): void {
    if (this.syncStarted === started) return;
    this.syncStarted = started;
    this.deps.syncDaemons.save(started);
  }

  private notify(unit: Unit, state: NotifyState, epoch = unit.m.epoch || unit.m.knownEpoch): Promise<void> {
    const spec = unit.m.spec;
    return runHooks(this.deps.runner, spec.notify, state, spec.name, epoch, this.deps.gate, this.deps.log);
  }

  private tellWatchdog(): void {
    const held = [...this.units.values()].filter((u) => u.holding);
    const now = this.deps.now();
    const remaining = held.length === 0 ? 0 : Math.max(0, Math.min(...held.map((u) => u.deadline)) - now);
    this.deps.watchdog(
      held.flatMap((u) => u.m.spec.vips),
      remaining,
    );
  }

  private stopTimers(unit: Unit): void {
    if (unit.tick) clearInterval(unit.tick);
    unit.tick = null;
  }

  private queue(unit: Unit, task: () => Promise<void>): Promise<void> {
    const next = unit.chain.then(task).catch((err) => this.deps.log(`${unit.m.spec.name}: ${(err as Error).message}`));
    unit.chain = next;
    return next;
  }
}
