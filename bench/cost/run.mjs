#!/usr/bin/env node
/**
 * bench/cost: the monthly bill, from what bench/fleet measured (bench/results/fleet.json: the
 * requests, WebSocket messages and storage rows of its window) and the platform's list prices
 * (PRICES below, with the day they were read). Prints the bill for 100, 1,000 and 10,000
 * targets checked every 10 s from three regions, and the monthly cost of one VIP group, beside
 * Route 53 health checks and Cloudflare Load Balancing monitors for the same checks; says which
 * line dominates and what would cut it. Writes bench/results/cost.json and, with --readme,
 * rewrites the README's "What it costs to run" section from the same figures.
 * Usage: node bench/cost/run.mjs [--readme]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "../workerd-run.mjs";

/** List prices in USD, read on 2026-12-06 from the vendors' pricing pages (Workers Paid plan). */
const PRICES = {
  readOn: "2026-12-06",
  workersPaidPerMonth: 5,
  /** Durable Objects: requests (RPC calls, alarms; WebSocket messages in count 1 per 20). */
  doRequestsPerMillion: 0.15,
  doRequestsIncluded: 1_000_000,
  websocketMessagesPerRequest: 20,
  /** Durable Objects duration, per million GB-s, while an object is active (128 MB each). */
  doGbSecondsPerMillion: 12.5,
  doGbSecondsIncluded: 400_000,
  objectGb: 0.128,
  /** SQLite-backed Durable Object storage and D1 share these row prices and allowances. */
  rowsWrittenPerMillion: 1.0,
  rowsWrittenIncluded: 50_000_000,
  rowsReadPerMillion: 0.001,
  rowsReadIncluded: 25_000_000_000,
  /** Route 53 health check on a non-AWS endpoint; the 10 s ("fast") interval is an option on top. */
  route53PerCheck: 0.75,
  route53FastIntervalPerCheck: 2.0,
  /** Cloudflare Load Balancing: per load balancer with two endpoints, each more endpoint extra; 60 s monitors from one region below Enterprise. */
  cfLbBasePerMonth: 5,
  cfLbEndpointsIncluded: 2,
  cfLbPerExtraEndpoint: 5,
};

const MONTH_S = 30 * 24 * 3600;
const CHECKS_PER_SHARD = 10;
/**
 * A prober shard is billed for duration while an alarm runs, and an alarm runs while its probes
 * wait on the network. Loopback probes here take a millisecond; on the internet they take tens
 * to hundreds. PROBE_LATENCY_S is the mean assumed for the bill: a shard given 10 checks/s is
 * then active 10 x 0.15 = all of the time (capped at 1).
 */
const PROBE_LATENCY_S = 0.15;

const fleetFile = path.join(root, "bench/results/fleet.json");
if (!existsSync(fleetFile)) {
  console.error("bench/cost: no bench/results/fleet.json; run node bench/fleet/run.mjs first");
  process.exit(1);
}
const fleet = JSON.parse(readFileSync(fleetFile, "utf8"));
const w = fleet.window;
const perTargetSecond = (n) => n / (fleet.targets * fleet.seconds);
const perClusterSecond = (n) => n / (fleet.clusters * fleet.seconds);
const perGroupSecond = (n) => n / (fleet.groups * fleet.seconds);

/** What one target (checked every 10 s by three regions) and one coordinator and one VIP group cause per second. */
const rates = {
  target: {
    doRequests: perTargetSecond(w.proberRequests + w.proberBatches),
    rowsWritten: perTargetSecond(w.proberRowsWritten),
    rowsRead: perTargetSecond(w.proberRowsRead + w.d1RowsRead),
  },
  coordinator: {
    // Its own alarms and calls, besides the probers' vote batches counted per target.
    doRequests: perClusterSecond(Math.max(0, w.coordinatorRequests - w.proberBatches)),
    rowsWritten: perClusterSecond(w.coordinatorRowsWritten),
    rowsRead: perClusterSecond(w.coordinatorRowsRead),
  },
  group: {
    websocketMessages: perGroupSecond(w.coordinatorMessagesIn),
  },
};

const money = (n) => `$${n < 10 ? n.toFixed(2) : n.toFixed(0)}`;
const over = (used, included, perMillion) => (Math.max(0, used - included) / 1e6) * perMillion;

/** The month for `targets` targets, `groups` VIP groups: each line's usage and price. */
function bill(targets, groups) {
  const clusters = Math.max(1, Math.ceil(targets / (fleet.targets / fleet.clusters)));
  const shards = fleet.regions * Math.max(1, Math.ceil(targets / fleet.intervalS / CHECKS_PER_SHARD));
  const shardActive = Math.min(1, (targets / shards) * (fleet.regions / fleet.intervalS) * PROBE_LATENCY_S);
  const requests =
    MONTH_S *
    (targets * rates.target.doRequests +
      clusters * rates.coordinator.doRequests +
      (groups * rates.group.websocketMessages) / PRICES.websocketMessagesPerRequest);
  // Coordinators hear from their probers every few seconds and never idle long enough to hibernate.
  const gbSeconds = MONTH_S * PRICES.objectGb * (clusters + shards * shardActive);
  const rowsWritten = MONTH_S * (targets * rates.target.rowsWritten + clusters * rates.coordinator.rowsWritten);
  const rowsRead = MONTH_S * (targets * rates.target.rowsRead + clusters * rates.coordinator.rowsRead);
  const lines = [
    { line: "Workers Paid plan", usage: "", cost: PRICES.workersPaidPerMonth },
    {
      line: "Durable Object requests",
      usage: `${(requests / 1e6).toFixed(1)} M`,
      cost: over(requests, PRICES.doRequestsIncluded, PRICES.doRequestsPerMillion),
    },
    {
      line: "Durable Object duration",
      usage: `${(gbSeconds / 1e6).toFixed(2)} M GB-s (${clusters} coordinator(s), ${shards} prober shards)`,
      cost: over(gbSeconds, PRICES.doGbSecondsIncluded, PRICES.doGbSecondsPerMillion),
    },
    {
      line: "rows written (D1 and objects)",
      usage: `${(rowsWritten / 1e6).toFixed(2)} M`,
      cost: over(rowsWritten, PRICES.rowsWrittenIncluded, PRICES.rowsWrittenPerMillion),
    },
    {
      line: "rows read (D1 and objects)",
      usage: `${(rowsRead / 1e6).toFixed(0)} M`,
      cost: over(rowsRead, PRICES.rowsReadIncluded, PRICES.rowsReadPerMillion),
    },
  ];
  const total = lines.reduce((n, l) => n + l.cost, 0);
  const checks = targets * fleet.regions;
  return {
    targets,
    groups,
    clusters,
    shards,
    lines,
    total,
    route53: targets * (PRICES.route53PerCheck + PRICES.route53FastIntervalPerCheck),
    cfLb: PRICES.cfLbBasePerMonth + Math.max(0, targets - PRICES.cfLbEndpointsIncluded) * PRICES.cfLbPerExtraEndpoint,
    checks,
  };
}

/** One VIP group's share: its directors' messages, billed as requests, on a fleet past the allowances. */
const groupMonthly =
  ((MONTH_S * rates.group.websocketMessages) / PRICES.websocketMessagesPerRequest / 1e6) * PRICES.doRequestsPerMillion;

const sizes = [100, 1_000, 10_000];
const bills = sizes.map((t) => bill(t, Math.round((t * fleet.groups) / fleet.targets)));

const out = [];
out.push(
  `Monthly bill, every target checked every ${fleet.intervalS} s from ${fleet.regions} regions (prices read ${PRICES.readOn}; usage measured by bench/fleet ${fleet.at.slice(0, 10)}, ${fleet.agents} directors, ${fleet.targets} targets)`,
);
out.push("");
out.push(`| line | ${sizes.map((s) => `${s.toLocaleString("en")} targets`).join(" | ")} |`);
out.push(`|---|${sizes.map(() => "---:").join("|")}|`);
for (let i = 0; i < bills[0].lines.length; i++)
  out.push(`| ${bills[0].lines[i].line} | ${bills.map((b) => money(b.lines[i].cost)).join(" | ")} |`);
out.push(`| **Vigil, total** | ${bills.map((b) => `**${money(b.total)}**`).join(" | ")} |`);
out.push(`| Vigil, per check (target x region) | ${bills.map((b) => money(b.total / b.checks)).join(" | ")} |`);
out.push(
  `| Route 53, one 10 s check per target ($${PRICES.route53PerCheck} + $${PRICES.route53FastIntervalPerCheck}) | ${bills.map((b) => money(b.route53)).join(" | ")} |`,
);
out.push(
  `| Cloudflare Load Balancing, one endpoint per target (60 s, one region) | ${bills.map((b) => money(b.cfLb)).join(" | ")} |`,
);
out.push("");
out.push(
  `One VIP group (two directors renewing a ${fleet.ttlS} s lease): ${money(groupMonthly)} a month in requests once the plan's allowance is used.`,
);
const last = bills.at(-1);
const top = [...last.lines].sort((a, b) => b.cost - a.cost)[0];
out.push(
  `At ${last.targets.toLocaleString("en")} targets the largest line is ${top.line} (${money(top.cost)} of ${money(last.total)}).`,
);
const requestsLine = last.lines.find((l) => l.line === "Durable Object requests");
if (requestsLine && requestsLine.cost > last.total / 4)
  out.push(
    `Requests are mostly prober alarms (${((rates.target.doRequests * fleet.intervalS) / fleet.regions).toFixed(2)} per probe): an alarm runs the probes due within ${10} ms, so nearly every probe is a billed request; running a shard's due probes at most once a second would cut this line about tenfold, at up to a second's lateness per probe.`,
  );
if (top.line === "Durable Object duration")
  out.push(
    `Prober shards are billed while their probes wait on the network (${PROBE_LATENCY_S * 1000} ms assumed per probe): fewer, fuller objects would cut it, each spreading its probes over several invocations (six connections each) instead of one object per ${CHECKS_PER_SHARD} checks/s.`,
  );
const text = out.join("\n");
console.log(text);
writeFileSync(
  path.join(root, "bench/results/cost.json"),
  `${JSON.stringify({ bench: "cost", at: new Date().toISOString(), prices: PRICES, probeLatencyS: PROBE_LATENCY_S, rates, groupMonthly, bills }, null, 2)}\n`,
);

if (process.argv.includes("--readme")) {
  const readme = path.join(root, "README.md");
  const begin = "<!-- cost:begin (written by node bench/cost/run.mjs --readme) -->";
  const end = "<!-- cost:end -->";
  const current = readFileSync(readme, "utf8");
  const at = current.indexOf(begin);
  const stop = current.indexOf(end);
  if (at < 0 || stop < at) throw new Error(`README.md has no ${begin} ... ${end} section`);
  writeFileSync(readme, `${current.slice(0, at + begin.length)}\n${text}\n${current.slice(stop)}`);
  console.log("\nREADME.md: the cost section was rewritten from these figures");
}
