/**
 * The agent channel end to end: `npm start` and the built agent as separate processes. The
 * agent enrolls, connects, answers a signed ping with a signed ack, survives a restart of the
 * control plane and of itself, and is refused once its enrollment is reset. Each test enrolls
 * and starts an agent of its own.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";
import { freeUdpPort } from "../../src/local/demo/plumbing.mjs";

const root = path.join(import.meta.dirname, "../..");
/** The Node that runs the agent: CI sets Node 18, the oldest the agent supports. */
const agentNode = process.env.VIGIL_AGENT_NODE ?? "node";
const agentBundle = path.join(root, "host-agent/dist/vigil-agent.cjs");
let checkout: ReturnType<typeof freshCheckout>;
let port = 0;
let vigil: ChildProcess;
let admin = "";
let host = "";
const agents: ChildProcess[] = [];
let agentLog = "";

const url = () => `http://127.0.0.1:${port}`;
const call = async (method: string, route: string, body?: unknown) => {
  const reply = await fetch(`${url()}${route}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.text();
  return { status: reply.status, body: text ? JSON.parse(text) : null };
};

async function startControlPlane(): Promise<void> {
  const started = startVigil(checkout.dir, port);
  vigil = started.child;
  admin = await started.ready;
}

function startAgent(config: string): ChildProcess {
  const child = spawn(agentNode, [agentBundle, "run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => {
    agentLog += d.toString();
  });
  child.stderr?.on("data", (d) => {
    agentLog += d.toString();
  });
  agents.push(child);
  return child;
}

async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Polls until `check` passes, or fails with the agent's log. */
async function until(what: string, check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const begun = Date.now();
  while (!(await check())) {
    if (Date.now() - begun > limitMs)
      throw new Error(`${what} did not happen within ${limitMs} ms; agent log:\n${agentLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const pingOk = async () => {
  const reply = await call("POST", "/v1/clusters/lab/nodes/lb1/ping");
  return reply.status === 200 && reply.body.ok === true;
};

/** Enrolls `node` of cluster lab with a state directory of its own; answers its agent's config file. */
async function enrolled(node: string, last: number): Promise<string> {
  await call("POST", "/v1/clusters/lab/nodes", { name: node, address: `10.0.0.${last}` });
  const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node })).body.token;
  const config = path.join(host, `${node}.json`);
  const done = spawnSync(
    agentNode,
    [
      agentBundle,
      "enroll",
      "--url",
      url(),
      "--token",
      token,
      "--node",
      node,
      "--config",
      config,
      "--state-dir",
      path.join(host, node),
    ],
    { encoding: "utf8" },
  );
  expect(done.status, done.stderr).toBe(0);
  // Two agents on one host: each listens for its peers on a port of its own.
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, "utf8")), peerPort: await freeUdpPort() }));
  return config;
}

// Each test enrolls and starts an agent of its own, so they pass alone and in any order.
beforeAll(async () => {
  execFileSync("node", [path.join(root, "host-agent/build.mjs")]);
  checkout = freshCheckout();
  port = await freePort();
  await startControlPlane();
  host = mkdtempSync(path.join(tmpdir(), "vigil-agent-"));
  await call("POST", "/v1/clusters", { name: "lab" });
}, 90_000);

afterAll(async () => {
  for (const child of agents) await stopAgent(child);
  await stopVigil(vigil);
  checkout.remove();
  rmSync(host, { recursive: true, force: true });
});

describe("the agent channel", () => {
  it("connects, answers a signed ping, and comes back after restarts of either side", async () => {
    const config = await enrolled("lb1", 1);
    let agent = startAgent(config);
    await until(
      "the agent being online",
      async () => (await call("GET", "/v1/clusters/lab/nodes/lb1")).body.status.online === true,
    );
    const ping = await call("POST", "/v1/clusters/lab/nodes/lb1/ping");
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ ok: true, error: null, result: { pong: expect.any(String) } });

    await stopVigil(vigil);
    await startControlPlane();
    await until("a ping after the control plane restarted", pingOk, 45_000);

    await stopAgent(agent);
    agent = startAgent(config);
    await until("a ping after the agent restarted", pingOk);

    const events = (await call("GET", "/v1/clusters/lab/events?subject=lb1")).body.map((e: { type: string }) => e.type);
    expect(events).toContain("agent.online");
    expect(events).toContain("agent.offline");
  }, 120_000);

  it("refuses the agent once its enrollment is reset", async () => {
    const agent = startAgent(await enrolled("lb2", 2));
    await until(
      "lb2's agent being online",
      async () => (await call("GET", "/v1/clusters/lab/nodes/lb2")).body.status.online === true,
    );
    expect((await call("DELETE", "/v1/clusters/lab/nodes/lb2/enrollment")).status).toBe(204);
    await until("the agent being refused", async () => agentLog.includes("UNKNOWN_KEY"));
    const ping = await call("POST", "/v1/clusters/lab/nodes/lb2/ping");
    expect(ping.status).toBe(409);
    expect(ping.body.error.message).toContain("not connected");
    await stopAgent(agent);
  }, 60_000);
});
