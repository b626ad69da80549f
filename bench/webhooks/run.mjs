#!/usr/bin/env node
/**
 * bench/webhooks: deliveries per second through the queue to a loopback receiver, and the
 * latency the delivery path adds, from an event's write to the receiver's first request
 * (p50/p99, events sent one at a time); every event of both must arrive, the burst within
 * 120 s. Usage: node bench/webhooks/run.mjs [spaced] [burst].
 * Writes bench/results/webhooks.json.
 */
import { createServer } from "node:http";
import { report, runWorkload } from "../workerd-run.mjs";

const [spaced = 200, burst = 2000] = process.argv.slice(2).map(Number);
const latencies = [];
/** Latencies in the order events arrived, to see a trend. */
const arrivalOrder = [];
const seen = new Set();
let phase = "spaced";

const server = createServer((req, res) => {
  if (req.url === "/count") {
    res.setHeader("content-type", "application/json");
    res.end(String(seen.size));
    return;
  }
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const arrived = Date.now();
    const event = JSON.parse(body).data;
    if (!seen.has(event.id)) {
      seen.add(event.id);
      if (phase === "spaced") latencies.push(arrived - event.details.emittedAt);
      if (phase === "spaced") arrivalOrder.push(arrived - event.details.emittedAt);
    }
    res.statusCode = 204;
    res.end();
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const receiver = `http://127.0.0.1:${server.address().port}`;

const r = await runWorkload("bench/webhooks/workload.bench-test.ts", { receiver, spaced, burst }, (mark) => {
  phase = mark;
}).finally(() => server.close());

latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
report(
  "webhooks",
  [
    [
      `events delivered (${spaced} one at a time + burst of ${burst})`,
      r.delivered,
      `= ${spaced + burst}`,
      r.delivered === spaced + burst,
    ],
    [`deliveries/s through the queue (burst of ${r.burst})`, r.deliveriesPerSecond],
    ["added latency, event to first attempt, p50 (ms)", pct(50)],
    ["added latency, event to first attempt, p99 (ms)", pct(99)],
  ],
  { ...r, spaced: latencies.length, latencyMs: { p50: pct(50), p99: pct(99), max: latencies.at(-1) }, arrivalOrder },
);
