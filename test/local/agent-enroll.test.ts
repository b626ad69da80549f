/**
 * The built agent bundle enrolls against `npm start`: keys made on the host, the public half
 * registered, the coordinator key pinned, config and state written 0600; a second enroll refuses.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "./control-plane.js";

const root = path.join(import.meta.dirname, "../..");
/** The Node that runs the agent: CI sets Node 18, the oldest the agent supports. */
const agentNode = process.env.VIGIL_AGENT_NODE ?? "node";
const agent = path.join(root, "host-agent/dist/vigil-agent.cjs");
let plane: ControlPlane;
let url = "";
let host = "";
const call = (method: string, route: string, body?: unknown) => plane.call(method, route, body);

const run = (...args: string[]) => spawnSync(agentNode, [agent, ...args], { encoding: "utf8" });
const enrollNode = (node: string, token: string, config: string, state: string) =>
  run("enroll", "--url", url, "--token", token, "--node", node, "--config", config, "--state-dir", state);
const enrollLb1 = (token: string, config: string, state: string) => enrollNode("lb1", token, config, state);

beforeAll(async () => {
  execFileSync("node", [path.join(root, "host-agent/build.mjs")]);
  plane = await startControlPlane();
  url = plane.url;
  host = mkdtempSync(path.join(tmpdir(), "vigil-host-"));
  await call("POST", "/v1/clusters", { name: "lab" });
  await call("POST", "/v1/clusters/lab/nodes", { name: "lb1", address: "10.0.0.1" });
  await call("POST", "/v1/clusters/lab/nodes", { name: "lb2", address: "10.0.0.2" });
});

afterAll(async () => {
  await plane?.stop();
  rmSync(host, { recursive: true, force: true });
});

describe("vigil-agent enroll", () => {
  it("enrolls once, keeps its private key at home, and refuses to enroll twice", async () => {
    const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node: "lb1" })).token;
    const config = path.join(host, "etc/agent.json");
    const state = path.join(host, "lib");
    const enrolled = enrollLb1(token, config, state);
    expect(enrolled.status, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toMatch(/^enrolled lb1 in cluster lab; pinned coordinator key coord-\d{8}\n$/);

    const identity = JSON.parse(readFileSync(path.join(state, "identity.json"), "utf8"));
    expect(statSync(path.join(state, "identity.json")).mode & 0o777).toBe(0o600);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const node = await call("GET", "/v1/clusters/lab/nodes/lb1");
    expect(node.status).toMatchObject({ enrolled: true, agentPublicKey: identity.publicKey });
    expect(JSON.stringify(node)).not.toContain(identity.seed);

    const plain = run("check-config", "--config", config);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toContain(
      "allowed programs: none (script checks and hooks from the control plane are refused)",
    );
    const written = JSON.parse(readFileSync(config, "utf8"));
    writeFileSync(config, JSON.stringify({ ...written, hooks: ["/bin/true", "/no/such/hook"] }));
    const hooks = run("check-config", "--config", config);
    expect(hooks.status).toBe(1);
    expect(hooks.stderr).toBe(`${config}: hooks[1]: /no/such/hook is not an executable file on this host\n`);
    const allow = ["/bin/true", { path: "/bin/echo", args: ["ok"] }, { path: "/bin/ls", argsPattern: ["-[al]+"] }];
    writeFileSync(config, JSON.stringify({ ...written, allow, hooks: ["/bin/false"] }));
    const listed = run("check-config", "--config", config);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.split("\n").slice(1)).toEqual([
      "allowed programs (script checks and hooks; anything else is refused):",
      "  /bin/true (any arguments)",
      '  /bin/echo with exactly ["ok"]',
      '  /bin/ls with arguments matching ["-[al]+"]',
      "  /bin/false (any arguments)",
      "",
    ]);
    writeFileSync(config, JSON.stringify({ ...written, allow: ["/no/such/check"] }));
    expect(run("check-config", "--config", config).stderr).toBe(
      `${config}: allow[0]: /no/such/check is not an executable file on this host\n`,
    );
    writeFileSync(config, JSON.stringify(written));
    const status = JSON.parse(run("status", "--config", config, "--json").stdout);
    expect(status).toMatchObject({ enrolled: true, cluster: "lab", node: "lb1", cursor: { seq: -1 } });

    const again = enrollLb1(token, config, state);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("already enrolled as lb1 in cluster lab");
  });

  it("starts a new replay cursor when enrolled again after a reset", async () => {
    // Its own node and host directories: this test needs no other to have run.
    const state = path.join(host, "lb2/lib");
    const config = path.join(host, "lb2/etc/agent.json");
    const first = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node: "lb2" })).token;
    const enrolled = enrollNode("lb2", first, config, state);
    expect(enrolled.status, enrolled.stderr).toBe(0);
    // The first enrollment's agent had accepted commands up to seq 500.
    writeFileSync(path.join(state, "cursor.json"), JSON.stringify({ seq: 500, epochs: { VI_1: 7 } }));
    writeFileSync(
      path.join(state, "channel.json"),
      JSON.stringify({ at: "2026-01-01T00:00:00.000Z", clockOffsetMs: 1 }),
    );
    await call("DELETE", "/v1/clusters/lab/nodes/lb2/enrollment");
    rmSync(path.join(state, "identity.json"));
    const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node: "lb2" })).token;
    const again = enrollNode("lb2", token, config, state);
    expect(again.status, again.stderr).toBe(0);
    const status = JSON.parse(run("status", "--config", config, "--json").stdout);
    expect(status).toMatchObject({ enrolled: true, cursor: { seq: -1, epochs: {} }, lastAccepted: null });
  });

  it("says why the control plane refused", () => {
    const refused = run(
      "enroll",
      "--url",
      url,
      "--token",
      "vge_wrong-token-123",
      "--node",
      "lb1",
      "--state-dir",
      path.join(host, "other"),
      "--config",
      path.join(host, "other.json"),
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      "the control plane refused the enrollment (401): the enrollment token is not valid",
    );
  });

  it("exits 2 with usage on a bad command line", () => {
    const bad = run("enroll", "--url", url);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("enroll needs --url, --token (or VIGIL_ENROLL_TOKEN) and --node");
  });
});
