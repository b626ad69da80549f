/**
 * The whole path in workerd: probers in three regions probe a loopback server, vote, and the
 * coordinator decides. The server fails on demand for the regions named at /control.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { CHECKS_PER_SHARD } from "../../src/core/probe-shards.js";
import { api } from "../worker/http.js";
import { restart } from "../worker/restart.js";
import { loopbackCluster } from "./loopback-cluster.js";

const ports = inject("ports");
const control = (fail: string[]) => fetch(`http://127.0.0.1:${ports.http}/control?fail=${fail.join(",")}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let clusters = 0;

/** One director in front of the loopback server; each cluster's director is its own node (they share a VIP). */
function clusterDocument(name: string, check: Record<string, unknown>) {
  clusters += 1;
  return loopbackCluster(name, `127.0.${clusters}.2`, ports.http, check);
}

async function health(cluster: string) {
  const reply = await api("GET", `/v1/clusters/${cluster}/health`);
  expect(reply.status).toBe(200);
  return reply.body.targets[0];
}

/** Waits (up to 20 s: the bench, not this test, holds the tight figures) for the verdict to be `state`. */
async function until(cluster: string, state: string): Promise<void> {
  await expect.poll(async () => (await health(cluster)).verdict.state, { timeout: 20_000, interval: 50 }).toBe(state);
}

/** Waits for an observer's view to match, checking at every look that the verdict has not moved. */
async function watch(
  cluster: string,
  observer: string,
  done: (o: { state: string; probes: number }) => boolean,
  verdict: string,
): Promise<void> {
  const ceiling = Date.now() + 20_000;
  for (;;) {
    const h = await health(cluster);
    expect(h.verdict.state).toBe(verdict);
    if (done(h.observers.find((o: { observer: string }) => o.observer === observer))) return;
    if (Date.now() > ceiling) throw new Error(`${observer} not there within 20 s: ${JSON.stringify(h)}`);
    await sleep(50);
  }
}

describe("three regions vote", () => {
  it("ignores one region's bad view, fails over on two, recovers after rise, and records only changes", async () => {
    await control([]);
    const cluster = "vote-3r";
    const applied = await api("PUT", `/v1/clusters/${cluster}/config`, {
      body: clusterDocument(cluster, { path: "/region", observers: { regions: ["weur", "enam", "apac"] } }),
    });
    expect(applied.status).toBe(200);
    await until(cluster, "up");

    // One region's bad view: it counts down (fall 2), then two more of its probes fail, and
    // the verdict stays up all along.
    await control(["weur"]);
    let seenDown = -1;
    await watch(
      cluster,
      "region:weur",
      (o) => {
        if (o.state === "down" && seenDown < 0) seenDown = o.probes;
        return seenDown >= 0 && o.probes >= seenDown + 2;
      },
      "up",
    );
    const weur = (await health(cluster)).observers.find((o: { observer: string }) => o.observer === "region:weur");
    expect(weur).toMatchObject({ state: "down", error: "status 503", fresh: true });

    await control(["weur", "enam"]);
    await until(cluster, "down");
    const down = await health(cluster);
    expect(down.verdict).toMatchObject({ state: "down", fresh: 3, required: 2 });

    await control([]);
    await until(cluster, "up");

    // Only the changes are recorded: down, then up again.
    await expect
      .poll(
        async () =>
          (await api("GET", `/v1/clusters/${cluster}/events?target=web/web1`)).body.map(
            (e: { type: string }) => e.type,
          ),
        {
          timeout: 10_000,
        },
      )
      .toEqual(["target.up", "target.down"]);
    const events = await api("GET", `/v1/clusters/${cluster}/events?target=web/web1`);
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
    const hitsOf = async (): Promise<number[]> =>
      (await fetch(`http://127.0.0.1:${ports.http}/hits?path=/status/503@sam`)).json();
    await expect
      .poll(async () => (await hitsOf()).length, { timeout: 20_000, interval: 100 })
      .toBeGreaterThanOrEqual(4);
    const hits = await hitsOf();
    const gaps = hits.slice(1).map((t, i) => t - (hits[i] as number));
    // Rounds of three attempts: two retries 0.3 s apart, then the next round about an interval
    // (2 s, less its 10% jitter) after the first attempt. Not before; how late is for the bench.
    for (const gap of gaps.slice(0, 2)) expect(gap).toBeGreaterThanOrEqual(290);
    expect(Math.max(gaps[0] as number, gaps[1] as number)).toBeLessThan(gaps[2] as number);
    expect((gaps[0] as number) + (gaps[1] as number) + (gaps[2] as number)).toBeGreaterThanOrEqual(1_800 - 20);
    // Only whole rounds count: one counted failure per round, not one per attempt.
    const observer = (await health(cluster)).observers[0];
    expect(observer.failures).toBe(observer.probes);
    expect(observer.probes).toBeLessThanOrEqual(Math.ceil(hits.length / 3));
  });
});

describe("busy probers", () => {
  it("keep their alarm loops going with many targets on staggered schedules", async () => {
    const cluster = "vote-busy";
    const doc = clusterDocument(cluster, { path: "/ok", observers: { regions: ["oc"] } });
    const service = doc.virtualServices[0] as (typeof doc.virtualServices)[number];
    doc.virtualServices = Array.from({ length: 200 }, (_, i) => ({ ...service, name: `web${i}`, port: 1000 + i }));
    expect((await api("PUT", `/v1/clusters/${cluster}/config`, { body: doc })).status).toBe(200);
    // 200 checks a second: twenty shards of the region's probers (src/core/probe-shards.ts).
    const shards = Math.ceil(200 / CHECKS_PER_SHARD);
    const counts = async () => {
      const all = [];
      for (let n = 0; n < shards; n++) {
        const name = n === 0 ? `${cluster}:oc` : `${cluster}:oc:${n}`;
        all.push(...Object.values(await env.PROBER.get(env.PROBER.idFromName(name)).observers()).map((o) => o.probes));
      }
      return all;
    };
    await expect.poll(async () => (await counts()).length, { timeout: 20_000 }).toBe(200);
    // The loop goes on: every target runs again and again, none is left behind.
    await expect
      .poll(async () => Math.min(...(await counts())), { timeout: 30_000, interval: 200 })
      .toBeGreaterThanOrEqual(3);
  });
});

describe("what a prober stores", () => {
  it("writes a row when a vote changes, none for a probe that changes nothing, and resumes from it after a restart", async () => {
    const cluster = "vote-rows";
    // Every 2 s: ten checks a second, one prober shard.
    const doc = clusterDocument(cluster, {
      path: "/ok",
      interval: 2,
      rise: 1,
      fall: 1,
      observers: { regions: ["sam"] },
    });
    const service = doc.virtualServices[0] as (typeof doc.virtualServices)[number];
    doc.virtualServices = Array.from({ length: 20 }, (_, i) => ({ ...service, name: `web${i}`, port: 2000 + i }));
    expect((await api("PUT", `/v1/clusters/${cluster}/config`, { body: doc })).status).toBe(200);
    const prober = () => env.PROBER.get(env.PROBER.idFromName(`${cluster}:sam`));
    const observers = async () => Object.values(await prober().observers());
    await expect
      .poll(async () => (await observers()).filter((o) => o.state === "up").length, { timeout: 20_000 })
      .toBe(20);
    const rows = await prober().rowsWritten();
    const probed = async () => (await observers()).reduce((n, o) => n + o.probes, 0);
    const before = await probed();
    // Each target probed twice more, every vote unchanged: no row.
    await expect.poll(probed, { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(before + 40);
    expect(await prober().rowsWritten()).toBe(rows);
    // Evicted, it starts from each target's stored vote (up), not from unknown; calls that
    // race its first load (as its alarm and a request do) all wait for that load.
    await restart(`${cluster}:sam`, () => prober());
    const racing = await Promise.all([observers(), observers(), observers()]);
    for (const seen of racing) expect(seen.map((o) => o.state)).toEqual(Array(20).fill("up"));
    // The restarted prober's batches still count at the coordinator, which kept the last seq it
    // saw, and cost no row: their seqs come from the clock, not from storage.
    const restartedAt = Date.now();
    const heardSince = async () => {
      const report = (await api("GET", `/v1/clusters/${cluster}/health`)).body;
      return report.targets.filter((t: { observers: { receivedAt: string | null }[] }) =>
        t.observers.some((o) => o.receivedAt !== null && Date.parse(o.receivedAt) > restartedAt),
      ).length;
    };
    await expect.poll(heardSince, { timeout: 20_000, interval: 200 }).toBe(20);
    expect(await prober().rowsWritten()).toBe(0);
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
    await until(cluster, "up");
    expect((await put("/status/503")).status).toBe(200);
    await until(cluster, "down");
    const observer = (await health(cluster)).observers[0];
    expect(observer).toMatchObject({ observer: "region:afr", state: "down", error: "status 503" });
  });
});
