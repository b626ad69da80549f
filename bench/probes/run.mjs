#!/usr/bin/env node
/**
 * bench/probes: what one prober and one coordinator sustain, measured in workerd.
 *   - HTTP checks per second one prober runs against loopback servers (1500 targets, 1 s interval)
 *   - CPU milliseconds per check (workerd and its test runner, from /proc, during that window)
 *   - votes per second one coordinator ingests in batches of 100
 *   - verdict latency, vote in to state change, p50 and p99
 *   - storage rows written per 1000 probes that change nothing: D1, and the Durable Objects'
 *     own (the coordinator's and the prober's), which are billed per row too
 *   - the coordinator's rows per 1000 votes that change nothing
 *   (the coordinator's history writes one row per minute whatever the votes: not counted)
 * Usage: node bench/probes/run.mjs [seconds] [batches] [trials] [targets]. Writes bench/results/probes.json.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { report, runWorkload } from "../workerd-run.mjs";

const [seconds = 10, batches = 1000, trials = 500, targets = 1500] = process.argv.slice(2).map(Number);
const TARGETS = { checksPerSecond: 1000, votesPerSecond: 10_000, p99Ms: 10, rowsPer1000Probes: 0, rowsPer1000Votes: 0 };

// Fifty loopback servers: real servers are unique by address and port within a service.
const servers = [];
for (let i = 0; i < 50; i++) {
  const server = createServer((_req, res) => res.end("<h1>ok</h1>"));
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
}
const ports = servers.map((s) => s.address().port);

/** CPU seconds used so far by `pid` and all its descendants. */
function treeCpuSeconds(pid) {
  const stats = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  const inTree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of stats) {
      if (!inTree.has(p) && inTree.has(s.ppid)) {
        inTree.add(p);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const p of inTree) ticks += stats.get(p)?.ticks ?? 0;
  return ticks / 100;
}

let cpuStart = 0;
let cpuSeconds = 0;
const r = await runWorkload(
  "bench/probes/workload.bench-test.ts",
  { ports, seconds, batches, trials, targets },
  (mark, pid) => {
    if (mark === "start") cpuStart = treeCpuSeconds(pid);
    if (mark === "end") cpuSeconds = treeCpuSeconds(pid) - cpuStart;
  },
).finally(() => {
  for (const s of servers) s.close();
});

const cpuMsPerCheck = (cpuSeconds * 1000) / Math.max(r.probe.probes, 1);
report(
  "probes",
  [
    [
      `HTTP checks/s, one prober (${r.probe.targets} targets, 1 s interval)`,
      r.probe.checksPerSecond,
      `>= ${TARGETS.checksPerSecond}`,
      r.probe.checksPerSecond >= TARGETS.checksPerSecond,
    ],
    ["CPU ms per check (workerd + runner)", cpuMsPerCheck],
    [
      "votes/s into one coordinator (batches of 100)",
      r.ingest.votesPerSecond,
      `>= ${TARGETS.votesPerSecond}`,
      r.ingest.votesPerSecond >= TARGETS.votesPerSecond,
    ],
    ["verdict latency p50 (ms)", r.verdict.p50Ms],
    ["verdict latency p99 (ms)", r.verdict.p99Ms, `< ${TARGETS.p99Ms}`, r.verdict.p99Ms < TARGETS.p99Ms],
    [
      "D1 rows per 1000 probes that change nothing",
      r.d1.rowsPer1000Probes,
      `= ${TARGETS.rowsPer1000Probes}`,
      r.d1.rowsPer1000Probes === 0,
    ],
    [
      "Durable Object rows per 1000 probes that change nothing (history's row a minute aside)",
      r.objects.rowsPer1000Probes,
      `= ${TARGETS.rowsPer1000Probes}`,
      r.objects.rowsPer1000Probes === 0,
    ],
    [
      "coordinator rows per 1000 votes that change nothing (history's row a minute aside)",
      r.ingest.rowsPer1000Votes,
      `= ${TARGETS.rowsPer1000Votes}`,
      r.ingest.rowsPer1000Votes === 0,
    ],
  ],
  { targets: TARGETS, cpuSeconds, cpuMsPerCheck, ...r },
);
console.log(
  `(${r.probe.probes} probes in ${r.probe.seconds.toFixed(1)} s; ${r.verdict.trials} verdict trials; CPU ${cpuSeconds.toFixed(2)} s)`,
);
