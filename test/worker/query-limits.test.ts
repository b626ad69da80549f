/**
 * Big configurations within a deployed Worker's D1 limits: applying, changing, reading and
 * deleting a cluster of 10,000 real servers each run at most 50 queries (the free plan's
 * limit per invocation; the paid plan's is 1,000), bind at most 100 parameters per
 * statement, keep each statement's SQL under 100 KB and each bound string under 2 MB.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clusterDocument } from "../../bench/big-cluster.mjs";
import worker from "../../src/index.js";
import { jsonSlices } from "../../src/storage/bulk.js";
import { countedD1, type D1Use, noUse } from "./counted-d1.js";
import { ADMIN } from "./http.js";

const FREE_PLAN_QUERIES = 50;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; use: D1Use }> {
  const use = noUse();
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await worker.fetch(
    new Request(`http://vigil.test${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { ...env, DB: countedD1(env.DB, use) },
    ctx,
  );
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: text ? JSON.parse(text) : undefined, use };
}

function withinLimits(use: D1Use): void {
  const seen = JSON.stringify(use);
  expect(use.queries, seen).toBeGreaterThan(0);
  expect(use.queries, seen).toBeLessThanOrEqual(FREE_PLAN_QUERIES);
  expect(use.params, seen).toBeLessThanOrEqual(100);
  expect(use.sqlBytes, seen).toBeLessThanOrEqual(100_000);
  expect(use.stringBytes, seen).toBeLessThanOrEqual(2_000_000);
}

it("applies, changes, reads and deletes a cluster of 10,000 real servers within D1's limits per request", async () => {
  const doc = clusterDocument("big-10k", 10_000);
  const base = "/v1/clusters/big-10k";

  const created = await call("PUT", `${base}/config`, doc);
  expect(created.status, JSON.stringify(created.body)?.slice(0, 500)).toBe(200);
  withinLimits(created.use);

  const read = await call("GET", `${base}/config`);
  expect(read.status).toBe(200);
  expect(read.body.virtualServices.flatMap((s: { realServers: unknown[] }) => s.realServers)).toHaveLength(10_000);
  withinLimits(read.use);

  // Every server's weight changes, and half the services go: 5,000 updates and 5,000 deletes.
  const changed = structuredClone(doc);
  changed.virtualServices = changed.virtualServices.slice(0, 100);
  for (const service of changed.virtualServices) for (const rs of service.realServers) rs.weight = 3;
  const edited = await call("PUT", `${base}/config`, changed);
  expect(edited.status, JSON.stringify(edited.body)?.slice(0, 500)).toBe(200);
  withinLimits(edited.use);
  const after = await call("GET", `${base}/config`);
  const servers = after.body.virtualServices.flatMap((s: { realServers: { weight: number }[] }) => s.realServers);
  expect(servers).toHaveLength(5_000);
  expect(new Set(servers.map((s: { weight: number }) => s.weight))).toEqual(new Set([3]));
  const kept = new Set(changed.virtualServices.map((s: { name: string }) => s.name));
  const expected = structuredClone(read.body);
  expected.virtualServices = expected.virtualServices.filter((s: { name: string }) => kept.has(s.name));
  for (const service of expected.virtualServices) for (const rs of service.realServers) rs.weight = 3;
  expect(after.body).toEqual(expected);

  const deleted = await call("DELETE", `${base}?force=true`);
  expect(deleted.status).toBe(204);
  withinLimits(deleted.use);
  expect((await call("GET", `${base}/config`)).status).toBe(404);
  const left = await env.DB.prepare("SELECT count(*) AS n FROM real_servers WHERE cluster = ?")
    .bind("big-10k")
    .first<{ n: number }>();
  expect(left?.n).toBe(0);
});

describe("jsonSlices", () => {
  it.each([
    [[], 20, []],
    [[1, 2, 3], 20, ["[1,2,3]"]],
    [["aaaa", "bbbb", "cccc"], 16, ['["aaaa","bbbb"]', '["cccc"]']],
    // Bytes, not characters: each é is two.
    [["éé", "éé"], 12, ['["éé"]', '["éé"]']],
    [["a".repeat(30)], 10, [`["${"a".repeat(30)}"]`]],
  ])("%j under %i bytes: %j", (items, limit, slices) => {
    expect(jsonSlices(items, limit)).toEqual(slices);
  });

  it("keeps every item, in order, each slice within the limit unless one item is longer", () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ name: `rs${i}`, pad: "x".repeat(i % 37) }));
    const slices = jsonSlices(items, 2000);
    expect(slices.flatMap((s) => JSON.parse(s))).toEqual(items);
    for (const s of slices) expect(new TextEncoder().encode(s).length).toBeLessThanOrEqual(2000);
  });
});
