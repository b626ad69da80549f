#!/usr/bin/env node
/**
 * How long `npm start` takes on a fresh checkout until GET /v1/clusters answers 200 with the
 * printed token (target: under 30 s). Cold = first start (migrations, new state); warm = restarts.
 * Usage: node bench/start-time.mjs [runs]   Writes bench/results/start-time.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, freshCheckout, startVigil, stopVigil } from "./local-run.mjs";

const runs = Number(process.argv[2] ?? 3);
const TARGET_S = 30;

async function timeToAnswer(dir, port) {
  const begun = performance.now();
  const { child, ready } = startVigil(dir, port);
  try {
    const token = await ready;
    const reply = await fetch(`http://127.0.0.1:${port}/v1/clusters`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (reply.status !== 200) throw new Error(`GET /v1/clusters answered ${reply.status}`);
    return (performance.now() - begun) / 1000;
  } finally {
    await stopVigil(child);
  }
}

const rows = [];
for (let i = 0; i < runs; i++) {
  const checkout = freshCheckout();
  try {
    const port = await freePort();
    rows.push({
      run: i + 1,
      cold: await timeToAnswer(checkout.dir, port),
      warm: await timeToAnswer(checkout.dir, port),
    });
  } finally {
    checkout.remove();
  }
}

const max = (key) => Math.max(...rows.map((r) => r[key]));
console.log("run  cold start (s)  warm restart (s)");
for (const r of rows)
  console.log(`${String(r.run).padEnd(4)} ${r.cold.toFixed(2).padStart(14)}  ${r.warm.toFixed(2).padStart(16)}`);
console.log(
  `max  ${max("cold").toFixed(2).padStart(14)}  ${max("warm").toFixed(2).padStart(16)}   target < ${TARGET_S} s: ${max("cold") < TARGET_S ? "met" : "NOT met"}`,
);

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, "start-time.json"),
  `${JSON.stringify({ bench: "start-time", targetSeconds: TARGET_S, node: process.version, at: new Date().toISOString(), rows }, null, 2)}\n`,
);
