/**
 * Coordinator Durable Object: one per cluster, named after it. A thin shell over one keeper
 * per job: votes and verdicts (votes.ts), leases (leases.ts), backend tables (backends.ts),
 * each agent's work (work.ts), the event outbox (outbox.ts) and the agent channel
 * (channel.ts); its SQLite tables are in tables.ts. What an input causes runs from that
 * input; what time causes (stale votes, lease expiry and offers, backend reads, a config
 * re-read) runs from the alarm; reads only read.
 */
import { DurableObject } from "cloudflare:workers";
import type { BackendsView } from "../core/backend-status.js";
import type { Command } from "../core/command.js";
import type { Envelope } from "../core/envelope.js";
import type { HealthReport } from "../core/health.js";
import type { LeaseView } from "../core/lease-view.js";
import type { CoordinatorMetrics, ObjectUsage } from "../core/metrics.js";
import { HEARTBEAT_MS } from "../core/targets.js";
import type { EventDraft } from "../core/verdict-events.js";
import type { Env } from "../env.js";
import type { CommandResult, CoordinatorRpc, IngestResult, ObserverSeries, SwitchoverResult } from "./api.js";
import { BackendKeeper } from "./backends.js";
import { AgentChannel, AUTHENTICATE_WITHIN_MS, NotConnected } from "./channel.js";
import { CONFIG_MAX_AGE_MS, type HeldConfig, NO_CONFIG, readConfig, refreshConfig } from "./config.js";
import { countedSql } from "./counted-sql.js";
import { HistoryKeeper } from "./history.js";
import { LeaseKeeper } from "./leases.js";
import { Outbox } from "./outbox.js";
import { createTables } from "./tables.js";
import { VoteBook } from "./votes.js";
import { Waiters } from "./waiters.js";
import { WorkSender } from "./work.js";

/** A vote for a target this object does not know makes it re-read the configuration, at most this often. */
const UNKNOWN_TARGET_REREAD_MS = 2_000;

export class Coordinator extends DurableObject<Env> implements CoordinatorRpc {
  private readonly cluster: string;
  private config: HeldConfig = NO_CONFIG;
  /** Whether `config` has been acted on (units released, agents given their work) since it was read. */
  private applied = false;
  private readonly votes: VoteBook;
  private readonly history: HistoryKeeper;
  private readonly outbox: Outbox;
  private readonly channel: AgentChannel;
  private readonly leaseKeeper: LeaseKeeper;
  private readonly backendKeeper: BackendKeeper;
  private readonly work: WorkSender;
  private readonly waiters = new Waiters();
  /** When the alarm is set for, as this instance set it (null: none; undefined: not known yet). */
  private alarmAt: number | null | undefined;
  /** What this object was billed for since it started: requests, WebSocket messages in, rows of its SQLite. */
  private readonly used: ObjectUsage = { requests: 0, messagesIn: 0, rowsWritten: 0, rowsRead: 0, d1RowsRead: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name;
    if (!name) throw new Error("a Coordinator is addressed by its cluster's name (COORDINATOR.getByName)");
    this.cluster = name;
    const sql = countedSql(ctx.storage.sql, this.used);
    createTables(sql);
    this.history = new HistoryKeeper(sql);
    this.votes = new VoteBook(sql, (target, observer, vote, now) => this.history.vote(target, observer, vote, now));
    this.outbox = new Outbox(sql, name, env.DB, env.WEBHOOKS);
    const record = (event: EventDraft) => this.record([event], Date.now());
    const connected = (node: string) => this.channel.connected(node);
    this.channel = new AgentChannel(ctx, sql, name, env.DB, env.VIGIL_COORDINATOR_KEY, {
      record,
      presence: (node, online, publicKey) => this.presence(node, online, publicKey),
      message: (node, envelope, ageMs) => this.agentMessage(node, envelope, ageMs),
    });
    this.leaseKeeper = new LeaseKeeper(sql, {
      post: (node, command, epoch) => this.channel.post(node, command, epoch),
      record,
      connected,
      verdict: (target) => this.votes.state(target),
    });
    this.backendKeeper = new BackendKeeper(sql, {
      send: (node, command) => this.channel.send(node, command),
      connected,
      record,
      background: (work) => this.ctx.waitUntil(work),
    });
    this.work = new WorkSender((node, command) => this.channel.post(node, command, 0));
    // What the cluster is, known before any call: reads need it. Acting on it waits for an input or the alarm.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        this.hold(await readConfig(env.DB, name, Date.now()));
        this.leaseKeeper.know(this.config.doc);
      } catch (err) {
        console.error(`coordinator ${name}: reading the configuration failed; the next input reads it again`, err);
      }
    });
  }

  // ---- Reads: they read, and do nothing else. ----

  async health(): Promise<HealthReport> {
    this.used.requests += 1;
    return this.votes.report(this.cluster, this.config.targets, Date.now());
  }

  async leases(): Promise<LeaseView[]> {
    this.used.requests += 1;
    return this.leaseKeeper.view(Date.now());
  }

  async targetHistory(target: string, from: number, to: number, stepMs: number): Promise<ObserverSeries[]> {
    this.used.requests += 1;
    return [...this.history.read(target, from, to, stepMs)].map(([observer, points]) => ({ observer, points }));
  }

  async backends(): Promise<BackendsView> {
    this.used.requests += 1;
    return this.backendsView();
  }

  private backendsView(): BackendsView {
    const now = Date.now();
    const doc = this.config.doc;
    if (!doc) return { at: new Date(now).toISOString(), services: [] };
    return this.backendKeeper.view(doc, (t) => this.votes.state(t), now);
  }

  async metrics(): Promise<CoordinatorMetrics> {
    this.used.requests += 1;
    return {
      health: this.votes.report(this.cluster, this.config.targets, Date.now()),
      leases: this.leaseKeeper.view(Date.now()),
      votes: Object.fromEntries(this.votes.counts),
      latency: Object.fromEntries(this.votes.latency),
      commands: this.channel.counts(),
      usage: { ...this.used },
    };
  }

  // ---- Inputs: the operator, observers, agents, time. ----

  async refreshBackends(): Promise<BackendsView> {
    this.used.requests += 1;
    await this.takeConfig();
    if (this.config.doc) await this.backendKeeper.readAll(this.config.doc, Date.now());
    return this.backendsView();
  }

  async ingest(raw: unknown): Promise<IngestResult> {
    this.used.requests += 1;
    return this.takeVotes(raw);
  }

  /** A batch of votes, from a prober's call or an agent's message (counted as that, not as a request). */
  private async takeVotes(raw: unknown): Promise<IngestResult> {
    await this.takeConfig(this.namesUnknownTarget(raw));
    const now = Date.now();
    const { events, ...result } = this.votes.ingest(raw, this.config.targets, now);
    this.record(events, now);
    if (result.changed.length > 0) {
      await this.leaseKeeper.refresh(now);
      this.syncBackends(result.changed.map((c) => c.target));
    }
    await this.settle();
    return result;
  }

  async configChanged(): Promise<void> {
    this.used.requests += 1;
    await this.takeConfig(true);
    const now = Date.now();
    this.record(this.votes.evaluate(this.config.targets, undefined, now).events, now);
    await this.leaseKeeper.refresh(now);
    this.syncBackends();
    await this.settle();
    await this.outbox.flush();
  }

  async switchover(group: string, to: string, waitMs: number): Promise<SwitchoverResult> {
    this.used.requests += 1;
    await this.takeConfig();
    const refused = await this.leaseKeeper.switchover(group, to, Date.now());
    const view = () => this.leaseKeeper.view(Date.now()).find((v) => v.group === group) ?? null;
    if (refused !== null) return { view: view(), error: view() === null ? "not_found" : "conflict", message: refused };
    await this.settle();
    const done = await this.waiters.until(() => this.leaseKeeper.holder(group) === to, waitMs);
    return done
      ? { view: view(), error: null, message: null }
      : { view: view(), error: "conflict", message: `${to} did not take ${group} within ${waitMs} ms` };
  }

  async drain(node: string, drained: boolean, waitMs: number): Promise<{ holding: string[] }> {
    this.used.requests += 1;
    await this.takeConfig();
    await this.leaseKeeper.drain(node, drained, Date.now());
    await this.settle();
    const holding = () =>
      this.leaseKeeper
        .view(Date.now())
        .filter((v) => v.holder === node)
        .map((v) => v.group);
    if (drained) await this.waiters.until(() => holding().length === 0, waitMs);
    return { holding: holding() };
  }

  async sendCommand(node: string, command: Command): Promise<CommandResult | { notConnected: string }> {
    this.used.requests += 1;
    try {
      return await this.channel.send(node, command);
    } catch (err) {
      // Answered, not thrown: an RPC exception would be logged as uncaught on this side.
      if (err instanceof NotConnected) return { notConnected: err.message };
      throw err;
    }
  }

  async revokeAgent(node: string): Promise<void> {
    this.used.requests += 1;
    this.channel.revoke(node);
  }

  /** Agent connections: `/connect?node=...` with a WebSocket upgrade. */
  override async fetch(request: Request): Promise<Response> {
    this.used.requests += 1;
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket upgrade", { status: 426 });
    // Nothing is written before the agent's hello verifies; the alarm closes the socket if it never does.
    const response = this.channel.accept(new URL(request.url).searchParams.get("node") ?? "");
    await this.ensureAlarm(Date.now() + AUTHENTICATE_WITHIN_MS + 100);
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.used.messagesIn += 1;
    await this.channel.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.channel.closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.channel.closed(ws);
  }

  /** Time's work: stale votes turn `unknown`, leases expire and are offered, live tables are read. */
  override async alarm(): Promise<void> {
    this.used.requests += 1;
    // A running alarm is no longer set.
    this.alarmAt = null;
    this.channel.closeSilent(Date.now());
    await this.takeConfig();
    const now = Date.now();
    const { changed, events } = this.votes.evaluate(this.config.targets, this.votes.due(now), now);
    this.record(events, now);
    this.history.tick(now);
    await this.leaseKeeper.refresh(now);
    // What time changed, and any director whose last sync failed: not every table every alarm.
    this.syncBackends(changed.map((c) => c.target));
    if (this.config.doc) this.backendKeeper.poll(this.config.doc, now);
    await this.outbox.flush();
    await this.settle();
  }

  private async presence(node: string, online: boolean, publicKey?: string): Promise<void> {
    await this.takeConfig();
    // A node that just enrolled brings a key its peers need. Its hello was verified with the
    // key D1 holds for it: that is the key, and only its units' members need new work. (Read
    // the whole configuration anew instead, and every agent of a fleet starting up costs a
    // read of every resource and new work for every node.)
    if (online && publicKey !== undefined && this.config.keys.get(node) !== publicKey) {
      this.config = { ...this.config, keys: new Map(this.config.keys).set(node, publicKey) };
      for (const unit of this.leaseKeeper.unitsOf(node))
        for (const member of unit.members) if (member.node !== node) this.ctx.waitUntil(this.sendWork(member.node));
    }
    this.leaseKeeper.forget(node);
    if (online) {
      this.work.forget(node);
      this.backendKeeper.forget(node);
      await this.sendWork(node);
      this.syncBackends();
    }
    await this.leaseKeeper.refresh(Date.now());
    await this.settle();
  }

  /** Lease requests and releases, the votes of the agent's own checks, and programs it refused. */
  private async agentMessage(node: string, envelope: Envelope, ageMs: number): Promise<void> {
    const command = envelope.command;
    const now = Date.now();
    if (command.type === "votes") {
      await this.takeVotes({
        observer: `agent:${node}`,
        seq: envelope.seq,
        heartbeat: command.heartbeat,
        votes: command.votes,
      });
      return;
    }
    if (command.type === "program.refused") {
      // Recorded as it came: it needs no configuration, and nothing after it may lose it.
      const { kind, subject, state, program, reason } = command;
      const details = {
        node,
        kind,
        ...(state === null ? {} : { state }),
        program: program.path,
        args: program.args,
        reason,
      };
      this.record([{ type: "program.refused", severity: "warning", subject, details }], now);
      return;
    }
    await this.takeConfig();
    if (command.type === "lease.request") {
      const { epoch, holding, holder, promises } = command;
      await this.leaseKeeper.request(
        node,
        command.group,
        envelope.id,
        { epoch, holding, holder, promises },
        now,
        ageMs,
      );
    } else if (command.type === "lease.released")
      await this.leaseKeeper.released(node, command.group, command.leaseEpoch, now);
    await this.settle();
  }

  /** Puts events in the outbox; they go to D1 behind the answer (the outbox keeps them until they do). */
  private record(events: EventDraft[], now: number): void {
    if (events.length === 0) return;
    for (const event of events) this.outbox.add(event, now);
    this.ctx.waitUntil(this.outbox.flush());
  }

  /** After every input: wake whoever waits for the new state, and keep the alarm set. */
  private async settle(): Promise<void> {
    this.waiters.changed();
    await this.ensureAlarm();
  }

  /** Brings directors' tables up to date: for the targets `changed`, or for everything. */
  private syncBackends(changed?: string[]): void {
    if (this.config.doc) this.backendKeeper.sync(this.config.doc, (t) => this.votes.state(t), changed);
  }

  private async sendWork(node: string): Promise<void> {
    if (!this.channel.connected(node)) return;
    await this.work.send(node, this.config.doc, this.leaseKeeper.unitsOf(node), this.config.keys);
  }

  /** True when a batch names a target this object does not know, and its configuration is not brand new. */
  private namesUnknownTarget(raw: unknown): boolean {
    const votes = (raw as { votes?: unknown } | null)?.votes;
    if (!Array.isArray(votes) || Date.now() - this.config.readAt < UNKNOWN_TARGET_REREAD_MS) return false;
    return votes.some((v) => typeof v?.target === "string" && !this.config.targets.has(v.target));
  }

  /** Holds a configuration just read, counting the D1 rows its read read. */
  private hold(config: HeldConfig): void {
    this.config = config;
    this.used.d1RowsRead += config.rowsRead;
  }

  /** Re-reads the configuration when told to or when it is old, and acts on it once when it is new. */
  private async takeConfig(force = false): Promise<void> {
    const now = Date.now();
    if (force) {
      this.hold(await readConfig(this.env.DB, this.cluster, now));
      this.applied = false;
    } else if (now - this.config.readAt >= CONFIG_MAX_AGE_MS) {
      const { config, changed } = await refreshConfig(this.env.DB, this.cluster, this.config, now);
      this.hold(config);
      if (changed) this.applied = false;
    }
    if (this.applied) return;
    this.applied = true;
    const { doc, targets } = this.config;
    await this.leaseKeeper.configure(doc, now);
    const members = new Set((doc?.nodes ?? []).map((n) => n.name));
    this.channel.revokeAllBut(members);
    for (const node of members) this.ctx.waitUntil(this.sendWork(node));
    this.votes.forgetAllBut(targets);
  }

  /** The next alarm: a heartbeat from now, or sooner when a lease expires or becomes grantable. */
  private async ensureAlarm(by = Number.POSITIVE_INFINITY): Promise<void> {
    const now = Date.now();
    const lease = this.leaseKeeper.nextWake(now);
    const busy = this.config.targets.size > 0 || this.ctx.getWebSockets().length > 0 || lease !== null;
    if (!busy) return;
    const at = Math.max(now + 10, Math.min(now + HEARTBEAT_MS, lease ?? Number.POSITIVE_INFINITY, by));
    // The alarm this instance set is known; storage is asked only for one set before it started.
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > at) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    }
  }
}
