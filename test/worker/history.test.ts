/**
 * History in workerd: the coordinator's keeper on its real SQLite with a clock the test turns
 * (minute rows, the fold into day rows at the hour, minutes dropped after a week, days after
 * 90, and the rows each step writes), and the API over votes sent the way observers send them.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HistoryKeeper } from "../../src/coordinator/history.js";
import { createTables } from "../../src/coordinator/tables.js";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/core/history.js";
import { tcpCheck, webPair } from "./fixtures.js";
import { api } from "./http.js";

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const vote = (probes: number, failures: number, latencyMs: number) => ({ probes, failures, latencyMs });

describe("the history keeper on the coordinator's SQLite", () => {
  it("writes a row per minute, folds an hour into one row per target per day, and thins and drops old days", async () => {
    await runInDurableObject(env.COORDINATOR.getByName(`history-${Math.random()}`), async (_i, state) => {
      const sql = state.storage.sql;
      createTables(sql);
      const keeper = new HistoryKeeper(sql);
      const count = (table: string) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
      // Two targets, two observers, a vote every 10 s for two hours: probes grow by one each time.
      let probes = 0;
      for (let t = T0; t < T0 + 2 * HOUR_MS; t += 10_000) {
        probes += 1;
        for (const target of ["web/web1", "web/web2"])
          for (const observer of ["region:wnam", "region:apac"])
            keeper.vote(target, observer, vote(probes, target === "web/web2" ? probes : 0, 10 + (probes % 6)), t);
        keeper.tick(t);
      }
      // The first hour is folded: two day rows (one per target); the second hour's minutes wait.
      expect(count("history")).toBe(2);
      expect(count("history_minutes")).toBe(59);
      const minutes = keeper.read("web/web1", T0, T0 + 2 * HOUR_MS, MINUTE_MS);
      expect([...minutes.keys()]).toEqual(["region:apac", "region:wnam"]);
      const wnam = minutes.get("region:wnam") ?? [];
      // 120 minutes: the first has no baseline for its first vote, the last is in progress.
      expect(wnam).toHaveLength(120);
      expect(wnam[1]).toEqual({ t: T0 + MINUTE_MS, probes: 6, failures: 0, p50: 12, p95: 15 });
      const hours = keeper.read("web/web2", T0, T0 + 2 * HOUR_MS, HOUR_MS).get("region:apac") ?? [];
      expect(hours.map((p) => [p.t, p.probes === p.failures])).toEqual([
        [T0, true],
        [T0 + HOUR_MS, true],
      ]);

      // The next hour's end folds again: rows replaced, not added.
      keeper.tick(T0 + 3 * HOUR_MS);
      expect(count("history")).toBe(2);
      expect(count("history_minutes")).toBe(0);

      // After a week the minutes go and the hours stay; after 90 days the day goes.
      keeper.tick(T0 + 8 * DAY_MS + 3 * HOUR_MS);
      const [thinned] = sql
        .exec<{ minutes: string | null; hours: string }>("SELECT minutes, hours FROM history")
        .toArray();
      expect(thinned?.minutes).toBeNull();
      expect(Object.keys(JSON.parse(thinned?.hours ?? "{}"))).toEqual(["10", "11"]);
      expect(keeper.read("web/web1", T0, T0 + DAY_MS, MINUTE_MS).get("region:wnam")?.length).toBe(2);
      keeper.tick(T0 + 92 * DAY_MS);
      expect(count("history")).toBe(0);
    });
  });
});

describe("GET .../targets/{t}/history", () => {
  it("answers each observer's figures for the minute in progress and the target's down periods", async () => {
    const name = await webPair("hist", tcpCheck("web-tcp", ["lb1", "lb2"]));
    const coordinator = env.COORDINATOR.getByName(name);
    const batch = (seq: number, state: "up" | "down", probes: number, latencyMs: number, observer = "agent:lb1") =>
      coordinator.ingest({
        observer,
        seq,
        heartbeat: false,
        votes: [
          {
            target: "web/web1",
            state,
            since: Date.now(),
            latencyMs,
            error: state === "down" ? "refused" : null,
            probes,
            failures: state === "down" ? 1 : 0,
          },
        ],
      });
    // The coordinator takes a new cluster's configuration within a moment; its health report says when.
    await expect.poll(async () => (await api("GET", `/v1/clusters/${name}/health`)).body.targets?.length ?? 0).toBe(1);
    for (const [seq, probes, latency] of [
      [1, 10, 5],
      [2, 12, 7],
      [3, 13, 9],
    ] as const) {
      const result = await batch(seq, "up", probes, latency);
      expect(result.accepted, JSON.stringify(result)).toBe(1);
    }
    const reply = await api("GET", `/v1/clusters/${name}/targets/web%2Fweb1/history`);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ target: "web/web1", step: 60, down: [] });
    const points = reply.body.observers.find((o: { observer: string }) => o.observer === "agent:lb1")?.points ?? [];
    // Two votes brought new probes since the first one (the baseline): 3 probes, latencies 7 and 9.
    expect(points.reduce((n: number, p: { probes: number }) => n + p.probes, 0)).toBe(3);
    expect(points.at(-1)).toMatchObject({ p95Ms: 9 });

    // Both observers see it down: the verdict turns down, and the history shows a period still open.
    await batch(4, "down", 14, 3);
    await batch(1, "down", 5, 3, "agent:lb2");
    const down = async () => (await api("GET", `/v1/clusters/${name}/targets/web%2Fweb1/history`)).body.down;
    await expect.poll(down).toEqual([{ from: expect.any(String), to: null }]);
  });

  it("refuses an unknown target, and a step or range it cannot answer, naming the field", async () => {
    const name = await webPair("hist", tcpCheck("web-tcp", ["lb1", "lb2"]));
    const base = `/v1/clusters/${name}/targets`;
    expect(await api("GET", `${base}/web%2Fweb9/history`)).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    const bad = await api("GET", `${base}/web%2Fweb1/history?step=90`);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_field" } } });
    expect(bad.body.error.message).toContain("step");
    const backwards = await api("GET", `${base}/web%2Fweb1/history?from=2026-12-05T12:00:00Z&to=2026-12-05T11:00:00Z`);
    expect(backwards).toMatchObject({ status: 400, body: { error: { message: "from: expected a time before to" } } });
  });
});

describe("GET .../vip-groups/{g}/history", () => {
  it("refuses a group the cluster does not have", async () => {
    const name = await webPair("hist", tcpCheck("web-tcp", ["lb1", "lb2"]));
    expect((await api("GET", `/v1/clusters/${name}/vip-groups/VI_9/history`)).status).toBe(404);
    const empty = await api("GET", `/v1/clusters/${name}/vip-groups/VI_1/history`);
    expect(empty).toMatchObject({ status: 200, body: { group: "VI_1", holders: [] } });
  });
});
