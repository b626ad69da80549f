#!/usr/bin/env node
/**
 * bench/webhooks: deliveries per second through the queue to a loopback receiver, and the
 * latency the delivery path adds, from an event's write to the receiver's first request
 * (p50/p99, events sent one at a time); every event of both must arrive, the burst within
 * 120 s. The same for an email subscription, to a loopback SMTP relay (smtp-server): mails
 * one at a time for the latency, then a burst for mails per second.
 * Usage: node bench/webhooks/run.mjs [spaced] [burst] [mails] [mailBurst].
 * Writes bench/results/webhooks.json.
 */
import { createServer } from "node:http";
import { SMTPServer } from "smtp-server";
import { report, runWorkload } from "../workerd-run.mjs";

const [spaced = 200, burst = 2000, mails = 50, mailBurst = 500] = process.argv.slice(2).map(Number);
const latencies = [];
const mailLatencies = [];
const mailed = new Set();
/** Latencies in the order events arrived, to see a trend. */
const arrivalOrder = [];
const seen = new Set();
let phase = "spaced";

const server = createServer((req, res) => {
  if (req.url === "/count" || req.url === "/mail-count") {
    res.setHeader("content-type", "application/json");
    res.end(String(req.url === "/count" ? seen.size : mailed.size));
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

/** The relay: each mail's subject names its event's target, the body when it was written. */
const relayServer = new SMTPServer({
  disabledCommands: ["STARTTLS"],
  authOptional: true,
  // No reverse DNS of the client: loopback has no name to find, and the lookup costs time.
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    let text = "";
    stream.on("data", (chunk) => {
      text += chunk.toString("latin1");
    });
    stream.on("end", () => {
      const arrived = Date.now();
      const subject = /^Subject: (.*)$/m.exec(text)?.[1] ?? "";
      const emittedAt = Number(/emittedAt:\s+(\d+)/.exec(text)?.[1]);
      if (!mailed.has(subject)) {
        mailed.add(subject);
        if (phase === "mail") mailLatencies.push(arrived - emittedAt);
      }
      callback(null, "2.0.0 queued");
    });
  },
});
await new Promise((resolve) => relayServer.listen(0, "127.0.0.1", resolve));
const relay = `smtp://127.0.0.1:${relayServer.server.address().port}`;

const input = { receiver, relay, spaced, burst, mails, mailBurst };
const { dialogueMs, ...r } = await runWorkload("bench/webhooks/workload.bench-test.ts", input, (mark) => {
  phase = mark;
}).finally(() => {
  server.close();
  relayServer.close();
});

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const pct = (p) => percentile(latencies, p);
const mailPct = (p) => percentile(mailLatencies, p);
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
    [
      `mails delivered (${mails} one at a time + burst of ${mailBurst})`,
      r.mailed,
      `= ${mails + mailBurst}`,
      r.mailed === mails + mailBurst,
    ],
    [`mails/s through the queue to the relay (burst of ${mailBurst})`, r.mailsPerSecond],
    ["email: event to mail at the relay, p50 (ms)", mailPct(50)],
    ["email: event to mail at the relay, p99 (ms)", mailPct(99)],
    ["email: one attempt's SMTP dialogue, p50 (ms)", percentile(dialogueMs, 50)],
    ["email: one attempt's SMTP dialogue, p99 (ms)", percentile(dialogueMs, 99)],
  ],
  {
    ...r,
    spaced: latencies.length,
    latencyMs: { p50: pct(50), p99: pct(99), max: Math.max(...latencies) },
    mailLatencyMs: { p50: mailPct(50), p99: mailPct(99), max: Math.max(...mailLatencies) },
    dialogueMs: { p50: percentile(dialogueMs, 50), p99: percentile(dialogueMs, 99) },
    arrivalOrder,
  },
);
