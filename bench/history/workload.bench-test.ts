/**
 * The measured history workload, run in workerd by bench/history/run.mjs: a week of minute data
 * for `targets` targets x 3 observers, fed to the coordinator's history keeper on its real
 * SQLite as votes arrive (running counts and latencies, one vote per observer per target per
 * minute, after a baseline), the clock turned minute by minute up to now. Counts the rows each
 * statement writes, the storage used, and the time to read a 24 h chart (keeper and API).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { HistoryKeeper } from "../../src/coordinator/history.js";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/core/history.js";
import { api } from "../../test/worker/http.js";

const input = JSON.parse((env as unknown as { BENCH: string }).BENCH) as { targets: number; days: number };
const OBSERVERS = ["region:wnam", "region:weur", "region:apac"];
const CLUSTER = "bench-history";

/** A cluster whose one service has `n` real servers: the targets web/w0 ... */
function cluster(n: number) {
  return {
    cluster: { name: CLUSTER },
    nodes: [{ name: "lb1", address: "10.9.0.11" }],
    checks: [
      { name: "web-http", type: "http", interval: 10, timeout: 2, observers: { regions: ["wnam", "weur", "apac"] } },
    ],
    vipGroups: [
      { name: "VI_1", vips: [{ cidr: "10.9.0.15/24", interface: "eth0" }], members: [{ node: "lb1", priority: 100 }] },
    ],
    virtualServices: [
      {
        name: "web",
        vipGroup: "VI_1",
        address: "10.9.0.15",
        port: 80,
        realServers: Array.from({ length: n }, (_, i) => ({
          name: `w${i}`,
          address: `10.10.${Math.floor(i / 250)}.${(i % 250) + 1}`,
          port: 80,
          check: "web-http",
        })),
      },
    ],
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

it("keeps a week of history", async () => {
  expect((await api("PUT", `/v1/clusters/${CLUSTER}/config`, { body: cluster(input.targets) })).status).toBe(200);
  const end = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const start = end - input.days * DAY_MS;
  const targets = Array.from({ length: input.targets }, (_, i) => `web/w${i}`);

  const stub = env.COORDINATOR.getByName(CLUSTER);
  const written = new Map<string, number>();
  let sql: SqlStorage | null = null;
  // The object's real SqlStorage, counting the rows each write statement wrote.
  const counting = {
    exec(query: string, ...bindings: unknown[]) {
      const cursor = (sql as SqlStorage).exec(query, ...bindings);
      const verb = query.trim().split(/\s+/)[0]?.toUpperCase() ?? "";
      if (verb !== "SELECT") {
        cursor.toArray();
        const key = `${verb} ${/history_minutes/.test(query) ? "history_minutes" : "history"}`;
        written.set(key, (written.get(key) ?? 0) + cursor.rowsWritten);
      }
      return cursor;
    },
  } as unknown as SqlStorage;
  const keeper = new HistoryKeeper(counting);
  const probes = new Map<string, number>();
  // An hour of minutes per call into the object: one long synchronous call would stall workerd.
  for (let hour = start - MINUTE_MS; hour < end; hour += HOUR_MS) {
    await runInDurableObject(stub, async (_instance, state) => {
      sql = state.storage.sql;
      for (let t = hour; t < Math.min(end, hour + HOUR_MS); t += MINUTE_MS) {
        for (const target of targets) {
          for (const observer of OBSERVERS) {
            const key = `${target} ${observer}`;
            const n = (probes.get(key) ?? 0) + 6;
            probes.set(key, n);
            keeper.vote(
              target,
              observer,
              { probes: n, failures: Math.floor(n / 600), latencyMs: 5 + ((n * 7) % 40) },
              t + 30_000,
            );
          }
        }
        keeper.tick(t + MINUTE_MS);
      }
    });
  }
  const result = await runInDurableObject(stub, async (_instance, state) => {
    sql = state.storage.sql;
    // What a 24 h chart and a week's chart read (timed below, through the API).
    const day = keeper.read(targets[0] as string, end - DAY_MS, end, MINUTE_MS).get("region:wnam") ?? [];
    const week = keeper.read(targets[0] as string, end - 7 * DAY_MS, end, HOUR_MS).get("region:wnam") ?? [];
    expect(day.length).toBeGreaterThan(1400);
    expect(week.length).toBeGreaterThan(Math.min(input.days, 7) * 24 - 2);
    return {
      written: Object.fromEntries(written),
      rows: [...written.values()].reduce((a, b) => a + b, 0),
      bytes: state.storage.sql.databaseSize,
    };
  });

  // The same 24 h chart through the API (D1 events for the down periods, the coordinator's RPC).
  // workerd's clock stands still during synchronous work, so time is taken from the reply's arrival.
  const chart = async (query: string) => {
    const ms: number[] = [];
    let points = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      const reply = await api(
        "GET",
        `/v1/clusters/${CLUSTER}/targets/web%2Fw${(i * 37) % input.targets}/history${query}`,
      );
      ms.push(Date.now() - t0);
      expect(reply.status).toBe(200);
      points = reply.body.observers.reduce((n: number, o: { points: unknown[] }) => n + o.points.length, 0);
    }
    return { ms: median(ms), points };
  };
  const day = await chart("");
  const week = await chart(
    `?from=${new Date(end - 7 * DAY_MS).toISOString()}&to=${new Date(end).toISOString()}&step=3600`,
  );
  console.log(`BENCH_RESULT ${JSON.stringify({ ...result, day, week, ...input })}`);
});
