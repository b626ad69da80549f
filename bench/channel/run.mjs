#!/usr/bin/env node
/**
 * bench/channel: the signed agent channel on loopback, with `npm start` and real agent
 * processes (the built bundle).
 *   - round trip of a signed ping and its signed ack, p50/p99 (target p99 < 20 ms)
 *   - messages per second one coordinator handles with 100 connected agents (a ping and an ack
 *     are two messages)
 *   - one agent's resident memory idle, and while it answers pings (target idle < 45 MB), beside
 *     the floor under it: Node alone with the builtins the agent's bundle loads, doing what the
 *     agent does with them, and none of Vigil's code
 * Usage: node bench/channel/run.mjs [agents] [pings]. Writes bench/results/channel.json.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, freshCheckout, startVigil, stopVigil } from "../local-run.mjs";
import { root } from "../workerd-run.mjs";

const [agentCount = 100, pings = 300] = process.argv.slice(2).map(Number);
const bundle = path.join(root, "host-agent/dist/vigil-agent.cjs");
const PEER_PORT_BASE = 27441;
execFileSync("node", [path.join(root, "host-agent/build.mjs")]);

const checkout = freshCheckout();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const { child: vigil, ready } = startVigil(checkout.dir, port);
const admin = await ready;
const host = mkdtempSync(path.join(tmpdir(), "vigil-bench-agents-"));
const agents = [];

const call = async (method, route, body) => {
  const reply = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: reply.status, body: await reply.json().catch(() => null) };
};
const rssMb = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) / 1024;

/**
 * The RSS of a Node process that requires every builtin the agent's bundle requires, makes and
 * uses an Ed25519 key, binds a UDP socket and starts a child, as the agent does, and runs none
 * of Vigil's code: no agent on this Node can be smaller.
 */
async function nodeFloorRss() {
  const required = [...readFileSync(bundle, "utf8").matchAll(/require\("(?:node:)?([a-z_/]+)"\)/g)].map((m) => m[1]);
  const builtins = [...new Set(required)].filter((name) => builtinModules.includes(name));
  const script = [
    ...builtins.map((name) => `require("node:${name}");`),
    'const c = require("node:crypto"); c.sign(null, Buffer.from("x"), c.generateKeyPairSync("ed25519").privateKey);',
    'require("node:dgram").createSocket("udp4").bind(0);',
    'require("node:child_process").spawn("true");',
    "setInterval(() => {}, 1000);",
  ].join("\n");
  const child = spawn("node", ["-e", script], { stdio: "ignore" });
  await sleep(3000);
  const rss = rssMb(child.pid);
  child.kill();
  return rss;
}
const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  const names = Array.from({ length: agentCount }, (_, i) => `lb${i + 1}`);
  await call("PUT", "/v1/clusters/bench/config", {
    cluster: { name: "bench" },
    // One host runs every agent: each listens for its peers on its own UDP port.
    nodes: names.map((name, i) => ({
      name,
      address: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      peerPort: PEER_PORT_BASE + i,
    })),
  });
  for (const name of names) {
    const token = (await call("POST", "/v1/clusters/bench/enrollment-tokens", { node: name })).body.token;
    const dir = path.join(host, name);
    mkdirSync(dir, { recursive: true });
    const config = path.join(dir, "agent.json");
    const enrolled = spawnSync("node", [
      bundle,
      "enroll",
      "--url",
      base,
      "--token",
      token,
      "--node",
      name,
      "--config",
      config,
      "--state-dir",
      path.join(dir, "state"),
    ]);
    if (enrolled.status !== 0) throw new Error(`enroll ${name}: ${enrolled.stderr}`);
    const written = JSON.parse(readFileSync(config, "utf8"));
    writeFileSync(config, JSON.stringify({ ...written, peerPort: PEER_PORT_BASE + names.indexOf(name) }));
    agents.push({ name, child: spawn("node", [bundle, "run", "--config", config], { stdio: "ignore" }) });
  }
  const online = async () => (await call("GET", "/v1/clusters/bench/nodes")).body.filter((n) => n.status.online).length;
  for (let i = 0; i < 300 && (await online()) < agentCount; i++) await sleep(200);
  if ((await online()) < agentCount) throw new Error(`only ${await online()} of ${agentCount} agents came online`);
  await sleep(2000);
  const first = agents[0];
  const idleRss = rssMb(first.child.pid);

  // Round trip: sequential signed pings to one agent.
  const rtt = [];
  const client = [];
  let loadRss = 0;
  for (let i = 0; i < pings; i++) {
    const begun = performance.now();
    const reply = await call("POST", `/v1/clusters/bench/nodes/${first.name}/ping`);
    client.push(performance.now() - begun);
    if (!reply.body?.ok) throw new Error(`ping failed: ${JSON.stringify(reply.body)}`);
    rtt.push(reply.body.rttMs);
    if (i === Math.floor(pings / 2)) loadRss = rssMb(first.child.pid);
  }

  // Throughput: every agent pinged at once, several rounds.
  const rounds = 10;
  const begun = performance.now();
  for (let r = 0; r < rounds; r++) {
    const replies = await Promise.all(agents.map((a) => call("POST", `/v1/clusters/bench/nodes/${a.name}/ping`)));
    const failed = replies.filter((x) => !x.body?.ok).length;
    if (failed > 0)
      throw new Error(
        `${failed} pings failed in round ${r}: ${JSON.stringify(replies.find((x) => !x.body?.ok)?.body)}`,
      );
  }
  const seconds = (performance.now() - begun) / 1000;
  const messagesPerSecond = (rounds * agentCount * 2) / seconds;

  const rows = [
    ["signed ping round trip p50 (ms, coordinator to agent and back)", pct(rtt, 50), "-", null],
    ["signed ping round trip p99 (ms)", pct(rtt, 99), "< 20", pct(rtt, 99) < 20],
    ["same ping through the API, p99 (ms, client to control plane and back)", pct(client, 99), "-", null],
    [`messages/s through one coordinator, ${agentCount} agents connected`, messagesPerSecond, "-", null],
    ["agent RSS idle (MB)", idleRss, "< 45", idleRss < 45],
    ["agent RSS while answering pings (MB)", loadRss, "-", null],
    ["floor: Node with only the builtins the agent loads (MB)", await nodeFloorRss(), "-", null],
  ];
  console.log(`${"measure".padEnd(72)} ${"value".padStart(10)}  target  met`);
  for (const [label, value, target, met] of rows) {
    console.log(
      `${label.padEnd(72)} ${value.toFixed(2).padStart(10)}  ${target.padEnd(6)}  ${met === null ? "" : met ? "yes" : "NO"}`,
    );
  }
  mkdirSync(path.join(root, "bench/results"), { recursive: true });
  writeFileSync(
    path.join(root, "bench/results/channel.json"),
    `${JSON.stringify({ bench: "channel", node: process.version, at: new Date().toISOString(), agents: agentCount, pings, rows: rows.map(([label, value, target, met]) => ({ label, value, target, met })) }, null, 2)}\n`,
  );
} finally {
  for (const a of agents) a.child.kill("SIGTERM");
  await stopVigil(vigil);
  checkout.remove();
  rmSync(host, { recursive: true, force: true });
}
