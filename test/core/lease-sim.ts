/**
 * A simulated network for the coordinator's lease reducer (src/core/lease.ts), with the
 * coordinator as the unit's only voter (the `release` and `hold` policies). Every effect the
 * reducer makes travels as a message: grants, denials, revokes and offers to the agents, their
 * requests, reports and releases back, each delayed, lost, duplicated or reordered. The
 * coordinator stores `durable(state)` before anything leaves, crashes, and restarts from what
 * it stored; agents crash (their VIP stays until the watchdog's deadline) and restart; each
 * process runs on its own clock within the drift bound; members fail their checks, change
 * priority, and an operator switches over, so every input the reducer has is exercised.
 *
 * A VIP lingers after its holder's deadline by up to the unit's grace (a timer that fires
 * late, `ip addr del` under load), and the model gives the holder no margin of its own: the
 * coordinator's grace alone covers that linger, so a reducer that drops the grace is caught.
 *
 * After the faults stop, the queue is drained with everyone back and healthy: the run ends
 * with one holder, the one the reducer wants, and the coordinator knowing it.
 */
import type * as Lease from "../../src/core/lease.js";
import type { LeaseConfig, LeaseEffect, LeaseInput, LeaseState } from "../../src/core/lease.js";
import { promiseDeadline } from "../../src/core/majority.js";
import { type Clock, driftingClock, localTime, mulberry32, Queue, realTime } from "./sim-kit.js";

/** The reducer's functions the coordinator uses: the real module, or a mutant of it. */
export type LeaseModule = Pick<
  typeof Lease,
  "step" | "afterRestart" | "durable" | "initialLease" | "offerable" | "desiredHolder"
>;

export interface LeaseSimOptions {
  seed: number;
  members: number;
  lease: LeaseModule;
  config: LeaseConfig;
  /** Real milliseconds of faults, before the drain. */
  durationMs?: number;
  /** Sees every event as it is handled, to replay a failing seed. */
  trace?: (line: string) => void;
}

export interface LeaseSimResult {
  violation: string | null;
  /** What the run did, so a test can see it exercised each path. */
  counts: Record<
    "handovers" | "grants" | "revokes" | "releases" | "offers" | "crashes" | "restarts" | "switchovers",
    number
  >;
}

interface Agent {
  name: string;
  up: boolean;
  clock: Clock;
  /** The epoch it campaigns or holds under; 0 when neither. */
  epoch: number;
  /** The highest epoch it has seen (kept on disk, as the agent's cursor is). */
  knownEpoch: number;
  /** When its campaign under way began (its clock). */
  campaignedAt: number;
  /** Its VIP is up until this instant of its own clock. */
  deadline: number;
  /** How long its VIP outlives the deadline (real ms, at most the grace as a fast clock counts it). */
  linger: number;
  /** The VIP is on its interface until this real instant (the agent's, or after a crash its watchdog's), under this epoch. */
  vipUntil: number;
  vipEpoch: number;
  sent: Map<number, number>;
  /** Passes its checks (the coordinator sees it as eligible while up and healthy). */
  healthy: boolean;
  priority: number;
}

type ToAgent =
  | { kind: "grant"; epoch: number; ttlMs: number; id: number }
  | { kind: "deny"; epoch: number }
  | { kind: "revoke"; epoch: number }
  | { kind: "offer"; epoch: number };
type ToCoordinator =
  | { kind: "request"; id: number; epoch: number; holding: boolean; holder: { node: string; epoch: number } | null }
  | { kind: "release"; epoch: number };

type Pending = { at: number } & (
  | { type: "toAgent"; agent: string; message: ToAgent }
  | { type: "toCoordinator"; from: string; message: ToCoordinator }
  | { type: "tick"; agent: string }
  | { type: "coordinatorTick" }
  | { type: "crash"; who: string }
  | { type: "restart"; who: string }
  | { type: "health"; agent: string }
  | { type: "switchover" }
);

const COORDINATOR = "coordinator";

export function simulateLease(options: LeaseSimOptions): LeaseSimResult {
  const { seed, members, lease, config } = options;
  const duration = options.durationMs ?? 20_000;
  const random = mulberry32(seed);
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const clockOf = () => driftingClock(random, config.drift);
  const local = localTime;
  const realOf = realTime;

  const maxDelay = random() < 0.5 ? between(0, 10) : between(1, 200);
  const faults = { loss: between(0, 0.2), duplicate: between(0, 0.2), straggle: between(0, 0.1), on: true };
  const campaignChance = between(0, 0.6);
  const releaseChance = between(0, 0.1);
  const crashEvery = between(500, 5000);

  const names = Array.from({ length: members }, (_, i) => `lb${i + 1}`);
  const agents = new Map<string, Agent>(
    names.map((name) => [
      name,
      {
        name,
        up: true,
        clock: clockOf(),
        epoch: 0,
        knownEpoch: 0,
        campaignedAt: 0,
        deadline: Number.NEGATIVE_INFINITY,
        linger: (random() < 0.5 ? 1 : random()) * config.graceMs * (1 - config.drift),
        vipUntil: Number.NEGATIVE_INFINITY,
        vipEpoch: 0,
        sent: new Map(),
        healthy: true,
        priority: 50 + Math.floor(random() * 4) * 50,
      },
    ]),
  );
  const agent = (name: string) => agents.get(name) as Agent;
  const coordinator = {
    up: true,
    clock: clockOf(),
    state: lease.initialLease(0),
    stored: JSON.stringify(lease.durable(lease.initialLease(0))),
    offered: null as { offer: string; at: number } | null,
  };
  const queue = new Queue<Pending>();
  const result: LeaseSimResult = {
    violation: null,
    counts: { handovers: 0, grants: 0, revokes: 0, releases: 0, offers: 0, crashes: 0, restarts: 0, switchovers: 0 },
  };
  let now = 0;
  let nextId = 1;
  let lastHolder: { name: string; epoch: number } | null = null;

  // Now and then a message is held up for seconds (a retransmission, a stalled socket) and arrives stale.
  const delay = () => (faults.on && random() < faults.straggle ? between(0, 3 * config.ttlMs) : between(0, maxDelay));
  /** Sends at `after` (now, or later for a message that leaves only when something is done). */
  const transmit = (p: Pending, after = now) => {
    if (faults.on && random() < faults.loss) return;
    queue.push({ ...p, at: after + delay() });
    if (faults.on && random() < faults.duplicate) queue.push({ ...p, at: after + delay() });
  };
  const toAgent = (name: string, message: ToAgent) => transmit({ at: 0, type: "toAgent", agent: name, message });
  const toCoordinator = (from: string, message: ToCoordinator, after = now) =>
    transmit({ at: 0, type: "toCoordinator", from, message }, after);

  const vipUp = (a: Agent) => now < a.vipUntil;

  const checkSafety = () => {
    const holders = [...agents.values()].filter(vipUp).map((a) => ({ name: a.name, epoch: a.vipEpoch }));
    if (holders.length > 1) {
      result.violation = `two holders at ${Math.round(now)} ms: ${holders.map((h) => `${h.name}@${h.epoch}`).join(", ")}`;
      return;
    }
    const h = holders[0];
    if (!h) return;
    if (lastHolder && h.name !== lastHolder.name && h.epoch <= lastHolder.epoch)
      result.violation = `${h.name} holds epoch ${h.epoch} after ${lastHolder.name} held ${lastHolder.epoch}`;
    if (!lastHolder || lastHolder.name !== h.name || lastHolder.epoch !== h.epoch) {
      if (lastHolder && lastHolder.name !== h.name) result.counts.handovers++;
      lastHolder = { name: h.name, epoch: h.epoch };
    }
  };

  // ------------------------------------------------------------ the coordinator

  const candidates = () =>
    names.map((name) => {
      const a = agent(name);
      return { node: name, eligible: a.up && a.healthy, priority: a.priority };
    });

  /** As src/coordinator/leases.ts apply(): candidates first, store what changed, then send. */
  const apply = (input: LeaseInput) => {
    if (!coordinator.up) return;
    const at = local(coordinator.clock, now);
    const fresh = lease.step(coordinator.state, { type: "candidates", candidates: candidates() }, at, config);
    const out = lease.step(fresh.state, input, at, config);
    coordinator.state = out.state;
    coordinator.stored = JSON.stringify(lease.durable(out.state));
    for (const e of [...fresh.effects, ...out.effects]) perform(e, input);
    const desired = lease.desiredHolder(out.state, at, config);
    if (desired !== null && lease.offerable(out.state, desired, at, config)) {
      const offer = `${desired} ${out.state.epoch} ${out.state.last}`;
      const last = coordinator.offered;
      if (last?.offer !== offer || at - last.at >= config.ttlMs) {
        coordinator.offered = { offer, at };
        result.counts.offers++;
        toAgent(desired, { kind: "offer", epoch: out.state.epoch });
      }
    } else if (out.state.holder !== null) coordinator.offered = null;
  };

  const perform = (e: LeaseEffect, input: LeaseInput) => {
    const id = input.type === "request" ? (input as LeaseInput & { id?: number }).id : undefined;
    if (e.type === "grant" && id !== undefined) toAgent(e.node, { kind: "grant", epoch: e.epoch, ttlMs: e.ttlMs, id });
    else if (e.type === "deny") toAgent(e.node, { kind: "deny", epoch: e.epoch });
    else if (e.type === "revoke") {
      result.counts.revokes++;
      toAgent(e.node, { kind: "revoke", epoch: e.epoch });
    }
  };

  // ------------------------------------------------------------ the agents

  const holding = (a: Agent) => a.epoch !== 0 && local(a.clock, now) < a.deadline;
  const ask = (a: Agent) => {
    const id = nextId++;
    a.sent.set(id, local(a.clock, now));
    const held = holding(a);
    toCoordinator(a.name, {
      kind: "request",
      id,
      epoch: a.epoch,
      holding: held,
      holder: held ? { node: a.name, epoch: a.epoch } : null,
    });
  };
  const campaign = (a: Agent, offered: number) => {
    if (holding(a)) return;
    a.epoch = Math.max(a.knownEpoch, offered) + 1;
    a.knownEpoch = a.epoch;
    a.campaignedAt = local(a.clock, now);
    a.deadline = Number.NEGATIVE_INFINITY;
    ask(a);
  };
  const giveUp = (a: Agent) => {
    const epoch = a.epoch;
    a.epoch = 0;
    a.deadline = Number.NEGATIVE_INFINITY;
    // The VIP goes first, then the release is sent.
    a.vipUntil = now;
    result.counts.releases++;
    toCoordinator(a.name, { kind: "release", epoch });
  };

  const onTick = (a: Agent) => {
    if (!a.up) return;
    // The deadline passed: the VIP goes (after its linger), and then the agent gives the unit up.
    if (a.epoch !== 0 && !holding(a) && a.deadline !== Number.NEGATIVE_INFINITY) {
      result.counts.releases++;
      toCoordinator(a.name, { kind: "release", epoch: a.epoch }, Math.max(now, a.vipUntil));
      a.epoch = 0;
      a.deadline = Number.NEGATIVE_INFINITY;
    }
    if (holding(a) && faults.on && random() < releaseChance) giveUp(a);
    else if (holding(a) || a.epoch !== 0) ask(a);
    else if (faults.on && random() < campaignChance) campaign(a, 0);
    else toCoordinator(a.name, { kind: "request", id: nextId++, epoch: 0, holding: false, holder: null });
    queue.push({ at: now + between(config.ttlMs / 4, config.ttlMs / 3), type: "tick", agent: a.name });
  };

  const onAgentMessage = (a: Agent, m: ToAgent) => {
    if (!a.up) return;
    a.knownEpoch = Math.max(a.knownEpoch, m.epoch);
    // An offer that echoes the epoch of its campaign under way changes nothing (host-agent/src/leases.ts offered()).
    const underWay = a.epoch !== 0 && m.epoch <= a.epoch && local(a.clock, now) - a.campaignedAt < config.ttlMs;
    if (m.kind === "offer" && !underWay) campaign(a, m.epoch);
    else if (m.kind === "revoke") {
      if (a.epoch !== 0) giveUp(a);
    } else if (m.kind === "grant") {
      const sentAt = a.sent.get(m.id);
      if (sentAt === undefined || m.epoch !== a.epoch) return;
      // The agent refuses a grant that comes too late to hold anything (as host-agent/src/leases.ts does).
      const deadline = promiseDeadline(sentAt, m.ttlMs, { ...config, marginMs: 0 });
      if (deadline <= local(a.clock, now)) return;
      result.counts.grants++;
      a.deadline = Math.max(a.deadline, deadline);
      a.vipUntil = realOf(a.clock, a.deadline) + a.linger;
      a.vipEpoch = a.epoch;
    } else if (m.kind === "deny" && !holding(a) && m.epoch >= a.epoch) a.epoch = 0;
  };

  // ------------------------------------------------------------ faults

  const onCrash = (who: string) => {
    if (!faults.on) return;
    result.counts.crashes++;
    if (who === COORDINATOR) coordinator.up = false;
    else {
      const a = agent(who);
      // The watchdog keeps the VIP until the deadline (and its linger): vipUntil stands.
      if (!a.up) return;
      a.up = false;
    }
    queue.push({ at: now + between(0, random() < 0.7 ? config.ttlMs / 2 : 3 * config.ttlMs), type: "restart", who });
  };

  const onRestart = (who: string) => {
    result.counts.restarts++;
    if (who === COORDINATOR) {
      if (coordinator.up) return;
      coordinator.up = true;
      const stored = { ...lease.initialLease(0), ...JSON.parse(coordinator.stored) } as LeaseState;
      coordinator.state = lease.afterRestart(stored, local(coordinator.clock, now), config);
      coordinator.offered = null;
    } else {
      const a = agent(who);
      if (a.up) return;
      a.up = true;
      a.epoch = 0;
      a.deadline = Number.NEGATIVE_INFINITY;
      a.sent.clear();
      queue.push({ at: now, type: "tick", agent: who });
    }
    if (faults.on)
      queue.push({ at: now + between(0, 2 * crashEvery), type: "crash", who: pick([...names, COORDINATOR]) });
  };

  // ------------------------------------------------------------ the run

  const handle = (e: Pending) => {
    switch (e.type) {
      case "toAgent":
        return onAgentMessage(agent(e.agent), e.message);
      case "toCoordinator": {
        if (e.message.kind === "release") return apply({ type: "release", node: e.from, epoch: e.message.epoch });
        const { id, ...report } = e.message;
        return apply({ type: "request", node: e.from, ...report, id } as LeaseInput);
      }
      case "tick":
        return onTick(agent(e.agent));
      case "coordinatorTick":
        apply({ type: "tick" });
        queue.push({ at: now + config.ttlMs / 6, type: "coordinatorTick" });
        return;
      case "crash":
        return onCrash(e.who);
      case "restart":
        return onRestart(e.who);
      case "health": {
        if (!faults.on) return;
        const a = agent(e.agent);
        if (random() < 0.5) a.healthy = !a.healthy;
        else a.priority = 50 + Math.floor(random() * 4) * 50;
        queue.push({ at: now + between(0, config.ttlMs), type: "health", agent: pick(names) });
        return;
      }
      case "switchover":
        if (!faults.on) return;
        result.counts.switchovers++;
        apply({ type: "switchover", to: pick(names) });
        queue.push({ at: now + between(0, 3 * config.ttlMs), type: "switchover" });
        return;
    }
  };

  for (const name of names) queue.push({ at: between(0, 50), type: "tick", agent: name });
  queue.push({ at: 0, type: "coordinatorTick" });
  queue.push({ at: between(0, crashEvery), type: "crash", who: pick([...names, COORDINATOR]) });
  queue.push({ at: between(0, 2 * config.ttlMs), type: "health", agent: pick(names) });
  queue.push({ at: between(0, 5 * config.ttlMs), type: "switchover" });

  // The drain: faults stop, everyone comes back healthy, and the unit must settle.
  const settle = duration + 10 * config.ttlMs + config.preemptDelayMs;
  let draining = false;
  for (let e = queue.pop(); e && e.at <= settle; e = queue.pop()) {
    now = e.at;
    if (!draining && now > duration) {
      draining = true;
      faults.on = false;
      for (const a of agents.values()) {
        a.healthy = true;
        if (!a.up) queue.push({ at: now, type: "restart", who: a.name });
      }
      if (!coordinator.up) queue.push({ at: now, type: "restart", who: COORDINATOR });
    }
    options.trace?.(
      `${Math.round(now)} ${JSON.stringify(e)} ${JSON.stringify({ holder: coordinator.state.holder, epoch: coordinator.state.epoch, voter: coordinator.state.voter })}`,
    );
    handle(e);
    checkSafety();
    if (result.violation) return result;
  }

  const holders = [...agents.values()].filter((a) => a.up && holding(a));
  const at = local(coordinator.clock, now);
  const desired = lease.desiredHolder(coordinator.state, at, config);
  if (holders.length !== 1 || holders[0]?.name !== desired || coordinator.state.holder !== desired)
    result.violation = `after the drain: ${holders.map((h) => h.name).join(", ") || "nobody"} holds, ${desired} should, the coordinator believes ${coordinator.state.holder}`;
  return result;
}
