/**
 * Prometheus text exposition (format 0.0.4) of what Vigil knows: every observer's vote and
 * every quorum verdict, probe latency per region, votes received, lease holder, epoch and time
 * left per VIP group, agents online, commands sent / acked / failed, rows the coordinator
 * wrote to its storage, webhook deliveries by outcome. Pure: the Worker gathers a snapshot per
 * cluster and this renders it.
 */
import type { HealthReport } from "./health.js";
import type { LeaseView } from "./lease-view.js";
import { VOTE_STATES } from "./vote.js";

/** Upper bounds of the probe latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface LatencyHistogram {
  /** Cumulative counts, one per bucket of LATENCY_BUCKETS (the +Inf bucket is `count`). */
  buckets: number[];
  sum: number;
  count: number;
}

export function emptyHistogram(): LatencyHistogram {
  return { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
}

export function observeLatency(h: LatencyHistogram, seconds: number): void {
  LATENCY_BUCKETS.forEach((le, i) => {
    if (seconds <= le) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
  });
  h.sum += seconds;
  h.count += 1;
}

/** What one cluster's coordinator counts and knows. */
export interface CoordinatorMetrics {
  health: HealthReport;
  leases: LeaseView[];
  /** Vote batches' votes received, per observer, since the coordinator started. */
  votes: Record<string, number>;
  /** Latency reported in region observers' votes, per region. */
  latency: Record<string, LatencyHistogram>;
  commands: { sent: number; acked: number; failed: number };
  /** What the object is billed for, counted since it started (rows written: to its own SQLite). */
  usage: ObjectUsage;
}

/** A Durable Object's billed work since it started: requests (RPC calls, alarms, upgrades), WebSocket messages received, its SQLite's rows, and the D1 rows it read. */
export interface ObjectUsage {
  requests: number;
  messagesIn: number;
  rowsWritten: number;
  rowsRead: number;
  /** D1 rows its configuration reads read. */
  d1RowsRead: number;
}

export interface MetricsSnapshot {
  clusters: {
    name: string;
    coordinator: CoordinatorMetrics;
    nodes: { name: string; online: boolean }[];
  }[];
  /** Webhook deliveries by subscription and status. */
  deliveries: { webhook: string; status: string; count: number }[];
}

/** Escapes a label value: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

function number(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

class Exposition {
  private readonly families = new Map<string, { help: string; type: string; lines: string[] }>();

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): void {
    if (!this.families.has(name)) this.families.set(name, { help, type, lines: [] });
  }

  sample(family: string, name: string, values: Record<string, string>, value: number): void {
    this.families.get(family)?.lines.push(`${name}${labels(values)} ${number(value)}`);
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return `${out.join("\n")}\n`;
  }
}

export function renderMetrics(snapshot: MetricsSnapshot): string {
  const x = new Exposition();
  x.family(
    "vigil_observer_vote",
    "gauge",
    "1 for the state each observer last voted for each target, 0 for the others.",
  );
  x.family("vigil_observer_vote_fresh", "gauge", "1 when the observer's vote is recent enough to count.");
  x.family("vigil_target_verdict", "gauge", "1 for the quorum verdict of each target, 0 for the other states.");
  x.family("vigil_probe_latency_seconds", "histogram", "Probe latency reported in the votes of each region.");
  x.family("vigil_votes_received_total", "counter", "Votes received by the coordinator, per observer.");
  x.family("vigil_lease_holder", "gauge", "1 for the node holding each VIP group's lease.");
  x.family("vigil_lease_epoch", "gauge", "The lease epoch of each VIP group.");
  x.family("vigil_lease_remaining_seconds", "gauge", "Seconds left on each VIP group's lease (0 without a holder).");
  x.family("vigil_agent_online", "gauge", "1 when the node's agent is connected.");
  x.family("vigil_agents_online", "gauge", "Agents connected per cluster.");
  x.family(
    "vigil_commands_total",
    "counter",
    "Signed commands sent to agents, acked, and failed (refused or unanswered).",
  );
  x.family(
    "vigil_coordinator_rows_written_total",
    "counter",
    "Rows the cluster's coordinator wrote to its own storage since it started.",
  );
  x.family(
    "vigil_coordinator_rows_read_total",
    "counter",
    "Rows the cluster's coordinator read from its own storage since it started.",
  );
  x.family(
    "vigil_coordinator_requests_total",
    "counter",
    "Requests the cluster's coordinator handled since it started: RPC calls, alarms, connections (each billed).",
  );
  x.family(
    "vigil_coordinator_d1_rows_read_total",
    "counter",
    "D1 rows the cluster's coordinator read for its configuration since it started.",
  );
  x.family(
    "vigil_coordinator_websocket_messages_total",
    "counter",
    "WebSocket messages the cluster's coordinator received from agents since it started.",
  );
  x.family("vigil_webhook_deliveries", "gauge", "Webhook deliveries per subscription and status.");

  for (const { name: cluster, coordinator: m, nodes } of snapshot.clusters) {
    for (const t of m.health.targets) {
      for (const state of VOTE_STATES)
        x.sample(
          "vigil_target_verdict",
          "vigil_target_verdict",
          { cluster, target: t.target, state },
          t.verdict.state === state ? 1 : 0,
        );
      for (const o of t.observers) {
        for (const state of VOTE_STATES)
          x.sample(
            "vigil_observer_vote",
            "vigil_observer_vote",
            { cluster, target: t.target, observer: o.observer, state },
            o.state === state ? 1 : 0,
          );
        x.sample(
          "vigil_observer_vote_fresh",
          "vigil_observer_vote_fresh",
          { cluster, target: t.target, observer: o.observer },
          o.fresh ? 1 : 0,
        );
      }
    }
    for (const [region, h] of Object.entries(m.latency)) {
      LATENCY_BUCKETS.forEach((le, i) => {
        const bucket = { cluster, region, le: String(le) };
        x.sample("vigil_probe_latency_seconds", "vigil_probe_latency_seconds_bucket", bucket, h.buckets[i] ?? 0);
      });
      x.sample(
        "vigil_probe_latency_seconds",
        "vigil_probe_latency_seconds_bucket",
        { cluster, region, le: "+Inf" },
        h.count,
      );
      x.sample("vigil_probe_latency_seconds", "vigil_probe_latency_seconds_sum", { cluster, region }, h.sum);
      x.sample("vigil_probe_latency_seconds", "vigil_probe_latency_seconds_count", { cluster, region }, h.count);
    }
    for (const [observer, n] of Object.entries(m.votes))
      x.sample("vigil_votes_received_total", "vigil_votes_received_total", { cluster, observer }, n);
    for (const l of m.leases) {
      for (const member of l.members)
        x.sample(
          "vigil_lease_holder",
          "vigil_lease_holder",
          { cluster, group: l.group, node: member.node },
          member.node === l.holder ? 1 : 0,
        );
      x.sample("vigil_lease_epoch", "vigil_lease_epoch", { cluster, group: l.group }, l.epoch);
      x.sample(
        "vigil_lease_remaining_seconds",
        "vigil_lease_remaining_seconds",
        { cluster, group: l.group },
        Math.max(0, l.remainingMs ?? 0) / 1000,
      );
    }
    for (const n of nodes)
      x.sample("vigil_agent_online", "vigil_agent_online", { cluster, node: n.name }, n.online ? 1 : 0);
    x.sample("vigil_agents_online", "vigil_agents_online", { cluster }, nodes.filter((n) => n.online).length);
    for (const outcome of ["sent", "acked", "failed"] as const)
      x.sample("vigil_commands_total", "vigil_commands_total", { cluster, outcome }, m.commands[outcome]);
    x.sample(
      "vigil_coordinator_rows_written_total",
      "vigil_coordinator_rows_written_total",
      { cluster },
      m.usage.rowsWritten,
    );
    x.sample("vigil_coordinator_rows_read_total", "vigil_coordinator_rows_read_total", { cluster }, m.usage.rowsRead);
    x.sample("vigil_coordinator_requests_total", "vigil_coordinator_requests_total", { cluster }, m.usage.requests);
    x.sample(
      "vigil_coordinator_d1_rows_read_total",
      "vigil_coordinator_d1_rows_read_total",
      { cluster },
      m.usage.d1RowsRead,
    );
    x.sample(
      "vigil_coordinator_websocket_messages_total",
      "vigil_coordinator_websocket_messages_total",
      { cluster },
      m.usage.messagesIn,
    );
  }
  for (const d of snapshot.deliveries)
    x.sample("vigil_webhook_deliveries", "vigil_webhook_deliveries", { webhook: d.webhook, status: d.status }, d.count);
  return x.render();
}
