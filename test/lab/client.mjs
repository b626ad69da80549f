#!/usr/bin/env node
/**
 * The lab's client: requests URL every INTERVAL ms (each with a TIMEOUT ms limit, without
 * waiting for the one before) and prints one JSON line per answer: {t, who} or {t, error}.
 * `t` is when the request was sent, in ms since the epoch.
 */
import http from "node:http";

const [url, interval = "50", timeout = "200"] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: false });
setInterval(() => {
  const t = Date.now();
  const request = http.get(url, { agent, timeout: Number(timeout) }, (response) => {
    let body = "";
    response.on("data", (chunk) => {
      body += chunk;
    });
    response.on("end", () => process.stdout.write(`${JSON.stringify({ t, who: body.trim() })}\n`));
  });
  request.on("timeout", () => request.destroy(new Error("timeout")));
  request.on("error", (err) => process.stdout.write(`${JSON.stringify({ t, error: err.message })}\n`));
}, Number(interval));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
