/**
 * Reads are reads: with a director connected, holding its lease and in step with its backend
 * table, a hundred reads of every API view, every dashboard page and every live stream send
 * the agent nothing, write no row to the coordinator's SQLite or to D1, and set no alarm.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import worker from "../../src/index.js";
import { director } from "./director.js";
import { ADMIN, api } from "./http.js";

const READS = 100;

/** Every row of every table in D1, as one string. */
async function d1Contents(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT IN ('sqlite_sequence', 'd1_migrations') ORDER BY name",
  ).all<{ name: string }>();
  const out: Record<string, unknown> = {};
  for (const { name } of tables.results) out[name] = (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results;
  return JSON.stringify(out);
}

/**
 * One request straight to the Worker's handler: the pool's `exports.default.fetch` slows with
 * every request a test makes (a thousand take minutes), the handler itself does not.
 */
async function get(path: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://vigil.test${path}`, { headers }), env, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { status: response.status, text };
}

/** A live stream, read until its first update. */
async function firstUpdate(path: string, cookie: string): Promise<string> {
  const response = await exports.default.fetch(new Request(`http://vigil.test${path}`, { headers: { cookie } }));
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("event: update")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return text;
}

it("a hundred reads of every view send no command, write no row and set no alarm", async () => {
  const { cluster, lb1 } = await director("reads");
  // Bring the director fully in step first: its lease, its table, its check's vote.
  const sync = await lb1.next("backends.sync");
  await lb1.send({ type: "ack", of: sync.id, ok: true, error: null, result: {} });
  await lb1.lease("VI_1", 1);
  const claim = await lb1.next("vip.claim");
  await lb1.send({ type: "ack", of: claim.id, ok: true, error: null, result: { holding: true } }, claim.epoch);
  await lb1.lease("VI_1", 1, true);
  // At once: this scripted director reports once, and a holder not heard from for a TTL is let go.
  await expect.poll(async () => (await api("GET", `/v1/clusters/${cluster}/leases`)).body[0].holder).toBe("lb1");
  const now = Date.now();
  await lb1.send({
    type: "votes",
    heartbeat: false,
    votes: [{ target: "web/web1", state: "up", since: now, latencyMs: 2, error: null, probes: 1, failures: 0 }],
  });
  await expect
    .poll(async () => (await api("GET", `/v1/clusters/${cluster}/health`)).body.targets[0].verdict.state)
    .toBe("up");
  const signIn = await exports.default.fetch(
    new Request("http://vigil.test/ui/sign-in", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: ADMIN, next: "/ui" }).toString(),
    }),
  );
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const coordinator = env.COORDINATOR.getByName(cluster);
  const rowsWritten = () =>
    runInDurableObject(coordinator, (_instance, state) => {
      return state.storage.sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n;
    });
  const alarm = () => runInDurableObject(coordinator, (_instance, state) => state.storage.getAlarm());
  const noAlarm = () => runInDurableObject(coordinator, (_instance, state) => state.storage.deleteAlarm());
  // No time-driven work from here on: whatever happens during the reads, a read caused.
  await noAlarm();
  // Let what the setup caused behind its answers finish (event writes, sync reports, the
  // webhook queue marking events dispatched): wait until nothing was written for half a second.
  let settled = "";
  for (let i = 0; i < 40; i++) {
    const now = `${await rowsWritten()} ${await d1Contents()}`;
    if (now === settled) break;
    settled = now;
    await new Promise((r) => setTimeout(r, 500));
  }
  await noAlarm();
  const received = lb1.received.length;
  const written = await rowsWritten();
  const d1 = await d1Contents();

  const base = `/v1/clusters/${cluster}`;
  const bearer = { authorization: `Bearer ${ADMIN}` };
  const views = ["health", "vip-groups", "services", "timeline"];
  for (let i = 0; i < READS; i++) {
    for (const path of ["/health", "/leases", "/backends", "/events", "/config", "/nodes"]) {
      expect((await get(`${base}${path}`, bearer)).status, path).toBe(200);
    }
    expect((await get("/metrics", bearer)).status).toBe(200);
    expect((await get("/ui", { cookie })).status).toBe(200);
    for (const view of views) expect((await get(`/ui/clusters/${cluster}/${view}`, { cookie })).status).toBe(200);
  }
  for (const view of views)
    expect(await firstUpdate(`/ui/live/clusters/${cluster}/${view}`, cookie)).toContain("data:");

  expect(lb1.received.length, "commands sent to the agent by reads").toBe(received);
  expect(await rowsWritten(), "rows written to the coordinator's SQLite by reads").toBe(written);
  expect(await alarm(), "an alarm set by reads").toBeNull();
  expect(await d1Contents(), "D1 rows written by reads").toBe(d1);
  lb1.close();
}, 120_000);
