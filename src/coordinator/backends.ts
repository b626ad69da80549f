/**
 * Keeps each director's backend tables in step with the quorum verdicts (inside the
 * coordinator): sends a `backends.sync` when a director's desired tables differ from what it
 * last got, stores each answer, records a `command.failed` (and sends again at the next
 * alarm) when a sync fails, and records when a virtual service falls below its minimum
 * healthy real servers or comes back. Each director's live table is read on the alarm's
 * schedule (every READ_EVERY_MS) or on an explicit refresh, and kept in memory; the view only
 * shows the last one read, with its time: looking at it sends nothing.
 */
import {
  type BackendReport,
  BackendsStatus,
  type BackendsView,
  type DirectorStatus,
  differences,
} from "../core/backend-status.js";
import { type DesiredService, desiredService } from "../core/backends.js";
import type { ClusterDocument } from "../core/cluster.js";
import type { Command } from "../core/command.js";
import { DesiredTables, type Recomputed } from "../core/desired-tables.js";
import type { EventDraft } from "../core/verdict-events.js";
import { serverTargets } from "../core/virtual-service.js";
import type { VoteState } from "../core/vote.js";
import type { CommandResult } from "./api.js";

/** A director that does not answer a status read within this long is shown without its table. */
const STATUS_WAIT_MS = 3000;
/** How often the alarm reads each director's live table. */
const READ_EVERY_MS = 15_000;

/** One director's live tables as last read, or why they could not be read, and when. */
type LiveRead = (BackendsStatus | { error: string }) & { readAt: number };

export interface BackendHooks {
  send(node: string, command: Command): Promise<CommandResult>;
  connected(node: string): boolean;
  record(event: EventDraft): void;
  /** Keeps the object alive for work that goes on behind an answer. */
  background(work: Promise<unknown>): void;
}

type Verdict = (target: string) => VoteState;

export class BackendKeeper {
  /** The backends.sync last sent to each node (its services as JSON). */
  private readonly sent = new Map<string, string>();
  private revision = 0;
  /** Live tables are observations: kept in memory only, read again after a restart. */
  private readonly live = new Map<string, LiveRead>();
  private lastRead = 0;
  /** Each node's desired tables for the configuration last synced. */
  private tables: DesiredTables | null = null;
  /** Directors whose last sync failed: every sync looks at them again, whatever changed. */
  private readonly failed = new Set<string>();
  /** Which services are below their minimum, as service_floor holds it; read once. */
  private below: Map<string, boolean> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly hooks: BackendHooks,
  ) {}

  /** A node (re)connected: it gets its tables again whatever it had. */
  forget(node: string): void {
    this.sent.delete(node);
  }

  /**
   * Sends each connected director the tables it should have, when they differ from what it
   * last got. With `changed` (the targets whose verdict changed), only their services are
   * recomputed and only their directors (and those whose last sync failed) looked at; without
   * it, or for a configuration not seen before, everything is.
   */
  sync(doc: ClusterDocument, verdict: Verdict, changed?: Iterable<string>): void {
    let everything = changed === undefined;
    // A new configuration is looked at whole: nodes may have left groups, services may be gone.
    if (this.tables?.doc !== doc) {
      this.tables = new DesiredTables(doc);
      everything = true;
    }
    const tables = this.tables;
    const recomputed = tables.update(verdict, everything ? undefined : changed);
    this.floor(doc, recomputed.services, everything);
    const nodes = everything ? tables.nodes() : [...recomputed.nodes, ...this.failed];
    this.failed.clear();
    for (const node of nodes) {
      if (!this.hooks.connected(node)) continue;
      const { services, json } = tables.tables(node);
      if (this.sent.get(node) === json) continue;
      if (services.length === 0 && !this.sent.has(node)) continue;
      this.sent.set(node, json);
      this.hooks.background(this.push(node, services));
    }
  }

  /**
   * `service.below_minimum` when a service drops under its minHealthy, `service.restored` when
   * it is back: for the services just recomputed, and, after a full recompute, forgetting
   * those no longer configured.
   */
  private floor(doc: ClusterDocument, services: Recomputed["services"], everything: boolean): void {
    this.below ??= new Map(
      this.sql
        .exec<{ service: string; below: number }>("SELECT service, below FROM service_floor")
        .toArray()
        .map((r) => [r.service, r.below === 1]),
    );
    const below = this.below;
    for (const { service: vs, table: d } of services) {
      if (d.belowMinimum === (below.get(d.name) ?? false)) continue;
      this.sql.exec(
        "INSERT OR REPLACE INTO service_floor (service, below) VALUES (?, ?)",
        d.name,
        d.belowMinimum ? 1 : 0,
      );
      below.set(d.name, d.belowMinimum);
      this.hooks.record({
        type: d.belowMinimum ? "service.below_minimum" : "service.restored",
        severity: d.belowMinimum ? "critical" : "info",
        subject: d.name,
        details: { healthy: d.healthy, minHealthy: vs.minHealthy, sorry: d.servers.some((s) => s.role === "sorry") },
      });
    }
    if (!everything) return;
    const configured = new Set(doc.virtualServices.map((vs) => vs.name));
    for (const gone of [...below.keys()].filter((name) => !configured.has(name))) {
      this.sql.exec("DELETE FROM service_floor WHERE service = ?", gone);
      below.delete(gone);
    }
  }

  private async push(node: string, services: DesiredService[]): Promise<void> {
    this.revision += 1;
    const revision = this.revision;
    const at = new Date().toISOString();
    let report: BackendReport;
    try {
      const reply = await this.hooks.send(node, { type: "backends.sync", revision, services });
      report = { revision, at, ok: reply.ok, error: reply.error, result: reply.result };
    } catch (err) {
      report = { revision, at, ok: false, error: (err as Error).message, result: null };
    }
    if (!report.ok) {
      // Sent again at the next sync (the alarm's at the latest).
      this.sent.delete(node);
      this.failed.add(node);
      this.hooks.record({
        type: "command.failed",
        severity: "warning",
        subject: node,
        details: { command: "backends.sync", revision, error: report.error },
      });
    }
    this.sql.exec("INSERT OR REPLACE INTO backend_reports (node, body) VALUES (?, ?)", node, JSON.stringify(report));
  }

  /** The directors of virtual services: the nodes whose live tables the view shows. */
  private directors(doc: ClusterDocument): string[] {
    const groups = new Set(doc.virtualServices.map((vs) => vs.vipGroup));
    return [...new Set(doc.vipGroups.filter((g) => groups.has(g.name)).flatMap((g) => g.members.map((m) => m.node)))];
  }

  /** Reads every director's live table when the last read is READ_EVERY_MS old; the alarm calls it. */
  poll(doc: ClusterDocument, now: number): void {
    if (now - this.lastRead < READ_EVERY_MS) return;
    this.hooks.background(this.readAll(doc, now));
  }

  /** Reads every director's live table now: the operator asked for it. */
  async readAll(doc: ClusterDocument, now: number): Promise<void> {
    this.lastRead = now;
    await Promise.all(
      this.directors(doc).map(async (node) => {
        const read = await this.read(node);
        this.live.set(node, { ...read, readAt: Date.now() });
      }),
    );
  }

  /** Per virtual service: the desired table, and per director its last sync and its last live table read. */
  view(doc: ClusterDocument, verdict: Verdict, now: number): BackendsView {
    const reports = new Map(
      this.sql
        .exec<{ node: string; body: string }>("SELECT node, body FROM backend_reports")
        .toArray()
        .map((r) => [r.node, JSON.parse(r.body) as BackendReport]),
    );
    return {
      at: new Date(now).toISOString(),
      services: doc.virtualServices.map((vs) => {
        const desired = desiredService(vs, verdict);
        const members = doc.vipGroups.find((g) => g.name === vs.vipGroup)?.members.map((m) => m.node) ?? [];
        return {
          desired,
          checks: vs.realServers.flatMap((rs) =>
            serverTargets(vs.name, rs).map(({ check, target }) => ({
              server: rs.name,
              check,
              target,
              state: verdict(target),
            })),
          ),
          directors: members.map((node): DirectorStatus => {
            const status = this.live.get(node);
            const read = status && "services" in status ? status : null;
            const actual = read?.services.find((s) => s.service === vs.name) ?? null;
            const driverError = read?.errors[desired.driver.type];
            return {
              node,
              online: this.hooks.connected(node),
              report: reports.get(node) ?? null,
              actual,
              readAt: status ? new Date(status.readAt).toISOString() : null,
              ageMs: status ? Math.max(0, now - status.readAt) : null,
              error: status ? ("error" in status ? status.error : (driverError ?? null)) : "not read yet",
              differences: actual ? differences(desired, actual) : [],
              sync: read?.sync ?? null,
            };
          }),
        };
      }),
    };
  }

  /** One director's live tables, or why they could not be read. */
  private async read(node: string): Promise<BackendsStatus | { error: string }> {
    if (!this.hooks.connected(node)) return { error: "agent not connected" };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STATUS_WAIT_MS} ms`)), STATUS_WAIT_MS);
    });
    try {
      const reply = await Promise.race([this.hooks.send(node, { type: "backends.status" }), timeout]);
      if (!reply.ok) return { error: reply.error ?? "refused" };
      const parsed = BackendsStatus.safeParse(reply.result);
      return parsed.success ? parsed.data : { error: "the agent's status answer did not validate" };
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
