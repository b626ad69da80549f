/**
 * The measured workload, run in workerd by bench/probes/run.mjs (which starts the loopback
 * servers and reads the BENCH_RESULT line this prints).
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { CHECKS_PER_SHARD } from "../../src/core/probe-shards.js";
import { HEARTBEAT_MS } from "../../src/core/targets.js";
import type { Vote } from "../../src/core/vote.js";
import { api } from "../../test/worker/http.js";

interface BenchInput {
  ports: number[];
  /** Region sizes to probe, each at a 10 s interval. */
  sizes: number[];
  seconds: number;
  batches: number;
  trials: number;
}
const input = JSON.parse((env as unknown as { BENCH: string }).BENCH) as BenchInput;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function document(
  name: string,
  targets: number,
  observers: { regions?: string[]; agents?: string[] },
  interval: number,
) {
  const perService = input.ports.length;
  const services = [];
  for (let s = 0; s * perService < targets; s++) {
    const count = Math.min(perService, targets - s * perService);
    services.push({
      name: `svc${s}`,
      vipGroup: "VI_1",
      address: "127.0.0.10",
      port: 1000 + s,
      minHealthy: 0,
      realServers: Array.from({ length: count }, (_, i) => ({
        name: `rs${i}`,
        address: "127.0.0.1",
        port: input.ports[i],
        check: "http",
      })),
    });
  }
  return {
    cluster: { name },
    nodes: ["lb1", "lb2", "lb3"].map((n, i) => ({ name: n, address: `127.0.0.${i + 2}` })),
    checks: [
      {
        name: "http",
        type: "http",
        path: "/ok",
        interval,
        timeout: Math.min(2, interval / 2),
        retries: 0,
        rise: 1,
        fall: 1,
        observers,
      },
    ],
    vipGroups: [
      { name: "VI_1", vips: [{ cidr: "127.0.0.10/8", interface: "lo" }], members: [{ node: "lb1", priority: 100 }] },
    ],
    virtualServices: services,
  };
}

const d1Rows = async () =>
  (
    await env.DB.prepare("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM config_revisions) AS n").first<{
      n: number;
    }>()
  )?.n ?? 0;

const INTERVAL_S = 10;

/** The region's prober shards for `targets` checked every INTERVAL_S (src/core/probe-shards.ts). */
function shards(cluster: string, region: string, targets: number) {
  const count = Math.max(1, Math.ceil(targets / INTERVAL_S / CHECKS_PER_SHARD));
  return Array.from({ length: count }, (_, n) =>
    env.PROBER.get(env.PROBER.idFromName(n === 0 ? `${cluster}:${region}` : `${cluster}:${region}:${n}`)),
  );
}

/** Rows written so far by the cluster's coordinator and all its prober shards in `region` (their own counts). */
async function objectRows(cluster: string, region: string, targets: number): Promise<number> {
  let rows = (await env.COORDINATOR.getByName(cluster).metrics()).usage.rowsWritten;
  for (const shard of shards(cluster, region, targets)) rows += await shard.rowsWritten();
  return rows;
}

/** Minutes begun between two times: the coordinator's history writes one row per minute, whatever the votes. */
const minutesBetween = (from: number, to: number) => Math.floor(to / 60_000) - Math.floor(from / 60_000);

/** Targets whose observer in `region` votes up. */
async function upSoFar(cluster: string, region: string, targets: number): Promise<number> {
  let up = 0;
  for (const shard of shards(cluster, region, targets))
    up += Object.values(await shard.observers()).filter((o) => o.state === "up").length;
  return up;
}

/** Probes the region's shards have counted so far, over all their targets. */
async function probesSoFar(cluster: string, region: string, targets: number): Promise<number> {
  let probes = 0;
  for (const shard of shards(cluster, region, targets))
    probes += Object.values(await shard.observers()).reduce((n, o) => n + o.probes, 0);
  return probes;
}

it("measures", async () => {
  const result: Record<string, unknown> = {};

  // 1. One region's probers (as many shards as its checks per second need, each holding at
  //    most six probes open), for each size, every target checked every 10 s.
  result.regions = [];
  for (const size of input.sizes) {
    const cluster = `bench-region-${size}`;
    const config = document(cluster, size, { regions: ["weur"] }, INTERVAL_S);
    expect((await api("PUT", `/v1/clusters/${cluster}/config`, { body: config })).status).toBe(200);
    // Every target probed and up (its first vote, a change, is written), then the steady state.
    const settleBy = Date.now() + 180_000;
    while ((await upSoFar(cluster, "weur", size)) < size && Date.now() < settleBy) await sleep(1000);
    const rowsBefore = await d1Rows();
    const objectRowsBefore = await objectRows(cluster, "weur", size);
    const probesBefore = await probesSoFar(cluster, "weur", size);
    const began = Date.now();
    console.log("BENCH_MARK start");
    await sleep(input.seconds * 1000);
    console.log("BENCH_MARK end");
    const probes = (await probesSoFar(cluster, "weur", size)) - probesBefore;
    const elapsed = (Date.now() - began) / 1000;
    const d1Written = (await d1Rows()) - rowsBefore;
    const objectWritten =
      (await objectRows(cluster, "weur", size)) - objectRowsBefore - minutesBetween(began, Date.now());
    (result.regions as unknown[]).push({
      targets: size,
      shards: shards(cluster, "weur", size).length,
      wanted: size / INTERVAL_S,
      seconds: elapsed,
      probes,
      checksPerSecond: probes / elapsed,
      d1RowsPer1000Probes: (d1Written / Math.max(probes, 1)) * 1000,
      objectRowsPer1000Probes: (objectWritten / Math.max(probes, 1)) * 1000,
    });
    // Stop the probers before the next measure.
    await api("DELETE", `/v1/clusters/${cluster}?force=true`);
    await sleep(1_500);
  }

  // 2. Votes per second into one coordinator, batches of 100, from three agents.
  const cluster = "bench-votes";
  expect(
    (
      await api("PUT", `/v1/clusters/${cluster}/config`, {
        body: document(cluster, 1000, { agents: ["lb1", "lb2", "lb3"] }, 5),
      })
    ).status,
  ).toBe(200);
  const coordinator = env.COORDINATOR.getByName(cluster);
  const targets = Array.from(
    { length: 1000 },
    (_, i) => `svc${Math.floor(i / input.ports.length)}/rs${i % input.ports.length}`,
  );
  const vote = (target: string, state: Vote["state"]): Vote => ({
    target,
    state,
    since: 0,
    latencyMs: 1,
    error: null,
    probes: 1,
    failures: 0,
  });
  const seq: Record<string, number> = {};
  const send = (observer: string, votes: Vote[]) => {
    seq[observer] = (seq[observer] ?? 0) + 1;
    return coordinator.ingest({ observer, seq: seq[observer] as number, heartbeat: true, votes });
  };
  // What each observer says of each target: every target up to begin with.
  const observers = ["agent:lb1", "agent:lb2", "agent:lb3"];
  const says = new Map(observers.map((o) => [o, new Map(targets.map((t) => [t, "up" as Vote["state"]]))]));
  // A heartbeat from every observer, every vote as it stands, as real observers send every few
  // seconds: without it the warm-up's votes go stale together mid-run, and a thousand targets
  // turning unknown at once (their events, D1 writes and queue) is not the verdict path.
  let heardAt = 0;
  const heartbeat = async () => {
    for (const observer of observers) {
      const votes = [...(says.get(observer) ?? [])].map(([t, state]) => vote(t, state));
      for (let i = 0; i < votes.length; i += 100) await send(observer, votes.slice(i, i + 100));
    }
    heardAt = Date.now();
  };
  await heartbeat();
  const ingestRowsBefore = (await coordinator.metrics()).usage.rowsWritten;
  const votesBegan = Date.now();
  for (let b = 0; b < input.batches; b++) {
    const offset = (b * 100) % targets.length;
    await send(
      `agent:lb${(b % 3) + 1}`,
      targets.slice(offset, offset + 100).map((t) => vote(t, "up")),
    );
  }
  const votesElapsed = (Date.now() - votesBegan) / 1000;
  result.ingest = {
    batches: input.batches,
    batchSize: 100,
    seconds: votesElapsed,
    votesPerSecond: (input.batches * 100) / votesElapsed,
    rowsPer1000Votes:
      (((await coordinator.metrics()).usage.rowsWritten - ingestRowsBefore - minutesBetween(votesBegan, Date.now())) /
        (input.batches * 100)) *
      1000,
  };

  // 3. Verdict latency: a batch that tips one target over the quorum, until the RPC answers with the change
  //    (the event is written to D1 just after the answer).
  const latencies: number[] = [];
  for (let i = 0; i < input.trials; i++) {
    const target = targets[i % targets.length] as string;
    const state = Math.floor(i / targets.length) % 2 === 0 ? "down" : "up";
    if (Date.now() - heardAt >= HEARTBEAT_MS) await heartbeat();
    says.get("agent:lb1")?.set(target, state);
    says.get("agent:lb2")?.set(target, state);
    await send("agent:lb1", [vote(target, state)]);
    const t0 = performance.now();
    const reply = await send("agent:lb2", [vote(target, state)]);
    latencies.push(performance.now() - t0);
    expect(reply.changed).toEqual([{ target, state }]);
    // Each change also writes an event and queues it for webhooks; let that finish, as it
    // would between real verdict changes, so the next trial measures the verdict path itself.
    await sleep(25);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] as number;
  result.verdict = { trials: latencies.length, p50Ms: pct(50), p99Ms: pct(99), maxMs: latencies[latencies.length - 1] };

  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
});
