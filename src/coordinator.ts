/**
 * Coordinator Durable Object: one per cluster. Ingests vote batches from any observer,
 * keeps the current vote of each (target, observer) and each target's verdict in its own
 * SQLite storage, and records every change of verdict as an event in D1 (through an outbox,
 * so an event is never lost to a failed D1 write). Probe results are not stored; votes
 * carry rollups (latency, last error, counts).
 */
import { DurableObject } from "cloudflare:workers";
import { AgentChannel, AUTHENTICATE_WITHIN_MS, type CommandResult, NotConnected } from "./agent-channel.js";
import { BackendKeeper } from "./backend-keeper.js";
import type { BackendsView } from "./core/backend-status.js";
import type { ClusterDocument } from "./core/cluster.js";
import type { AgentWork, Command } from "./core/command.js";
import type { Envelope } from "./core/envelope.js";
import { formatPath } from "./core/errors.js";
import type { HealthReport } from "./core/health.js";
import type { LeaseView } from "./core/lease-view.js";
import { type CoordinatorMetrics, emptyHistogram, type LatencyHistogram, observeLatency } from "./core/metrics.js";
import { type QuorumPolicy, verdict } from "./core/quorum.js";
import { agentTargets, HEARTBEAT_MS, policyFor, type Target, targetsOf } from "./core/targets.js";
import { type EventDraft, verdictEvents } from "./core/verdict-events.js";
import { type Vote, VoteBatch, type VoteState } from "./core/vote.js";
import type { Env } from "./env.js";
import { LeaseKeeper } from "./leases.js";
import { readClusterDocument } from "./storage/cluster-config.js";
import { enqueueEvents } from "./webhooks/messages.js";

/** Events written to D1 in one batch; a burst goes out as several. */
const OUTBOX_ROWS_PER_BATCH = 100;

/** Configuration is re-read at least this often, besides the push on every change. */
const CONFIG_MAX_AGE_MS = 30_000;

interface StoredVote extends Vote {
  observer: string;
  receivedAt: number;
}

interface StoredVerdict {
  state: VoteState;
  since: number;
  lastKnown: Exclude<VoteState, "unknown"> | null;
  fresh: number;
  required: number;
}

export interface IngestResult {
  accepted: number;
  /** Targets whose verdict changed, with the new state. */
  changed: { target: string; state: VoteState }[];
  /** True when the batch was older than one already seen from this observer. */
  stale: boolean;
  /** Why the whole batch was refused (it did not validate), or null. */
  rejected: string | null;
}

export class Coordinator extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private cluster: string | null = null;
  private storedCluster: string | null = null;
  private targets = new Map<string, { target: Target; policy: QuorumPolicy }>();
  private configReadAt = 0;
  private readonly votes = new Map<string, Map<string, StoredVote>>();
  private readonly verdicts = new Map<string, StoredVerdict>();
  private readonly seqs = new Map<string, number>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly channel: AgentChannel;
  private readonly leases: LeaseKeeper;
  private doc: ClusterDocument | null = null;
  /** The agent.work last sent to each node, so an unchanged one is not sent again. */
  private readonly work = new Map<string, string>();
  private workRevision = 0;
  private readonly backends: BackendKeeper;
  /** Counted for /metrics since this object started (Prometheus takes counter resets in its stride). */
  private readonly voteCounts = new Map<string, number>();
  private readonly latency = new Map<string, LatencyHistogram>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS votes (target TEXT NOT NULL, observer TEXT NOT NULL, body TEXT NOT NULL,
        received_at INTEGER NOT NULL, PRIMARY KEY (target, observer));
      CREATE TABLE IF NOT EXISTS verdicts (target TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS observers (observer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL);
    `);
    for (const row of this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'cluster'")) {
      this.cluster = row.value;
      this.storedCluster = row.value;
    }
    for (const row of this.sql.exec<{ target: string; observer: string; body: string; received_at: number }>(
      "SELECT * FROM votes",
    )) {
      this.voteMap(row.target).set(row.observer, {
        ...JSON.parse(row.body),
        observer: row.observer,
        receivedAt: row.received_at,
      });
    }
    for (const row of this.sql.exec<{ target: string; body: string }>("SELECT * FROM verdicts")) {
      this.verdicts.set(row.target, JSON.parse(row.body));
    }
    for (const row of this.sql.exec<{ observer: string; seq: number }>("SELECT * FROM observers")) {
      this.seqs.set(row.observer, row.seq);
    }
    const record = (event: EventDraft) => {
      this.enqueueEvent(event, Date.now());
      this.ctx.waitUntil(this.flush());
    };
    this.channel = new AgentChannel(ctx, env, this.sql, {
      record,
      presence: (node, online) => this.presence(node, online),
      message: (node, envelope) => this.agentMessage(node, envelope),
    });
    this.leases = new LeaseKeeper(this.sql, {
      post: (node, command, epoch) =>
        this.cluster === null ? Promise.resolve() : this.channel.post(this.cluster, node, command, epoch),
      record,
      connected: (node) => this.channel.connected(node),
      verdict: (target) => this.verdicts.get(target)?.state ?? "unknown",
    });
    this.backends = new BackendKeeper(this.sql, {
      send: (node, command) => {
        if (this.cluster === null) return Promise.reject(new NotConnected("no cluster yet"));
        return this.channel.send(this.cluster, node, command);
      },
      connected: (node) => this.channel.connected(node),
      record,
      background: (work) => this.ctx.waitUntil(work),
    });
  }

  private async presence(node: string, online: boolean): Promise<void> {
    if (this.cluster === null) return;
    this.rememberCluster(this.cluster);
    await this.ensureConfig(this.cluster);
    if (online) {
      this.work.delete(node);
      this.backends.forget(node);
      await this.sendWork(node);
      this.syncBackends();
    }
    await this.leases.refresh(Date.now());
    await this.ensureAlarm();
  }

  /** Lease requests and releases, the votes of the agent's own checks, and programs it refused. */
  private async agentMessage(node: string, envelope: Envelope): Promise<void> {
    if (this.cluster === null) return;
    const cluster = this.cluster;
    await this.ensureConfig(cluster);
    const command = envelope.command;
    const now = Date.now();
    if (command.type === "lease.request") await this.leases.request(node, command.group, envelope.id, now);
    else if (command.type === "lease.released")
      await this.leases.released(node, command.group, command.leaseEpoch, now);
    else if (command.type === "program.refused") {
      const { kind, subject, state, program, reason } = command;
      this.enqueueEvent(
        {
          type: "program.refused",
          severity: "warning",
          subject,
          details: {
            node,
            kind,
            ...(state === null ? {} : { state }),
            program: program.path,
            args: program.args,
            reason,
          },
        },
        now,
      );
      this.ctx.waitUntil(this.flush());
    } else if (command.type === "votes")
      await this.ingest(cluster, {
        observer: `agent:${node}`,
        seq: envelope.seq,
        heartbeat: command.heartbeat,
        votes: command.votes,
      });
    await this.ensureAlarm();
  }

  /** Sends a node its lease units and checks, when they differ from what it last got. */
  private async sendWork(node: string): Promise<void> {
    if (this.cluster === null || !this.channel.connected(node)) return;
    const units = this.leases.unitsOf(node).map((u) => u.spec);
    const probes = this.doc
      ? agentTargets(this.doc, node).map((t) => ({ target: t.id, check: t.check, address: t.address, port: t.port }))
      : [];
    const key = JSON.stringify({ units, probes });
    if (this.work.get(node) === key) return;
    this.work.set(node, key);
    this.workRevision += 1;
    const work: AgentWork = { type: "agent.work", revision: this.workRevision, units, probes };
    await this.channel.post(this.cluster, node, work, 0);
  }

  private syncBackends(): void {
    if (this.doc === null) return;
    this.backends.sync(this.doc, (t) => this.verdicts.get(t)?.state ?? "unknown");
  }

  /** Per virtual service: the desired table, and per director its last sync and live table. */
  async backendsView(cluster: string): Promise<BackendsView> {
    await this.ensureConfig(cluster);
    const doc = this.doc;
    if (!doc) return { at: new Date().toISOString(), services: [] };
    return this.backends.view(doc, (t) => this.verdicts.get(t)?.state ?? "unknown");
  }

  /** Every lease unit: holder, epoch, time left, members with effective priority and why not eligible. */
  async leaseViews(cluster: string): Promise<LeaseView[]> {
    await this.ensureConfig(cluster);
    await this.leases.refresh(Date.now());
    return this.leases.view(Date.now());
  }

  /**
   * Moves a VIP group (or sync group) to a member and waits until that member holds it, up
   * to `waitMs`. Answers the view, or why it cannot.
   */
  async switchover(
    cluster: string,
    group: string,
    to: string,
    waitMs: number,
  ): Promise<{ view: LeaseView | null; error: "not_found" | "conflict" | null; message: string | null }> {
    await this.ensureConfig(cluster);
    const refused = await this.leases.switchover(group, to, Date.now());
    const view = () => this.leases.view(Date.now()).find((v) => v.group === group) ?? null;
    if (refused !== null) return { view: view(), error: view() === null ? "not_found" : "conflict", message: refused };
    await this.ensureAlarm();
    const done = await this.waitFor(() => this.leases.holder(group) === to, waitMs);
    return done
      ? { view: view(), error: null, message: null }
      : { view: view(), error: "conflict", message: `${to} did not take ${group} within ${waitMs} ms` };
  }

  /** Drains a node (or undoes it) and waits until it holds nothing, up to `waitMs`. */
  async drain(cluster: string, node: string, drained: boolean, waitMs: number): Promise<{ holding: string[] }> {
    await this.ensureConfig(cluster);
    await this.leases.drain(node, drained, Date.now());
    await this.ensureAlarm();
    const holding = () =>
      this.leases
        .view(Date.now())
        .filter((v) => v.holder === node)
        .map((v) => v.group);
    if (drained) await this.waitFor(() => holding().length === 0, waitMs);
    return { holding: holding() };
  }

  private async waitFor(done: () => boolean, waitMs: number): Promise<boolean> {
    const until = Date.now() + waitMs;
    while (!done()) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return true;
  }

  /** Agent connections: `/connect?cluster=...&node=...` with a WebSocket upgrade. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const cluster = url.searchParams.get("cluster") ?? "";
    const node = url.searchParams.get("node") ?? "";
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket upgrade", { status: 426 });
    // Nothing is written before the agent's hello verifies (presence() stores the name then);
    // the alarm closes the socket if it never does.
    this.cluster = cluster;
    const response = this.channel.accept(cluster, node);
    await this.ensureAlarm(Date.now() + AUTHENTICATE_WITHIN_MS + 100);
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.channel.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.channel.closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.channel.closed(ws);
  }

  /** Sends a signed command to a node's agent and returns its signed ack, or why there is none. */
  async sendCommand(
    cluster: string,
    node: string,
    command: Command,
  ): Promise<CommandResult | { notConnected: string }> {
    await this.ensureConfig(cluster);
    try {
      return await this.channel.send(cluster, node, command);
    } catch (err) {
      // Answered, not thrown: an RPC exception would be logged as uncaught on this side.
      if (err instanceof NotConnected) return { notConnected: err.message };
      throw err;
    }
  }

  /** Drops a node's connections after its enrollment was reset. */
  async revokeAgent(node: string): Promise<void> {
    this.channel.revoke(node);
  }

  /** Takes one batch of votes from one observer. Validates it first: observers are not trusted. */
  async ingest(cluster: string, raw: unknown): Promise<IngestResult> {
    const parsed = VoteBatch.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        accepted: 0,
        changed: [],
        stale: false,
        rejected: `${formatPath(issue?.path ?? [])}: ${issue?.message}`,
      };
    }
    const batch = parsed.data;
    await this.ensureConfig(cluster);
    const last = this.seqs.get(batch.observer);
    if (last !== undefined && batch.seq <= last) return { accepted: 0, changed: [], stale: true, rejected: null };
    this.seqs.set(batch.observer, batch.seq);
    this.sql.exec("INSERT OR REPLACE INTO observers (observer, seq) VALUES (?, ?)", batch.observer, batch.seq);

    const now = Date.now();
    const touched = new Set<string>();
    let accepted = 0;
    for (const vote of batch.votes) {
      const known = this.targets.get(vote.target);
      if (!known?.policy.eligible.includes(batch.observer)) continue;
      const stored: StoredVote = { ...vote, observer: batch.observer, receivedAt: now };
      this.voteMap(vote.target).set(batch.observer, stored);
      const { observer: _o, receivedAt: _r, ...body } = stored;
      this.sql.exec(
        "INSERT OR REPLACE INTO votes (target, observer, body, received_at) VALUES (?, ?, ?, ?)",
        vote.target,
        batch.observer,
        JSON.stringify(body),
        now,
      );
      touched.add(vote.target);
      accepted += 1;
      this.voteCounts.set(batch.observer, (this.voteCounts.get(batch.observer) ?? 0) + 1);
      if (batch.observer.startsWith("region:") && vote.latencyMs !== null) {
        const region = batch.observer.slice("region:".length);
        const histogram = this.latency.get(region) ?? emptyHistogram();
        observeLatency(histogram, vote.latencyMs / 1000);
        this.latency.set(region, histogram);
      }
    }
    const changed = this.evaluate(touched, now);
    if (changed.length > 0) {
      await this.leases.refresh(now);
      this.syncBackends();
    }
    await this.ensureAlarm();
    // The verdict is decided and stored; its events go out behind the answer (the outbox keeps them).
    if (changed.length > 0) this.ctx.waitUntil(this.flush());
    return { accepted, changed, stale: false, rejected: null };
  }

  /** Targets x observers with votes and verdicts. */
  async health(cluster: string): Promise<HealthReport> {
    await this.ensureConfig(cluster);
    const now = Date.now();
    this.evaluate(new Set(this.targets.keys()), now);
    await this.flush();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      cluster,
      at: new Date(now).toISOString(),
      targets: [...this.targets.values()].map(({ target, policy }) => {
        const v = this.verdicts.get(target.id) ?? this.initialVerdict(now);
        return {
          target: target.id,
          check: target.check.name,
          address: target.address,
          port: target.port,
          verdict: { state: v.state, since: new Date(v.since).toISOString(), fresh: v.fresh, required: v.required },
          observers: policy.eligible.map((observer) => {
            const vote = this.votes.get(target.id)?.get(observer);
            return {
              observer,
              state: vote?.state ?? "unknown",
              fresh: vote !== undefined && now - vote.receivedAt <= policy.maxAgeMs,
              since: iso(vote?.since ?? null),
              receivedAt: iso(vote?.receivedAt ?? null),
              latencyMs: vote?.latencyMs ?? null,
              error: vote?.error ?? null,
              probes: vote?.probes ?? 0,
              failures: vote?.failures ?? 0,
            };
          }),
        };
      }),
    };
  }

  /** What /metrics shows of this cluster. */
  async metrics(cluster: string): Promise<CoordinatorMetrics> {
    return {
      health: await this.health(cluster),
      leases: await this.leaseViews(cluster),
      votes: Object.fromEntries(this.voteCounts),
      latency: Object.fromEntries(this.latency),
      commands: this.channel.counts(),
    };
  }

  /** Called after every configuration change, so new checks and observers count at once. */
  async configChanged(cluster: string): Promise<void> {
    this.configReadAt = 0;
    await this.ensureConfig(cluster);
    this.evaluate(new Set(this.targets.keys()), Date.now());
    await this.leases.refresh(Date.now());
    this.syncBackends();
    await this.ensureAlarm();
    await this.flush();
  }

  /** Re-evaluates every target, so votes that went stale turn into `unknown` without new input. */
  override async alarm(): Promise<void> {
    this.channel.closeSilent(Date.now());
    if (this.cluster === null) return;
    await this.ensureConfig(this.cluster);
    this.evaluate(new Set(this.targets.keys()), Date.now());
    await this.leases.refresh(Date.now());
    this.syncBackends();
    await this.flush();
    await this.ensureAlarm();
  }

  private evaluate(targets: Iterable<string>, now: number): IngestResult["changed"] {
    const changed: IngestResult["changed"] = [];
    for (const id of targets) {
      const known = this.targets.get(id);
      if (!known) continue;
      const prev = this.verdicts.get(id) ?? this.initialVerdict(now);
      const votes = [...(this.votes.get(id)?.values() ?? [])];
      const v = verdict(votes, known.policy, prev.state, now);
      const next: StoredVerdict = {
        state: v.state,
        since: v.state === prev.state ? prev.since : now,
        lastKnown: v.state === "unknown" ? prev.lastKnown : v.state,
        fresh: v.fresh,
        required: v.required,
      };
      if (next.state !== prev.state) {
        changed.push({ target: id, state: next.state });
        const details = {
          check: known.target.check.name,
          fresh: v.fresh,
          required: v.required,
          down: v.down,
          healthy: v.healthy,
        };
        for (const event of verdictEvents(id, prev.state, next.state, prev.lastKnown, details))
          this.enqueueEvent(event, now);
      }
      if (next.state !== prev.state || next.fresh !== prev.fresh || !this.verdicts.has(id)) {
        this.verdicts.set(id, next);
        this.sql.exec("INSERT OR REPLACE INTO verdicts (target, body) VALUES (?, ?)", id, JSON.stringify(next));
      }
    }
    return changed;
  }

  /** Puts an event in the outbox; flush() writes it to D1 and queues it for webhooks. */
  private enqueueEvent(event: EventDraft, now: number): void {
    const id = crypto.randomUUID();
    this.sql.exec(
      "INSERT INTO outbox (id, body) VALUES (?, ?)",
      id,
      JSON.stringify({ ...event, id, at: new Date(now).toISOString() }),
    );
  }

  private initialVerdict(now: number): StoredVerdict {
    return { state: "unknown", since: now, lastKnown: null, fresh: 0, required: 0 };
  }

  /** Runs flushes one after another, so two never write the same rows. */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOutbox());
    return this.flushing;
  }

  /** Writes pending events to D1 in one batch; on failure they stay for the next try. */
  private async flushOutbox(): Promise<void> {
    for (;;) {
      const rows = [
        ...this.sql.exec<{ id: string; body: string }>(
          "SELECT id, body FROM outbox ORDER BY rowid LIMIT ?",
          OUTBOX_ROWS_PER_BATCH,
        ),
      ];
      if (rows.length === 0 || this.cluster === null) return;
      if (!(await this.flushRows(this.cluster, rows))) return;
    }
  }

  /** Writes one slice of the outbox to D1 and queues it; false when it must wait for the next flush. */
  private async flushRows(cluster: string, rows: { id: string; body: string }[]): Promise<boolean> {
    const insert = this.env.DB.prepare(
      "INSERT OR IGNORE INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    try {
      await this.env.DB.batch(
        rows.map(({ body }) => {
          const e = JSON.parse(body);
          return insert.bind(e.id, cluster, e.type, e.severity, e.subject, JSON.stringify(e.details), e.at);
        }),
      );
    } catch (err) {
      // Events of a deleted cluster have nowhere to go (events reference their cluster).
      if (!/FOREIGN KEY/.test(String((err as Error).cause ?? err))) {
        console.error("coordinator: writing events to D1 failed; will retry", err);
        return false;
      }
      console.warn(`coordinator: cluster ${cluster} no longer exists; dropping ${rows.length} event(s)`);
      for (const { id } of rows) this.sql.exec("DELETE FROM outbox WHERE id = ?", id);
      return true;
    }
    for (const { id } of rows) this.sql.exec("DELETE FROM outbox WHERE id = ?", id);
    try {
      await enqueueEvents(
        this.env,
        rows.map((r) => r.id),
      );
    } catch (err) {
      // The events are in D1; the cron's sweep dispatches what was not queued.
      console.error("coordinator: queueing events for webhooks failed", err);
    }
    return true;
  }

  /** Stores the cluster's name, so a restarted object (woken by its alarm) knows it. */
  private rememberCluster(cluster: string): void {
    if (this.storedCluster === cluster) return;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('cluster', ?)", cluster);
    this.storedCluster = cluster;
  }

  private async ensureConfig(cluster: string): Promise<void> {
    if (this.cluster !== cluster || this.storedCluster !== cluster) {
      this.cluster = cluster;
      this.rememberCluster(cluster);
      this.configReadAt = 0;
    }
    if (Date.now() - this.configReadAt < CONFIG_MAX_AGE_MS) return;
    const doc = await readClusterDocument(this.env.DB, cluster);
    this.configReadAt = Date.now();
    this.doc = doc;
    await this.leases.configure(doc, Date.now());
    const members = new Set([...(doc?.nodes ?? []).map((n) => n.name)]);
    this.channel.revokeAllBut(members);
    for (const node of members) this.ctx.waitUntil(this.sendWork(node));
    const targets = doc ? targetsOf(doc) : [];
    this.targets = new Map(targets.map((t) => [t.id, { target: t, policy: policyFor(t) }]));
    // Forget what no longer exists; keep votes of observers that are still eligible.
    for (const id of [...this.votes.keys()]) {
      if (!this.targets.has(id)) {
        this.votes.delete(id);
        this.verdicts.delete(id);
        this.sql.exec("DELETE FROM votes WHERE target = ?", id);
        this.sql.exec("DELETE FROM verdicts WHERE target = ?", id);
      }
    }
  }

  /** The next alarm: a heartbeat from now, or sooner when a lease expires or becomes grantable. */
  private async ensureAlarm(by = Number.POSITIVE_INFINITY): Promise<void> {
    const now = Date.now();
    const lease = this.leases.nextWake(now);
    const busy = this.targets.size > 0 || this.ctx.getWebSockets().length > 0 || lease !== null;
    if (!busy) return;
    const at = Math.max(now + 10, Math.min(now + HEARTBEAT_MS, lease ?? Number.POSITIVE_INFINITY, by));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private voteMap(target: string): Map<string, StoredVote> {
    let map = this.votes.get(target);
    if (!map) {
      map = new Map();
      this.votes.set(target, map);
    }
    return map;
  }
}
