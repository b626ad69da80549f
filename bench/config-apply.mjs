#!/usr/bin/env node
/**
 * What a whole-document write costs as clusters grow. Every configuration write (one real
 * server or a whole document) reads the cluster, validates all of it and writes the diff,
 * so this measures that path on `npm start` (workerd, local D1) for clusters of 10, 100,
 * 1000 and 10,000 real servers. Usage: node bench/config-apply.mjs [reps]. Writes bench/results/config-apply.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { clusterDocument } from "./big-cluster.mjs";
import { freePort, freshCheckout, startVigil, stopVigil } from "./local-run.mjs";

const reps = Number(process.argv[2] ?? 5);
const sizes = [10, 100, 1000, 10_000];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const checkout = freshCheckout();
const port = await freePort();
const { child, ready } = startVigil(checkout.dir, port);
const rows = [];
try {
  const token = await ready;
  const call = async (method, route, body) => {
    const begun = performance.now();
    const reply = await fetch(`http://127.0.0.1:${port}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await reply.text();
    if (!reply.ok) throw new Error(`${method} ${route}: ${reply.status} ${text.slice(0, 300)}`);
    return { ms: performance.now() - begun, bytes: text.length };
  };

  for (const size of sizes) {
    const timings = { create: [], unchanged: [], oneChange: [], export: [], oneServer: [] };
    let bodyBytes = 0;
    for (let r = 0; r < reps; r++) {
      const name = `bench-${size}-${r}`;
      const base = `/v1/clusters/${name}`;
      const doc = clusterDocument(name, size);
      bodyBytes = JSON.stringify(doc).length;
      timings.create.push((await call("PUT", `${base}/config`, doc)).ms);
      timings.unchanged.push((await call("PUT", `${base}/config`, doc)).ms);
      const changed = structuredClone(doc);
      changed.virtualServices[0].realServers[0].weight = 7;
      timings.oneChange.push((await call("PUT", `${base}/config`, changed)).ms);
      timings.export.push((await call("GET", `${base}/config`)).ms);
      timings.oneServer.push(
        (
          await call("PUT", `${base}/virtual-services/svc0/real-servers/rs1`, {
            address: "10.21.0.2",
            port: 8080,
            weight: 9,
            check: "tcp",
          })
        ).ms,
      );
    }
    rows.push({
      realServers: size,
      bodyBytes,
      ...Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, median(v)])),
    });
  }
} finally {
  await stopVigil(child);
  checkout.remove();
}

console.log(`median of ${reps} runs, milliseconds, wrangler dev on this machine`);
console.log("real servers  body (KiB)  create  unchanged  one change  export  one server PUT");
for (const r of rows) {
  console.log(
    `${String(r.realServers).padStart(12)}  ${(r.bodyBytes / 1024).toFixed(1).padStart(10)}  ${r.create.toFixed(0).padStart(6)}  ${r.unchanged.toFixed(0).padStart(9)}  ${r.oneChange.toFixed(0).padStart(10)}  ${r.export.toFixed(0).padStart(6)}  ${r.oneServer.toFixed(0).padStart(14)}`,
  );
}
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, "config-apply.json"),
  `${JSON.stringify({ bench: "config-apply", unit: "ms (median)", reps, node: process.version, at: new Date().toISOString(), rows }, null, 2)}\n`,
);
