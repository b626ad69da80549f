/**
 * The whole path in workerd: probers in three regions probe a loopback server, vote, and the
 * coordinator decides. The server fails on demand for the regions named at /control.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { api } from "../worker/http.js";

const ports = inject("ports");
const control = (fail: string[]) => fetch(`http://127.0.0.1:${ports.http}/control?fail=${fail.join(",")}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let clusters = 0;

/** One director in front of the loopback server; each cluster's director is its own node (they share a VIP). */
function clusterDocument(name: string, check: Record<string, unknown>) {
  clusters += 1;
  return {
    cluster: { name },
    nodes: [{ name: "lb1", address: `127.0.${clusters}.2` }],
    checks: [{ name: "web-http", type: "http", interval: 1, timeout: 0.5, retries: 0, rise: 2, fall: 2, ...check }],
    vipGroups: [
      { name: "VI_1", vips: [{ cidr: "127.0.0.10/8", interface: "lo" }], members: [{ node: "lb1", priority: 100 }] },
    ],
    virtualServices: [
      {
        name: "web",
        vipGroup: "VI_1",
        address: "127.0.0.10",
        port: 80,
        realServers: [{ name: "web1", address: "127.0.0.1", port: ports.http, check: "web-http" }],
      },
    ],
  };
}

async function health(cluster: string) {
  const reply = await api("GET", `/v1/clusters/${cluster}/health`);
  expect(reply.status).toBe(200);
  return reply.body.targets[0];
}

/** Polls the verdict until it is `state`; returns the milliseconds it took. */
async function until(cluster: string, state: string, limitMs: number): Promise<number> {
  const begun = Date.now();
  while (Date.now() - begun < limitMs) {
    if ((await health(cluster)).verdict.state === state) return Date.now() - begun;
    await sleep(50);
  }
  throw new Error(`verdict not ${state} within ${limitMs} ms: ${JSON.stringify(await health(cluster))}`);
}

describe("three regions vote", () => {
  it("ignores one region's bad view, fails over on two, recovers after rise, and records only changes", async () => {
    await control([]);
    const cluster = "vote-3r";
    const applied = await api("PUT", `/v1/clusters/${cluster}/config`, {
      body: clusterDocument(cluster, { path: "/region", observers: { regions: ["weur", "enam", "apac"] } }),
    });
    expect(applied.status).toBe(200);
    await until(cluster, "up", 6_000);

    await control(["weur"]);
    await sleep(3_500);
    const oneBad = await health(cluster);
    expect(oneBad.verdict.state).toBe("up");
    const weur = oneBad.observers.find((o: { observer: string }) => o.observer === "region:weur");
    expect(weur).toMatchObject({ state: "down", error: "status 503", fresh: true });

    await control(["weur", "enam"]);
    // fall x interval + one interval.
    expect(await until(cluster, "down", 3_000 + 300)).toBeLessThanOrEqual(3_300);
    const down = await health(cluster);
    expect(down.verdict).toMatchObject({ state: "down", fresh: 3, required: 2 });

    await control([]);
    // rise x interval + one interval.
    expect(await until(cluster, "up", 3_000 + 300)).toBeLessThanOrEqual(3_300);

    await sleep(1_500);
    const events = await api("GET", `/v1/clusters/${cluster}/events?target=web/web1`);
    expect(events.body.map((e: { type: string }) => e.type)).toEqual(["target.up", "target.down"]);
    expect(events.body[1].details).toMatchObject({ from: "up", to: "down", down: 2, fresh: 3 });
  });
});

describe("the prober's schedule", () => {
  it("retries a failure after delayBeforeRetry and starts the next round an interval later", async () => {
    const cluster = "vote-retries";
    const applied = await api("PUT", `/v1/clusters/${cluster}/config`, {
      body: clusterDocument(cluster, {
        path: "/status/503",
        interval: 2,
        retries: 2,
        delayBeforeRetry: 0.3,
        observers: { regions: ["sam"] },
      }),
    });
    expect(applied.status).toBe(200);
    await sleep(5_000);
    const hits: number[] = await (await fetch(`http://127.0.0.1:${ports.http}/hits?path=/status/503@sam`)).json();
    expect(hits.length).toBeGreaterThanOrEqual(4);
    const gaps = hits.slice(1).map((t, i) => t - (hits[i] as number));
    // Rounds of three attempts: two retries 0.3 s apart, then about an interval (2 s ± 10%).
    const round = gaps.findIndex((g) => g > 1_000);
    expect(round).toBe(2);
    for (const gap of gaps.slice(0, 2)) expect(gap).toBeGreaterThanOrEqual(290);
    for (const gap of gaps.slice(0, 2)) expect(gap).toBeLessThan(800);
    expect(gaps[2]).toBeGreaterThanOrEqual(1_750);
    expect(gaps[2]).toBeLessThan(2_700);
    // Only whole rounds count: one counted failure per round, not one per attempt.
    const observer = (await health(cluster)).observers[0];
    expect(observer.failures).toBe(observer.probes);
    expect(observer.probes).toBeLessThanOrEqual(Math.ceil(hits.length / 3));
  });
});

describe("a busy prober", () => {
  it("keeps its alarm loop going with many targets on staggered schedules", async () => {
    const cluster = "vote-busy";
    const doc = clusterDocument(cluster, { path: "/ok", observers: { regions: ["oc"] } });
    const service = doc.virtualServices[0] as (typeof doc.virtualServices)[number];
    doc.virtualServices = Array.from({ length: 200 }, (_, i) => ({ ...service, name: `web${i}`, port: 1000 + i }));
    expect((await api("PUT", `/v1/clusters/${cluster}/config`, { body: doc })).status).toBe(200);
    await sleep(4_500);
    const observers = await env.PROBER.get(env.PROBER.idFromName(`${cluster}:oc`)).observers();
    const counts = Object.values(observers).map((o) => o.probes);
    expect(counts).toHaveLength(200);
    // Four intervals have passed; each target has run at least three times, none is left behind.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(3);
  });
});

describe("a configuration change", () => {
  it("reaches the running prober without a restart", async () => {
    const cluster = "vote-reconfig";
    const put = (path: string) =>
      api("PUT", `/v1/clusters/${cluster}/config`, {
        body: clusterDocument(cluster, { path, rise: 1, fall: 1, observers: { regions: ["afr"] } }),
      });
    expect((await put("/ok")).status).toBe(200);
    await until(cluster, "up", 4_000);
    expect((await put("/status/503")).status).toBe(200);
    await until(cluster, "down", 3_000);
    const observer = (await health(cluster)).observers[0];
    expect(observer).toMatchObject({ observer: "region:afr", state: "down", error: "status 503" });
  });
});
