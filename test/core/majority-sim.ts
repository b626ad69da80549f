/**
 * A simulated network for the majority lease (src/core/majority.ts): agents that are both
 * candidates and voters, the coordinator as a voter when the member count is even, messages
 * that are delayed, lost, duplicated and reordered, agents that crash (their VIP stays until
 * the watchdog's deadline) and restart with only what they store (whom they promised and the
 * epoch, not until when), and every process on its own clock, running at a rate within the
 * drift bound. Candidates campaign and release at random: safety must not depend on who
 * decides to try. The run reports the first instant two agents believed they held the unit,
 * or an epoch that went backwards.
 */
import {
  answer,
  COORDINATOR,
  freshVoter,
  type HeldPromise,
  heldUntil,
  type MajorityConfig,
  promiseDeadline,
  RULES,
  type Rules,
  released,
  type VoterState,
  voterAfterStart,
  votersOf,
} from "../../src/core/majority.js";
import { type Clock, driftingClock, localTime, mulberry32, Queue, realTime } from "./sim-kit.js";

export interface SimOptions {
  seed: number;
  members: number;
  config: MajorityConfig;
  rules?: Rules;
  /** `quorum` (members and maybe the coordinator vote) or `release` (the coordinator alone). */
  policy?: "quorum" | "release";
  /** Real milliseconds simulated. */
  durationMs?: number;
}

export interface SimResult {
  violation: string | null;
  /** How many times a holder changed, and how many crashes and restarts happened: the run did something. */
  handovers: number;
  crashes: number;
  grants: number;
  events: number;
}

interface Agent {
  name: string;
  up: boolean;
  clock: Clock;
  voter: VoterState;
  /** The epoch it campaigns or holds under; 0 when it does neither. */
  epoch: number;
  knownEpoch: number;
  promises: Map<string, HeldPromise>;
  sent: Map<number, number>;
  /** After a crash: the VIP stays on the interface until the watchdog's deadline (real time). */
  watchdogUntil: number;
}

type Message =
  | { kind: "request"; from: string; to: string; epoch: number; id: number }
  | { kind: "reply"; from: string; to: string; id: number; granted: boolean; epoch: number; ttlMs: number }
  | { kind: "release"; from: string; to: string; epoch: number };

type Pending = { at: number } & (
  | { type: "tick"; agent: string }
  | { type: "deliver"; message: Message }
  | { type: "crash"; who: string }
  | { type: "restart"; who: string }
  | { type: "cut"; a: string; b: string | null; forMs: number }
);

export function simulate(options: SimOptions): SimResult {
  const { seed, members, config } = options;
  const rules = options.rules ?? RULES;
  const duration = options.durationMs ?? 20_000;
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);

  const names = Array.from({ length: members }, (_, i) => `a${i}`);
  const { voters, majority } = votersOf(names, options.policy ?? "quorum");
  const clockOf = () => driftingClock(random, config.drift);
  const local = localTime;
  const realOf = realTime;

  // Half the runs on a quick LAN, where a promise that outlives its voter's is caught first.
  const maxDelay = random() < 0.5 ? between(0, 10) : between(1, 120);
  const loss = between(0, 0.25);
  const duplicate = between(0, 0.1);
  const campaignChance = between(0.2, 0.9);
  const releaseChance = between(0, 0.05);
  const allowChance = between(0.5, 1);
  // Eager candidates ask every few ms: they grab a voter the moment it is free.
  const tickMs = random() < 0.5 ? between(10, 40) : config.ttlMs / 3;
  const crashEvery = between(500, 5000);
  const cutEvery = between(300, 3000);
  const everyone = [...names, COORDINATOR];
  /** The adversary aims at the holder more often than chance would. */
  const victim = () => {
    const holder = [...agents.values()].find((a) => a.up && belief(a) !== null);
    return holder && random() < 0.6 ? holder.name : pick(everyone);
  };

  const agents = new Map<string, Agent>(
    names.map((name) => [
      name,
      {
        name,
        up: true,
        clock: clockOf(),
        voter: freshVoter(),
        epoch: 0,
        knownEpoch: 0,
        promises: new Map(),
        sent: new Map(),
        watchdogUntil: -1,
      },
    ]),
  );
  const coordinator = { up: true, clock: clockOf(), voter: freshVoter() };
  const queue = new Queue<Pending>();
  let now = 0;
  let nextId = 1;
  const result: SimResult = { violation: null, handovers: 0, crashes: 0, grants: 0, events: 0 };
  let lastHolder: { name: string; epoch: number } | null = null;

  const voterClock = (name: string) => (name === COORDINATOR ? coordinator.clock : (agents.get(name) as Agent).clock);
  const isUp = (name: string) => (name === COORDINATOR ? coordinator.up : (agents.get(name) as Agent).up);

  /** Links cut until a time: `who` to everyone (isolated), or between two processes. */
  const cuts: { a: string; b: string | null; until: number }[] = [];
  const cutOff = (x: string, y: string) =>
    cuts.some(
      (c) =>
        now < c.until && (c.b === null ? c.a === x || c.a === y : (c.a === x && c.b === y) || (c.a === y && c.b === x)),
    );

  const send = (message: Message) => {
    // A process's message to itself is a local call: no delay, never lost.
    if (message.from === message.to) {
      queue.push({ at: now, type: "deliver", message });
      return;
    }
    if (cutOff(message.from, message.to) || random() < loss) return;
    const copies = random() < duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) queue.push({ at: now + between(0, maxDelay), type: "deliver", message });
  };

  /** Whether an agent believes it holds the unit at the current instant, and under which epoch. */
  const belief = (a: Agent): number | null => {
    if (!a.up) return now < a.watchdogUntil ? a.epoch : null;
    if (a.epoch === 0) return null;
    return heldUntil(a.promises.values(), a.epoch, majority, local(a.clock, now), rules) === null ? null : a.epoch;
  };

  const checkSafety = () => {
    const holders = [...agents.values()].flatMap((a) => {
      const epoch = belief(a);
      return epoch === null ? [] : [{ name: a.name, epoch }];
    });
    if (holders.length > 1) {
      result.violation = `two holders at ${Math.round(now)} ms: ${holders.map((h) => `${h.name}@${h.epoch}`).join(", ")}`;
      return;
    }
    const h = holders[0];
    if (!h) return;
    if (lastHolder && h.epoch < lastHolder.epoch)
      result.violation = `epoch went back at ${Math.round(now)} ms: ${h.name}@${h.epoch} after ${lastHolder.name}@${lastHolder.epoch}`;
    else if (lastHolder && h.name !== lastHolder.name && h.epoch === lastHolder.epoch)
      result.violation = `${h.name} holds epoch ${h.epoch}, which ${lastHolder.name} held`;
    if (!lastHolder || lastHolder.name !== h.name || lastHolder.epoch !== h.epoch) {
      if (lastHolder && lastHolder.name !== h.name) result.handovers++;
      lastHolder = h;
    }
  };

  const campaign = (a: Agent) => {
    a.epoch = a.knownEpoch + 1;
    a.knownEpoch = a.epoch;
    a.promises.clear();
    ask(a);
  };
  const ask = (a: Agent) => {
    for (const v of voters) {
      const id = nextId++;
      a.sent.set(id, local(a.clock, now));
      send({ kind: "request", from: a.name, to: v, epoch: a.epoch, id });
    }
  };

  const onTick = (a: Agent) => {
    if (!a.up) return;
    const holding = belief(a) !== null;
    if (holding && random() < releaseChance) {
      for (const v of voters) send({ kind: "release", from: a.name, to: v, epoch: a.epoch });
      a.epoch = 0;
      a.promises.clear();
    } else if (holding || (a.epoch !== 0 && a.knownEpoch <= a.epoch && random() < 0.9)) ask(a);
    else if (random() < campaignChance) campaign(a);
    // A holder renews every third of the TTL; the others ask as eagerly as the run says.
    const next = belief(a) !== null ? between(config.ttlMs / 4, config.ttlMs / 3) : between(5, tickMs);
    queue.push({ at: now + next, type: "tick", agent: a.name });
  };

  const onDeliver = (m: Message) => {
    if (!isUp(m.to)) return;
    if (m.kind === "request") {
      const state = m.to === COORDINATOR ? coordinator.voter : (agents.get(m.to) as Agent).voter;
      const allowed = random() < allowChance ? { ok: true as const } : { ok: false as const, reason: "policy" };
      const out = answer(
        state,
        { candidate: m.from, epoch: m.epoch },
        allowed,
        local(voterClock(m.to), now),
        config,
        rules,
      );
      if (m.to === COORDINATOR) coordinator.voter = out.state;
      else (agents.get(m.to) as Agent).voter = out.state;
      const a = out.answer;
      send({
        kind: "reply",
        from: m.to,
        to: m.from,
        id: m.id,
        granted: a.granted,
        epoch: a.epoch,
        ttlMs: a.granted ? a.ttlMs : 0,
      });
    } else if (m.kind === "release") {
      const req = { candidate: m.from, epoch: m.epoch };
      if (m.to === COORDINATOR) coordinator.voter = released(coordinator.voter, req);
      else {
        const v = agents.get(m.to) as Agent;
        v.voter = released(v.voter, req);
      }
    } else {
      const a = agents.get(m.to) as Agent;
      const sentAt = a.sent.get(m.id);
      a.knownEpoch = Math.max(a.knownEpoch, m.epoch);
      if (!m.granted || sentAt === undefined || m.epoch !== a.epoch) return;
      result.grants++;
      const deadline = promiseDeadline(sentAt, m.ttlMs, config, rules);
      const old = a.promises.get(m.from);
      if (!old || old.epoch !== m.epoch || old.deadline < deadline)
        a.promises.set(m.from, { voter: m.from, epoch: m.epoch, deadline });
    }
  };

  const onCrash = (who: string) => {
    if (who === COORDINATOR) coordinator.up = false;
    else {
      const a = agents.get(who) as Agent;
      if (!a.up) return;
      result.crashes++;
      const until =
        a.epoch === 0 ? null : heldUntil(a.promises.values(), a.epoch, majority, local(a.clock, now), rules);
      a.watchdogUntil = until === null ? -1 : realOf(a.clock, until);
      a.up = false;
    }
    // Mostly short: a promise forgotten while it still runs is what the quiet time is for.
    queue.push({ at: now + between(0, random() < 0.7 ? config.ttlMs / 2 : 3 * config.ttlMs), type: "restart", who });
  };

  const onRestart = (who: string) => {
    if (who === COORDINATOR) {
      // The coordinator keeps whom it promised and under which epoch, not until when.
      coordinator.up = true;
      coordinator.voter = voterAfterStart(local(coordinator.clock, now), config, coordinator.voter, rules);
    } else {
      const a = agents.get(who) as Agent;
      a.up = true;
      // Like the coordinator, an agent keeps whom it promised and the epoch on disk.
      a.voter = voterAfterStart(local(a.clock, now), config, a.voter, rules);
      a.epoch = 0;
      a.knownEpoch = a.voter.epoch;
      a.promises.clear();
      a.sent.clear();
      queue.push({ at: now, type: "tick", agent: who });
    }
    queue.push({ at: now + between(0, 2 * crashEvery), type: "crash", who: victim() });
  };

  const onCut = (e: { a: string; b: string | null; forMs: number }) => {
    for (let i = cuts.length - 1; i >= 0; i--) if ((cuts[i] as { until: number }).until <= now) cuts.splice(i, 1);
    cuts.push({ a: e.a, b: e.b, until: now + e.forMs });
    const a = victim();
    const b = random() < 0.5 ? null : pick(everyone.filter((x) => x !== a));
    queue.push({ at: now + between(0, 2 * cutEvery), type: "cut", a, b, forMs: between(0, 3 * config.ttlMs) });
  };

  for (const name of names) queue.push({ at: between(0, 50), type: "tick", agent: name });
  queue.push({ at: between(0, crashEvery), type: "crash", who: pick(everyone) });
  queue.push({ at: between(0, cutEvery), type: "cut", a: pick(everyone), b: null, forMs: 0 });

  for (let e = queue.pop(); e && e.at <= duration; e = queue.pop()) {
    now = e.at;
    result.events++;
    if (e.type === "tick") onTick(agents.get(e.agent) as Agent);
    else if (e.type === "deliver") onDeliver(e.message);
    else if (e.type === "crash") onCrash(e.who);
    else if (e.type === "restart") onRestart(e.who);
    else onCut(e);
    checkSafety();
    if (result.violation) break;
  }
  return result;
}
