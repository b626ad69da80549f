/**
 * Prober shards under the platform's connection limit, in workerd: a region with 30 checks a
 * second is probed by three shards, each its own Durable Object with its own share of the
 * targets, none ever holding more than six probes open at once, and the coordinator counts
 * every shard's votes as the region's.
 */
import { env } from "cloudflare:workers";
import { expect, inject, it } from "vitest";
import { PROBE_CONNECTIONS } from "../../src/core/probe-shards.js";
import { api } from "../worker/http.js";

const ports = inject("ports");
const TARGETS = 30;

/** 30 services of one real server each (the loopback server, which answers after 800 ms), checked every second from weur. */
function document(name: string) {
  return {
    cluster: { name },
    nodes: [{ name: "lb1", address: "127.0.99.2" }],
    checks: [
      {
        name: "web-http",
        type: "http",
        path: "/slow?ms=800",
        interval: 1,
        timeout: 0.95,
        retries: 0,
        rise: 1,
        fall: 3,
        observers: { regions: ["weur"] },
      },
    ],
    vipGroups: [
      { name: "VI_1", vips: [{ cidr: "127.0.0.10/8", interface: "lo" }], members: [{ node: "lb1", priority: 100 }] },
    ],
    virtualServices: Array.from({ length: TARGETS }, (_, s) => ({
      name: `svc${s}`,
      vipGroup: "VI_1",
      address: "127.0.0.10",
      port: 2000 + s,
      minHealthy: 0,
      realServers: [{ name: "web1", address: "127.0.0.1", port: ports.http, check: "web-http" }],
    })),
  };
}

const shard = (cluster: string, n: number) =>
  env.PROBER.get(env.PROBER.idFromName(n === 0 ? `${cluster}:weur` : `${cluster}:weur:${n}`));

it("splits 30 checks a second over three shards, each with its own targets and at most six probes open", async () => {
  const cluster = "shards";
  expect((await api("PUT", `/v1/clusters/${cluster}/config`, { body: document(cluster) })).status).toBe(200);

  // Every target comes up on votes from its one shard.
  await expect
    .poll(
      async () => {
        const health = await api("GET", `/v1/clusters/${cluster}/health`);
        return health.body.targets.filter((t: { verdict: { state: string } }) => t.verdict.state === "up").length;
      },
      { timeout: 20_000, interval: 200 },
    )
    .toBe(TARGETS);

  const owned = await Promise.all([0, 1, 2].map(async (n) => Object.keys(await shard(cluster, n).observers())));
  for (const ids of owned) expect(ids.length).toBeGreaterThan(0);
  expect(owned.flat().sort()).toEqual(Array.from({ length: TARGETS }, (_, s) => `svc${s}/web1`).sort());
  expect(Object.keys(await shard(cluster, 3).observers())).toEqual([]);

  // Each shard's probes take 800 ms and about ten fall due a second: without the cap a shard
  // would hold eight open on average. With it, each holds six at most, and reaches six.
  const open: Record<string, number> = await (await fetch(`http://127.0.0.1:${ports.http}/open`)).json();
  const mine = [0, 1, 2].map((n) => open[`weur ${n}`] ?? 0);
  for (const most of mine) expect(most).toBeLessThanOrEqual(PROBE_CONNECTIONS);
  expect(Math.max(...mine)).toBe(PROBE_CONNECTIONS);

  // The operator's view of the probers: each shard, its targets, its probes and what it was billed for.
  const probers = await api("GET", `/v1/clusters/${cluster}/probers`);
  expect(probers.status).toBe(200);
  expect(probers.body.probers.map((p: { region: string; shard: number }) => `${p.region} ${p.shard}`)).toEqual([
    "weur 0",
    "weur 1",
    "weur 2",
  ]);
  expect(probers.body.probers.map((p: { targets: number }) => p.targets)).toEqual(owned.map((ids) => ids.length));
  for (const p of probers.body.probers) {
    expect(p.probes).toBeGreaterThanOrEqual(p.targets);
    // Its alarms and the calls above; a batch of votes at least per heartbeat.
    expect(p.usage.requests).toBeGreaterThan(p.usage.batches);
    expect(p.usage.batches).toBeGreaterThan(0);
    // A first vote per target changed, and was stored: nothing more while every target stays up.
    expect(p.usage.rowsWritten).toBeGreaterThanOrEqual(p.targets);
  }

  // Removing all but two targets leaves one shard; the other two stop and drop theirs.
  const small = document(cluster);
  small.virtualServices = small.virtualServices.slice(0, 2);
  expect((await api("PUT", `/v1/clusters/${cluster}/config`, { body: small })).status).toBe(200);
  // The change is announced to the probers after the reply.
  await expect
    .poll(async () => Object.keys(await shard(cluster, 0).observers()).sort(), { timeout: 10_000 })
    .toEqual(["svc0/web1", "svc1/web1"]);
  for (const n of [1, 2]) await expect.poll(() => shard(cluster, n).observers(), { timeout: 10_000 }).toEqual({});
  await api("DELETE", `/v1/clusters/${cluster}?force=true`);
});
