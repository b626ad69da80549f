#!/usr/bin/env node
/**
 * bench/channel-ceiling: the most WebSocket messages one Durable Object takes a second on this
 * machine's workerd (`wrangler dev`, as `npm start` runs it), with nothing of Vigil in it:
 *   - an empty handler that only counts
 *   - a handler that does what every agent frame needs at the least: JSON parsed and an Ed25519
 *     signature verified
 * Many sockets each send their share at once; the figure is messages counted over the time to
 * count them all. It is the ceiling over bench/fleet's "agent messages/s one coordinator
 * handles": a coordinator that verified and did nothing else could not take more.
 * Usage: node bench/channel-ceiling/run.mjs [sockets] [messages per socket]. Writes
 * bench/results/channel-ceiling.json.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { freePort, stopVigil } from "../local-run.mjs";
import { report, root } from "../workerd-run.mjs";

const [sockets = 250, perSocket = 40] = process.argv.slice(2).map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(path.join(tmpdir(), "vigil-channel-ceiling-"));
copyFileSync(path.join(import.meta.dirname, "worker.js"), path.join(dir, "worker.js"));
writeFileSync(
  path.join(dir, "wrangler.toml"),
  [
    'name = "channel-ceiling"',
    'main = "worker.js"',
    'compatibility_date = "2025-06-01"',
    "[[durable_objects.bindings]]",
    'name = "HUB"',
    'class_name = "Hub"',
    "[[migrations]]",
    'tag = "v1"',
    'new_sqlite_classes = ["Hub"]',
    "",
  ].join("\n"),
);
const port = await freePort();
const wrangler = spawn(
  path.join(root, "node_modules/.bin/wrangler"),
  ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", path.join(dir, "state")],
  {
    cwd: dir,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
    },
    stdio: "ignore",
    detached: true,
  },
);
const base = `127.0.0.1:${port}`;
const count = async () => Number(await (await fetch(`http://${base}/count`)).text());

/** Messages per second the object counted, `sockets` sockets sending `perSocket` `payload`s each. */
async function rate(payload) {
  const open = await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`ws://${base}/`, { perMessageDeflate: false });
          ws.once("open", () => resolve(ws));
          ws.once("error", reject);
        }),
    ),
  );
  const before = await count();
  const began = performance.now();
  for (const ws of open) for (let i = 0; i < perSocket; i++) ws.send(payload);
  const total = sockets * perSocket;
  let counted = 0;
  while (counted < total && performance.now() - began < 120_000) {
    await sleep(20);
    counted = (await count()) - before;
  }
  const seconds = (performance.now() - began) / 1000;
  for (const ws of open) ws.close();
  if (counted < total) throw new Error(`only ${counted} of ${total} messages counted in ${seconds.toFixed(1)} s`);
  return counted / seconds;
}

try {
  for (let i = 0; i < 300; i++) {
    if ((await count().catch(() => null)) !== null) break;
    await sleep(200);
  }
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // A frame the size of an agent's signed vote batch.
  const body = JSON.stringify({ v: 1, type: "votes", heartbeat: false, votes: [], seq: 1, at: Date.now() });
  const signed = JSON.stringify({
    publicKey: publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64"),
    body,
    signature: sign(null, Buffer.from(body), privateKey).toString("base64"),
  });
  await rate(signed); // warm-up: the key imported, the code compiled
  const empty = await rate(`x${"y".repeat(signed.length - 1)}`);
  const verified = await rate(signed);
  report("channel-ceiling", [
    [`messages/s, empty handler (${sockets} sockets)`, empty],
    [`messages/s, JSON parsed and Ed25519 verified (${sockets} sockets)`, verified],
  ]);
} finally {
  await stopVigil(wrangler);
  rmSync(dir, { recursive: true, force: true });
}
