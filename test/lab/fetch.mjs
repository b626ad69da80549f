#!/usr/bin/env node
/** `fetch.mjs URL N`: N requests one after another; prints {"<answer>": count, ...} (errors as "ERR"). */
import http from "node:http";

const [url, n = "10"] = process.argv.slice(2);
const counts = {};
for (let i = 0; i < Number(n); i++) {
  const who = await new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
      let body = "";
      response.on("data", (c) => {
        body += c;
      });
      response.on("end", () => resolve(response.statusCode === 200 ? body.trim() : `HTTP ${response.statusCode}`));
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", () => resolve("ERR"));
  });
  counts[who] = (counts[who] ?? 0) + 1;
}
console.log(JSON.stringify(counts));
