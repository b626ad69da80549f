/**
 * `npm start` on a fresh checkout answers GET /v1/clusters with the token it printed; after a
 * restart the token and the data are the same.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";

let checkout: ReturnType<typeof freshCheckout>;
let port = 0;
const started: ChildProcess[] = [];

async function start(demo = false): Promise<{ child: ChildProcess; token: string }> {
  const { child, ready } = startVigil(checkout.dir, port, { demo });
  started.push(child);
  return { child, token: await ready };
}

const call = (token: string, method: string, route: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${port}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

beforeAll(async () => {
  checkout = freshCheckout();
  port = await freePort();
});

afterAll(async () => {
  for (const child of started) await stopVigil(child);
  checkout.remove();
});

describe("npm start on a fresh checkout", () => {
  it("answers GET /v1/clusters with the printed token, and keeps token and data across a restart", async () => {
    const first = await start();
    const list = await call(first.token, "GET", "/v1/clusters");
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
    expect((await call("vgl_wrong", "GET", "/v1/clusters")).status).toBe(401);
    expect((await call(first.token, "POST", "/v1/clusters", { name: "kept" })).status).toBe(201);
    await stopVigil(first.child);

    const second = await start();
    expect(second.token).toBe(first.token);
    const after = await call(second.token, "GET", "/v1/clusters");
    expect(((await after.json()) as { name: string }[]).map((c) => c.name)).toEqual(["kept"]);
    await stopVigil(second.child);
  });

  it("npm run demo loads the example cluster", async () => {
    const demo = await start(true);
    const doc = await call(demo.token, "GET", "/v1/clusters/classic-lvs/config");
    expect(doc.status).toBe(200);
    const body = (await doc.json()) as { vipGroups: { members: { priority: number }[] }[] };
    expect(body.vipGroups[0]?.members.map((m) => m.priority)).toEqual([100, 50]);
    await stopVigil(demo.child);
  });
});
