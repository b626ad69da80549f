#!/usr/bin/env node
/**
 * bench/fleet: a whole fleet against one control plane on this machine. `npm start` (workerd,
 * local D1 and Durable Objects) serves clusters of at most 250 directors each (a cluster's
 * node limit), each with its own coordinator; bench/fleet/agents.ts plays every director in one
 * process with the agent's own code (enrolled through the API, real keys, signed frames, lease
 * requests every third of the 3 s TTL, signed acks); real prober shards in three regions probe
 * every target every 10 s on fifty loopback servers. After the fleet holds every VIP group it
 * measures, over a window:
 *   - lease renewal round trip p50/p99 (agent's request to the coordinator's answer)
 *   - votes/s sustained into the coordinators, and the vote batch round trip p99 (the
 *     prober's call that hands votes to the coordinator and gets the verdicts back)
 *   - agent messages/s into one coordinator, steady, and what one handles when its 250
 *     directors each send 40 extra signed frames a second for 10 s
 *   - the control plane's CPU per second of fleet time (workerd: coordinators and probers)
 *   - storage rows written per minute (coordinators' and probers' own, and D1's)
 *   - the billed counts bench/cost prices: requests, WebSocket messages, rows written and read
 * Usage: node bench/fleet/run.mjs [agents] [groups] [targets] [seconds]. Writes bench/results/fleet.json.
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { freePort, freshCheckout, startVigil, stopVigil } from "../local-run.mjs";
import { treeCpuSeconds } from "../process-cpu.mjs";
import { report, root } from "../workerd-run.mjs";

const [agents = 1000, groups = 500, targets = 10_000, seconds = 60] = process.argv.slice(2).map(Number);
const NODES_PER_CLUSTER = 250;
const REGIONS = ["weur", "enam", "apac"];
const INTERVAL_S = 10;
const TTL_S = 3;
const TARGETS = { renewalP99Ms: 100, votesShare: 0.95, voteRoundTripP99Ms: 10, messagesPerCoordinator: 5000 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

// Fifty loopback servers: real servers are unique by address and port within a service.
const servers = [];
for (let i = 0; i < 50; i++) {
  const server = createServer((_req, res) => res.end("<h1>ok</h1>"));
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
}
const ports = servers.map((s) => s.address().port);

/** Cluster `c` of the fleet: its directors in pairs, one VIP group per pair, its share of the targets in services of 50. */
function fleetCluster(c, nodeCount, groupCount, targetCount) {
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    name: `lb${i}`,
    address: `10.${60 + c}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  }));
  const vip = (g) => `10.${120 + c}.${Math.floor(g / 250)}.${(g % 250) + 1}`;
  const vipGroups = Array.from({ length: groupCount }, (_, g) => ({
    name: `VG${g}`,
    vips: [{ cidr: `${vip(g)}/16`, interface: "eth0" }],
    members: [
      { node: `lb${(2 * g) % nodeCount}`, priority: 100 },
      { node: `lb${(2 * g + 1) % nodeCount}`, priority: 50 },
    ],
    leaseTtl: TTL_S,
  }));
  const virtualServices = [];
  for (let s = 0; s * 50 < targetCount; s++) {
    const g = s % groupCount;
    virtualServices.push({
      name: `svc${s}`,
      vipGroup: `VG${g}`,
      address: vip(g),
      port: 1000 + s,
      realServers: Array.from({ length: Math.min(50, targetCount - s * 50) }, (_, i) => ({
        name: `rs${i}`,
        address: "127.0.0.1",
        port: ports[i],
        check: "http",
      })),
    });
  }
  return {
    cluster: { name: `fleet${c}` },
    nodes,
    checks: [
      {
        name: "http",
        type: "http",
        path: "/ok",
        interval: INTERVAL_S,
        timeout: 2,
        retries: 0,
        rise: 1,
        fall: 1,
        observers: { regions: REGIONS },
      },
    ],
    vipGroups,
    virtualServices,
  };
}

/** The counters bench/cost needs, summed over every cluster: coordinators from /metrics, probers from each cluster's view. */
async function counts(call, clusters) {
  const text = await (await call("GET", "/metrics", undefined, true)).text;
  const mine = (labels) => clusters.some((c) => labels.includes(`cluster="${c}"`));
  const sum = (name, only = "") =>
    [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, "gm"))]
      .filter((m) => mine(m[1]) && m[1].includes(only))
      .reduce((n, m) => n + Number(m[2]), 0);
  const out = {
    coordinatorRequests: sum("vigil_coordinator_requests_total"),
    coordinatorMessagesIn: sum("vigil_coordinator_websocket_messages_total"),
    coordinatorRowsWritten: sum("vigil_coordinator_rows_written_total"),
    coordinatorRowsRead: sum("vigil_coordinator_rows_read_total"),
    d1RowsRead: sum("vigil_coordinator_d1_rows_read_total"),
    commandsSent: sum("vigil_commands_total", 'outcome="sent"'),
    votes: sum("vigil_votes_received_total"),
    proberRequests: 0,
    proberBatches: 0,
    proberRowsWritten: 0,
    proberRowsRead: 0,
    probes: 0,
    shards: 0,
    roundTrips: [],
  };
  for (const cluster of clusters) {
    const { body } = await call("GET", `/v1/clusters/${cluster}/probers`);
    for (const p of body.probers) {
      out.shards += 1;
      out.probes += p.probes;
      out.proberRequests += p.usage.requests;
      out.proberBatches += p.usage.batches;
      out.proberRowsWritten += p.usage.rowsWritten;
      out.proberRowsRead += p.usage.rowsRead;
      out.d1RowsRead += p.usage.d1RowsRead;
      out.roundTrips.push(...p.voteRoundTripsMs);
    }
  }
  return out;
}

const bundle = path.join(mkdtempSync(path.join(tmpdir(), "vigil-fleet-")), "agents.cjs");
await build({
  entryPoints: [path.join(root, "bench/fleet/agents.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  outfile: bundle,
  logLevel: "warning",
});

const checkout = freshCheckout();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const { child: vigil, ready } = startVigil(checkout.dir, port, { timeoutMs: 120_000 });
// The control plane's log, for a post-mortem.
const cpLog = createWriteStream(path.join(tmpdir(), "vigil-fleet-control-plane.log"));
vigil.stdout.on("data", (chunk) => cpLog.write(chunk));
vigil.stderr.on("data", (chunk) => cpLog.write(chunk));
let fleet = null;
// Stopped early (Ctrl-C), it still ends what it started.
for (const signal of ["SIGINT", "SIGTERM"])
  process.once(signal, async () => {
    fleet?.kill("SIGTERM");
    await stopVigil(vigil);
    checkout.remove();
    process.exit(130);
  });
try {
  const admin = await ready;
  const call = async (method, route, body, raw = false) => {
    let reply;
    let text;
    // wrangler dev answers 503 when workerd restarted under a request: asked again, as it says.
    for (let attempt = 0; attempt < 5; attempt++) {
      reply = await fetch(`${base}${route}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      text = await reply.text();
      if (reply.status !== 503) break;
      console.error(`${method} ${route}: ${text.slice(0, 120)}; again in 2 s`);
      await sleep(2000);
    }
    if (!reply.ok) throw new Error(`${method} ${route}: ${reply.status} ${text.slice(0, 300)}`);
    return raw ? { text } : { body: text ? JSON.parse(text) : null };
  };

  const clusterCount = Math.ceil(agents / NODES_PER_CLUSTER);
  const clusters = [];
  const directors = [];
  for (let c = 0; c < clusterCount; c++) {
    const nodeCount = Math.min(NODES_PER_CLUSTER, agents - c * NODES_PER_CLUSTER);
    const doc = fleetCluster(
      c,
      nodeCount,
      Math.max(1, Math.round((groups * nodeCount) / agents)),
      Math.round((targets * nodeCount) / agents),
    );
    await call("PUT", `/v1/clusters/${doc.cluster.name}/config`, doc);
    clusters.push(doc.cluster.name);
    const nodes = [...doc.nodes];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let node = nodes.shift(); node; node = nodes.shift()) {
          const { body } = await call("POST", `/v1/clusters/${doc.cluster.name}/enrollment-tokens`, {
            node: node.name,
          });
          directors.push({ cluster: doc.cluster.name, node: node.name, token: body.token });
        }
      }),
    );
  }
  const vipGroups = Math.max(1, Math.round(groups / clusterCount)) * clusterCount;

  fleet = spawn("node", [bundle], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: fleet.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => JSON.parse((await lines.next()).value);
  fleet.stdin.write(`${JSON.stringify({ url: base, directors, parallel: 5 })}\n`);
  const enrolled = await nextLine();
  console.log(`${enrolled.enrolled} directors enrolled in ${(enrolled.ms / 1000).toFixed(1)} s`);

  // Every director online and every VIP group held.
  const held = async () => {
    let n = 0;
    for (const cluster of clusters)
      n += (await call("GET", `/v1/clusters/${cluster}/leases`)).body.filter((l) => l.holder !== null).length;
    return n;
  };
  const settleBy = Date.now() + 180_000;
  let holding = await held();
  while (holding < vipGroups && Date.now() < settleBy) {
    await sleep(2000);
    holding = await held();
  }
  if (holding < vipGroups) {
    const unheld = [];
    for (const cluster of clusters)
      for (const l of (await call("GET", `/v1/clusters/${cluster}/leases`)).body)
        if (l.holder === null) unheld.push({ cluster, ...l });
    fleet.stdin.write("stats\n");
    const { logged, first } = (await nextLine()).stats;
    console.error("the fleet's log lines, by kind:", JSON.stringify(logged, null, 1));
    console.error("the first of each:", JSON.stringify(first, null, 1));
    throw new Error(
      `only ${holding} of ${vipGroups} VIP groups held after 3 minutes; not held: ${JSON.stringify(unheld.slice(0, 3))}`,
    );
  }
  // Every target probed by every region at least once, then the steady state.
  await sleep((INTERVAL_S + 5) * 1000);

  const stats = async () => {
    fleet.stdin.write("stats\n");
    return (await nextLine()).stats;
  };
  await stats();
  const before = await counts(call, clusters);
  const cpuBefore = treeCpuSeconds(vigil.pid);
  const begun = Date.now();
  await sleep(seconds * 1000);
  const elapsed = (Date.now() - begun) / 1000;
  const cpu = treeCpuSeconds(vigil.pid) - cpuBefore;
  const fleetStats = await stats();
  const after = await counts(call, clusters);
  const delta = Object.fromEntries(
    Object.entries(after)
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => [k, v - before[k]]),
  );
  const roundTrips = after.roundTrips;

  // Capacity: one cluster's directors send 40 extra frames a second each for 10 s.
  const floodBefore = await counts(call, clusters.slice(0, 1));
  const floodBegun = Date.now();
  fleet.stdin.write(`flood ${clusters[0]} 40 10\n`);
  const { flooded } = await nextLine();
  // Sent is not handled: wait until the coordinator has taken the flood and its steady traffic
  // meanwhile (or two minutes), and count what it took per second over that time.
  const steady = delta.coordinatorMessagesIn / elapsed / clusterCount;
  let taken = 0;
  let floodSeconds = 0;
  for (;;) {
    taken = (await counts(call, clusters.slice(0, 1))).coordinatorMessagesIn - floodBefore.coordinatorMessagesIn;
    floodSeconds = (Date.now() - floodBegun) / 1000;
    if (taken >= flooded + steady * floodSeconds * 0.9 || floodSeconds > 120) break;
    await sleep(500);
  }
  const floodHandled = taken / floodSeconds;
  const wantedVotes = (targets * REGIONS.length) / INTERVAL_S;
  const votesPerSecond = delta.votes / elapsed;
  const messagesPerCoordinator = delta.coordinatorMessagesIn / elapsed / clusterCount;
  const rowsPerMinute = ((delta.coordinatorRowsWritten + delta.proberRowsWritten) / elapsed) * 60;

  report(
    "fleet",
    [
      [`directors (${clusterCount} clusters)`, agents],
      ["VIP groups held", holding],
      [`targets, each probed by ${REGIONS.length} regions every ${INTERVAL_S} s`, targets],
      ["prober shards, all regions", after.shards],
      ["lease renewal round trip p50 (ms)", fleetStats.renewalP50Ms],
      [
        "lease renewal round trip p99 (ms)",
        fleetStats.renewalP99Ms,
        `< ${TARGETS.renewalP99Ms}`,
        fleetStats.renewalP99Ms < TARGETS.renewalP99Ms,
      ],
      [
        "votes/s sustained into the coordinators",
        votesPerSecond,
        `>= ${(wantedVotes * TARGETS.votesShare).toFixed(0)}`,
        votesPerSecond >= wantedVotes * TARGETS.votesShare,
      ],
      [
        "vote batch round trip p99 (ms, prober to coordinator)",
        pct(roundTrips, 99),
        `< ${TARGETS.voteRoundTripP99Ms}`,
        pct(roundTrips, 99) < TARGETS.voteRoundTripP99Ms,
      ],
      ["agent messages/s into one coordinator, steady", messagesPerCoordinator],
      [
        "agent messages/s one coordinator handles (flooded)",
        floodHandled,
        `>= ${TARGETS.messagesPerCoordinator}`,
        floodHandled >= TARGETS.messagesPerCoordinator,
      ],
      ["control plane CPU s per s of fleet time (workerd)", cpu / elapsed],
      ["storage rows written per minute (objects' own)", rowsPerMinute],
    ],
    {
      agents,
      groups: vipGroups,
      targets,
      regions: REGIONS.length,
      intervalS: INTERVAL_S,
      ttlS: TTL_S,
      clusters: clusterCount,
      shards: after.shards,
      seconds: elapsed,
      cpuSeconds: cpu,
      fleet: fleetStats,
      flood: { offered: flooded / floodSeconds, handled: floodHandled, seconds: floodSeconds },
      /** Billed counts over the window, for bench/cost. */
      window: delta,
    },
  );
} finally {
  fleet?.kill("SIGTERM");
  await stopVigil(vigil);
  checkout.remove();
  rmSync(path.dirname(bundle), { recursive: true, force: true });
  for (const s of servers) s.close();
}
