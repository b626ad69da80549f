/**
 * The demo's directors (src/local/demo/agents.mjs): an agent that ends on its own is reported at
 * once with why and its last lines, so the tour fails with the cause (a peer port taken, a bad
 * config) rather than waiting out its limit for a holder that cannot come. One the demo stops
 * is not a failure. Runs the built agent.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoAgent } from "../../src/local/demo/agents.mjs";
import { freeUdpPort } from "../../src/local/demo/plumbing.mjs";

const root = path.join(import.meta.dirname, "../..");
let dir: string;

beforeAll(() => {
  execFileSync("node", [path.join(root, "host-agent/build.mjs")]);
  dir = mkdtempSync(path.join(tmpdir(), "vigil-demo-agent-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function agent(node: string): DemoAgent {
  return new DemoAgent({ node, dir, url: "http://127.0.0.1:9", cluster: "demo", onLine: () => {} });
}

async function until<T>(value: () => T, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = value();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a demo director", () => {
  it("that exits on its own says how and what it logged last", async () => {
    const lb = agent("lb9");
    writeFileSync(lb.config, '{ "url": "ftp://nowhere" }');
    lb.start();
    const failure = await until(() => lb.failure());
    expect(failure).toMatch(/^lb9's agent exited with 1; its last lines:/);
    expect(failure).toContain("lb9.json");
    expect(failure).toContain("url");
  });

  it("that the demo stops is not a failure", async () => {
    const lb = agent("lb8");
    const stateDir = path.join(dir, "lb8-state");
    mkdirSync(stateDir);
    // An enrolled identity of its own (no control plane answers at this URL): it runs until stopped.
    const seed = randomBytes(32).toString("base64url");
    writeFileSync(
      path.join(stateDir, "identity.json"),
      JSON.stringify({
        cluster: "demo",
        node: "lb8",
        agentKid: "k1",
        seed,
        publicKey: seed,
        coordinatorKeys: {},
        enrolledAt: new Date().toISOString(),
      }),
    );
    const peerPort = await freeUdpPort();
    writeFileSync(
      lb.config,
      JSON.stringify({
        url: "http://127.0.0.1:9",
        cluster: "demo",
        node: "lb8",
        stateDir,
        peerPort,
        hostActions: "show",
      }),
    );
    lb.start();
    expect(await until(() => lb.tail.some((line) => line.includes(`UDP port ${peerPort}`)))).toBe(true);
    expect(lb.failure()).toBeNull();
    await lb.stop("SIGKILL");
    expect(lb.failure()).toBeNull();
  });
});
