#!/usr/bin/env node
/**
 * bench/probes: what one region's probers and one coordinator sustain, measured in workerd.
 *   - HTTP checks per second one region runs against loopback servers, 1,000 and 10,000 targets
 *     every 10 s, under the platform's limit of six outbound connections per invocation: each
 *     prober shard is a Durable Object of its own, and the loopback servers count the probes
 *     each shard holds open at once (from its User-Agent); more than six fails the bench
 *   - CPU milliseconds per check (workerd and its test runner, from /proc, during those windows)
 *   - votes per second one coordinator ingests in batches of 100
 *   - verdict latency, vote in to state change, p50 and p99
 *   - storage rows written per 1000 probes that change nothing: D1, and the Durable Objects'
 *     own (the coordinator's and the prober's), which are billed per row too
 *   - the coordinator's rows per 1000 votes that change nothing
 *   (the coordinator's history writes one row per minute whatever the votes: not counted)
 * Usage: node bench/probes/run.mjs [seconds] [batches] [trials] [sizes, comma-separated].
 * Writes bench/results/probes.json.
 */
import { createServer } from "node:http";
import { treeCpuSeconds } from "../process-cpu.mjs";
import { report, runWorkload } from "../workerd-run.mjs";

const args = process.argv.slice(2);
const [seconds = 20, batches = 1000, trials = 500] = args.slice(0, 3).map(Number);
const sizes = (args[3] ?? "1000,10000").split(",").map(Number);
const TARGETS = {
  /** Every target's checks, each 10 s: the region keeps up with what its targets ask. */
  checksShare: 0.95,
  openPerShard: 6,
  votesPerSecond: 50_000,
  p99Ms: 10,
  rowsPer1000Probes: 0,
  rowsPer1000Votes: 0,
};

/** The most probes each prober shard (`<region> <shard>`, from its User-Agent) held open at once. */
const open = new Map();
function count(req, res) {
  const agent = req.headers["user-agent"] ?? "";
  const shard = `${agent.match(/region=(\w+)/)?.[1]} ${agent.match(/shard=(\d+)/)?.[1]}`;
  const c = open.get(shard) ?? { now: 0, most: 0 };
  open.set(shard, c);
  c.now += 1;
  c.most = Math.max(c.most, c.now);
  res.on("close", () => {
    c.now -= 1;
  });
}

// Fifty loopback servers: real servers are unique by address and port within a service.
const servers = [];
for (let i = 0; i < 50; i++) {
  const server = createServer((req, res) => {
    count(req, res);
    res.end("<h1>ok</h1>");
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
}
const ports = servers.map((s) => s.address().port);

let cpuStart = 0;
const cpuSeconds = [];
const r = await runWorkload(
  "bench/probes/workload.bench-test.ts",
  { ports, seconds, batches, trials, sizes },
  (mark, pid) => {
    if (mark === "start") cpuStart = treeCpuSeconds(pid);
    if (mark === "end") cpuSeconds.push(treeCpuSeconds(pid) - cpuStart);
  },
).finally(() => {
  for (const s of servers) s.close();
});

const mostOpen = Math.max(...[...open.values()].map((c) => c.most));
const regionRows = r.regions.flatMap((region, i) => [
  [
    `HTTP checks/s, one region, ${region.targets} targets every 10 s (${region.shards} shard${region.shards > 1 ? "s" : ""})`,
    region.checksPerSecond,
    `>= ${(region.wanted * TARGETS.checksShare).toFixed(0)}`,
    region.checksPerSecond >= region.wanted * TARGETS.checksShare,
  ],
  [
    `CPU ms per check, ${region.targets} targets (workerd + runner)`,
    ((cpuSeconds[i] ?? 0) * 1000) / Math.max(region.probes, 1),
  ],
]);
const last = r.regions.at(-1);
report(
  "probes",
  [
    ...regionRows,
    [
      "most probes any one shard held open at once",
      mostOpen,
      `<= ${TARGETS.openPerShard}`,
      mostOpen <= TARGETS.openPerShard,
    ],
    [
      "votes/s into one coordinator (batches of 100)",
      r.ingest.votesPerSecond,
      `>= ${TARGETS.votesPerSecond}`,
      r.ingest.votesPerSecond >= TARGETS.votesPerSecond,
    ],
    ["verdict latency p50 (ms)", r.verdict.p50Ms],
    ["verdict latency p99 (ms)", r.verdict.p99Ms, `< ${TARGETS.p99Ms}`, r.verdict.p99Ms < TARGETS.p99Ms],
    [
      `D1 rows per 1000 probes that change nothing (${last.targets} targets)`,
      last.d1RowsPer1000Probes,
      `= ${TARGETS.rowsPer1000Probes}`,
      last.d1RowsPer1000Probes === 0,
    ],
    [
      "Durable Object rows per 1000 probes that change nothing (history's row a minute aside)",
      last.objectRowsPer1000Probes,
      `= ${TARGETS.rowsPer1000Probes}`,
      last.objectRowsPer1000Probes === 0,
    ],
    [
      "coordinator rows per 1000 votes that change nothing (history's row a minute aside)",
      r.ingest.rowsPer1000Votes,
      `= ${TARGETS.rowsPer1000Votes}`,
      r.ingest.rowsPer1000Votes === 0,
    ],
  ],
  {
    targets: TARGETS,
    cpuSeconds,
    mostOpen,
    openPerShard: Object.fromEntries([...open].map(([k, c]) => [k, c.most])),
    ...r,
  },
);
console.log(
  `(${r.regions.map((g) => `${g.probes} probes in ${g.seconds.toFixed(1)} s`).join("; ")}; ${r.verdict.trials} verdict trials)`,
);
