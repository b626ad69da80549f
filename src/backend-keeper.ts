/**
 * Keeps each director's backend tables in step with the quorum verdicts (inside the
 * coordinator): sends a `backends.sync` when a director's desired tables differ from what it
 * last got, stores each answer, records a `command.failed` (and sends again at the next
 * alarm) when a sync fails, and records when a virtual service falls below its minimum
 * healthy real servers or comes back. The view asks every connected director for its live
 * table, so status shows what the kernel or HAProxy has now.
 */
import type { CommandResult } from "./agent-channel.js";
import {
  type BackendReport,
  BackendsStatus,
  type BackendsView,
  type DirectorStatus,
  differences,
} from "./core/backend-status.js";
import { type DesiredService, desiredBackends, desiredService } from "./core/backends.js";
import type { ClusterDocument } from "./core/cluster.js";
import type { Command } from "./core/command.js";
import type { EventDraft } from "./core/verdict-events.js";
import type { VoteState } from "./core/vote.js";

/** A director that does not answer a status read within this long is shown without its table. */
const STATUS_WAIT_MS = 3000;

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

  constructor(
    private readonly sql: SqlStorage,
    private readonly hooks: BackendHooks,
  ) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS backend_reports (node TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS service_floor (service TEXT PRIMARY KEY, below INTEGER NOT NULL);
    `);
  }

  /** A node (re)connected: it gets its tables again whatever it had. */
  forget(node: string): void {
    this.sent.delete(node);
  }

  sync(doc: ClusterDocument, verdict: Verdict): void {
    this.floor(doc, verdict);
    for (const [node, services] of desiredBackends(doc, verdict)) {
      if (!this.hooks.connected(node)) continue;
      const key = JSON.stringify(services);
      if (this.sent.get(node) === key) continue;
      if (services.length === 0 && !this.sent.has(node)) continue;
      this.sent.set(node, key);
      this.hooks.background(this.push(node, services));
    }
  }

  /** `service.below_minimum` when a service drops under its minHealthy, `service.restored` when it is back. */
  private floor(doc: ClusterDocument, verdict: Verdict): void {
    const stored = new Map(
      this.sql
        .exec<{ service: string; below: number }>("SELECT service, below FROM service_floor")
        .toArray()
        .map((r) => [r.service, r.below === 1]),
    );
    for (const vs of doc.virtualServices) {
      const d = desiredService(vs, verdict);
      const was = stored.get(vs.name) ?? false;
      stored.delete(vs.name);
      if (d.belowMinimum === was) continue;
      this.sql.exec(
        "INSERT OR REPLACE INTO service_floor (service, below) VALUES (?, ?)",
        vs.name,
        d.belowMinimum ? 1 : 0,
      );
      this.hooks.record({
        type: d.belowMinimum ? "service.below_minimum" : "service.restored",
        severity: d.belowMinimum ? "critical" : "info",
        subject: vs.name,
        details: { healthy: d.healthy, minHealthy: vs.minHealthy, sorry: d.servers.some((s) => s.role === "sorry") },
      });
    }
    for (const gone of stored.keys()) this.sql.exec("DELETE FROM service_floor WHERE service = ?", gone);
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
      // Sent again at the next alarm.
      this.sent.delete(node);
      this.hooks.record({
        type: "command.failed",
        severity: "warning",
        subject: node,
        details: { command: "backends.sync", revision, error: report.error },
      });
    }
    this.sql.exec("INSERT OR REPLACE INTO backend_reports (node, body) VALUES (?, ?)", node, JSON.stringify(report));
  }

  /** Per virtual service: the desired table, and per director its last sync and its live table. */
  async view(doc: ClusterDocument, verdict: Verdict): Promise<BackendsView> {
    const reports = new Map(
      this.sql
        .exec<{ node: string; body: string }>("SELECT node, body FROM backend_reports")
        .toArray()
        .map((r) => [r.node, JSON.parse(r.body) as BackendReport]),
    );
    const groups = new Set(doc.virtualServices.map((vs) => vs.vipGroup));
    const directors = new Set(
      doc.vipGroups.filter((g) => groups.has(g.name)).flatMap((g) => g.members.map((m) => m.node)),
    );
    const live = new Map(await Promise.all([...directors].map(async (node) => [node, await this.read(node)] as const)));
    return {
      at: new Date().toISOString(),
      services: doc.virtualServices.map((vs) => {
        const desired = desiredService(vs, verdict);
        const members = doc.vipGroups.find((g) => g.name === vs.vipGroup)?.members.map((m) => m.node) ?? [];
        return {
          desired,
          directors: members.map((node): DirectorStatus => {
            const status = live.get(node);
            const read = status && "services" in status ? status : null;
            const actual = read?.services.find((s) => s.service === vs.name) ?? null;
            const driverError = read?.errors[desired.driver.type];
            return {
              node,
              online: this.hooks.connected(node),
              report: reports.get(node) ?? null,
              actual,
              error: status && "error" in status ? status.error : (driverError ?? null),
              differences: actual ? differences(desired, actual) : [],
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
