/**
 * `npm start` on a fresh checkout answers GET /v1/clusters with the token it printed; after a
 * restart the token and the data are the same.
 */
import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";

let checkout: ReturnType<typeof freshCheckout>;
let port = 0;
const started: ChildProcess[] = [];

async function start(): Promise<{ child: ChildProcess; token: string }> {
  const { child, ready } = startVigil(checkout.dir, port);
  started.push(child);
  return { child, token: await ready };
}

const call = (token: string, method: string, route: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${port}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

/** Enrolls a new node with a fresh Ed25519 key; returns the coordinator keys to pin. */
async function enrollNode(token: string, node: string): Promise<unknown> {
  expect((await call(token, "POST", "/v1/clusters/kept/nodes", { name: node, address: "10.0.0.1" })).status).toBe(201);
  const made = await (await call(token, "POST", "/v1/clusters/kept/enrollment-tokens", { node })).json();
  const publicKey = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x;
  const reply = await call("", "POST", "/v1/enroll", { token: (made as { token: string }).token, node, publicKey });
  expect(reply.status).toBe(201);
  return ((await reply.json()) as { coordinatorKeys: unknown }).coordinatorKeys;
}

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
    const pinnedBefore = await enrollNode(first.token, "lb1");
    await stopVigil(first.child);

    const second = await start();
    expect(second.token).toBe(first.token);
    const after = await call(second.token, "GET", "/v1/clusters");
    expect(((await after.json()) as { name: string }[]).map((c) => c.name)).toEqual(["kept"]);
    // The coordinator key was made once too: agents enrolled before the restart still trust it.
    expect(await enrollNode(second.token, "lb2")).toEqual(pinnedBefore);
    await stopVigil(second.child);
  });
});
