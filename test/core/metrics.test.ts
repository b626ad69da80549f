import parse from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { emptyHistogram, type MetricsSnapshot, observeLatency, renderMetrics } from "../../src/core/metrics.js";

/** Built inside each test, so that the mutation run sees which test covers which line. */
function latency() {
  const histogram = emptyHistogram();
  for (const s of [0.004, 0.02, 0.3, 12]) observeLatency(histogram, s);
  return histogram;
}

const snapshot = (): MetricsSnapshot => ({
  clusters: [
    {
      name: "classic-lvs",
      coordinator: {
        health: {
          cluster: "classic-lvs",
          at: "2026-11-22T12:00:00Z",
          targets: [
            {
              target: "web/web1",
              check: "http",
              address: "10.0.0.21",
              port: 80,
              verdict: { state: "up", since: "2026-11-22T12:00:00Z", fresh: 2, required: 2 },
              observers: [
                {
                  observer: "region:weur",
                  state: "up",
                  fresh: true,
                  since: null,
                  receivedAt: null,
                  latencyMs: 4,
                  error: null,
                  probes: 1,
                  failures: 0,
                },
                {
                  observer: "region:apac",
                  state: "down",
                  fresh: false,
                  since: null,
                  receivedAt: null,
                  latencyMs: null,
                  error: 'a "quoted"\nerror',
                  probes: 1,
                  failures: 1,
                },
              ],
            },
          ],
        },
        leases: [
          {
            group: "VI_1",
            vipGroups: ["VI_1"],
            holder: "lb1",
            epoch: 7,
            remainingMs: 2500,
            desired: "lb1",
            switchoverTo: null,
            onCoordinatorLoss: "quorum",
            voters: [],
            majority: 2,
            members: [
              { node: "lb1", eligible: true, priority: 100, reasons: [] },
              { node: "lb2", eligible: true, priority: 50, reasons: [] },
            ],
          },
        ],
        votes: { "region:weur": 12, 'agent:lb"1': 3 },
        latency: { weur: latency() },
        commands: { sent: 9, acked: 7, failed: 1 },
        usage: { requests: 9, messagesIn: 120, rowsWritten: 42, rowsRead: 7, d1RowsRead: 30 },
      },
      nodes: [
        { name: "lb1", online: true },
        { name: "lb2", online: false },
      ],
    },
  ],
  deliveries: [{ webhook: "ops", status: "delivered", count: 4 }],
});

const family = (text: string, name: string) => parse(text).find((f) => f.name === name);

describe("Prometheus exposition", () => {
  it("parses as the text format, every family with HELP and TYPE", () => {
    const text = renderMetrics(snapshot());
    const families = parse(text);
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ["vigil_observer_vote", "GAUGE"],
      ["vigil_observer_vote_fresh", "GAUGE"],
      ["vigil_target_verdict", "GAUGE"],
      ["vigil_probe_latency_seconds", "HISTOGRAM"],
      ["vigil_votes_received_total", "COUNTER"],
      ["vigil_lease_holder", "GAUGE"],
      ["vigil_lease_epoch", "GAUGE"],
      ["vigil_lease_remaining_seconds", "GAUGE"],
      ["vigil_agent_online", "GAUGE"],
      ["vigil_agents_online", "GAUGE"],
      ["vigil_commands_total", "COUNTER"],
      ["vigil_coordinator_rows_written_total", "COUNTER"],
      ["vigil_coordinator_rows_read_total", "COUNTER"],
      ["vigil_coordinator_requests_total", "COUNTER"],
      ["vigil_coordinator_d1_rows_read_total", "COUNTER"],
      ["vigil_coordinator_websocket_messages_total", "COUNTER"],
      ["vigil_webhook_deliveries", "GAUGE"],
    ]);
    for (const f of families) expect(f.help.length).toBeGreaterThan(10);
  });

  it("carries votes per observer and the verdict per target, one-hot over the states", () => {
    const text = renderMetrics(snapshot());
    const votes = family(text, "vigil_observer_vote")
      ?.metrics.filter((m) => m.value === "1")
      .map((m) => m.labels);
    expect(votes).toEqual([
      { cluster: "classic-lvs", target: "web/web1", observer: "region:weur", state: "up" },
      { cluster: "classic-lvs", target: "web/web1", observer: "region:apac", state: "down" },
    ]);
    const verdict = family(text, "vigil_target_verdict")
      ?.metrics.filter((m) => m.value === "1")
      .map((m) => m.labels?.state);
    expect(verdict).toEqual(["up"]);
  });

  it("has a cumulative latency histogram per region", () => {
    const text = renderMetrics(snapshot());
    // The parser keeps a histogram's buckets (not its labels); _sum and _count are checked as lines.
    const [weur] = family(text, "vigil_probe_latency_seconds")?.metrics ?? [];
    expect(weur?.buckets).toMatchObject({ "0.005": "1", "0.025": "2", "0.5": "3", "10": "3", "+Inf": "4" });
    expect(text).toContain('vigil_probe_latency_seconds_count{cluster="classic-lvs",region="weur"} 4\n');
    expect(text).toMatch(/vigil_probe_latency_seconds_sum\{cluster="classic-lvs",region="weur"\} 12\.32\d*\n/);
  });

  it("shows lease, agents, commands, rows written and deliveries", () => {
    const text = renderMetrics(snapshot());
    const one = (name: string) =>
      family(text, name)?.metrics.map((m): [Record<string, string> | undefined, string | undefined] => [
        m.labels,
        m.value,
      ]);
    expect(one("vigil_lease_holder")).toEqual([
      [{ cluster: "classic-lvs", group: "VI_1", node: "lb1" }, "1"],
      [{ cluster: "classic-lvs", group: "VI_1", node: "lb2" }, "0"],
    ]);
    expect(one("vigil_lease_epoch")).toEqual([[{ cluster: "classic-lvs", group: "VI_1" }, "7"]]);
    expect(one("vigil_lease_remaining_seconds")).toEqual([[{ cluster: "classic-lvs", group: "VI_1" }, "2.5"]]);
    expect(one("vigil_agents_online")).toEqual([[{ cluster: "classic-lvs" }, "1"]]);
    expect(one("vigil_commands_total")?.map(([l, v]) => [l?.outcome, v])).toEqual([
      ["sent", "9"],
      ["acked", "7"],
      ["failed", "1"],
    ]);
    expect(one("vigil_coordinator_rows_written_total")).toEqual([[{ cluster: "classic-lvs" }, "42"]]);
    expect(one("vigil_coordinator_rows_read_total")).toEqual([[{ cluster: "classic-lvs" }, "7"]]);
    expect(one("vigil_coordinator_requests_total")).toEqual([[{ cluster: "classic-lvs" }, "9"]]);
    expect(one("vigil_coordinator_d1_rows_read_total")).toEqual([[{ cluster: "classic-lvs" }, "30"]]);
    expect(one("vigil_coordinator_websocket_messages_total")).toEqual([[{ cluster: "classic-lvs" }, "120"]]);
    expect(one("vigil_webhook_deliveries")).toEqual([[{ webhook: "ops", status: "delivered" }, "4"]]);
  });

  it("escapes quotes, backslashes and newlines in label values", () => {
    const text = renderMetrics(snapshot());
    expect(text).toContain('observer="agent:lb\\"1"');
    const votes = family(text, "vigil_votes_received_total")?.metrics.map((m) => m.labels?.observer);
    expect(votes).toEqual(["region:weur", 'agent:lb"1']);
  });
});
