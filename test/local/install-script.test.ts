/**
 * host-agent/install.sh against the real control plane (`npm start` on a fresh checkout, on
 * loopback), installing into a scratch root: the files and their modes, the systemd unit
 * (checked by systemd-analyze), enrollment, and the installed agent connecting. A tampered
 * bundle is refused with nothing installed; an upgrade keeps the key; --uninstall removes
 * everything; --dry-run changes nothing; shellcheck is clean.
 * Needs shellcheck and systemd-analyze (CI's .ci/run installs them).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "./control-plane.js";
import { type Ran, run } from "./run.js";

const repo = path.join(import.meta.dirname, "../..");
const script = path.join(repo, "host-agent/install.sh");
/** CI runs the installed agent on Node 18, the oldest it supports: that node comes first on PATH. */
const agentNode = process.env.VIGIL_AGENT_NODE;
const PATH = agentNode ? `${path.dirname(agentNode)}:${process.env.PATH}` : (process.env.PATH ?? "");
let plane: ControlPlane;
let url = "";
let root = "";
const started: ChildProcess[] = [];

const call = (method: string, route: string, body?: unknown) => plane.call(method, route, body);

/**
 * Runs the script the way the README says: fetched from the control plane, piped to sh.
 * Asynchronously: the mirror below is served by this same process.
 */
function install(args: string[], from = url): Promise<Ran> {
  const quoted = args.map((a) => `'${a}'`).join(" ");
  return run("sh", ["-c", `curl -fsSL ${from}/install.sh | sh -s -- ${quoted}`], { env: { ...process.env, PATH } });
}
const at = (...parts: string[]) => path.join(root, ...parts);
const mode = (p: string) => statSync(p).mode & 0o777;

/** A mirror of the control plane's files with a bundle of our choosing, for the tamper and upgrade cases. */
async function mirror(version: string, bundle: Buffer, sum: string): Promise<{ url: string; server: Server }> {
  const served = readFileSync(path.join(repo, "host-agent/dist/site/install.sh"));
  const server = createServer((req, res) => {
    const files: Record<string, Buffer | string> = {
      "/install.sh": served,
      "/agent/VERSION": `${version}\n`,
      [`/agent/${version}/vigil-agent.js`]: bundle,
      [`/agent/${version}/vigil-agent.js.sha256`]: `${sum}  vigil-agent.js\n`,
    };
    const body = files[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  plane = await startControlPlane();
  url = plane.url;
  await call("POST", "/v1/clusters", { name: "lab" });
  await call("POST", "/v1/clusters/lab/nodes", { name: "lb1", address: "10.0.0.1" });
  root = mkdtempSync(path.join(tmpdir(), "vigil-root-"));
}, 120_000);

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
  await plane?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("install.sh", () => {
  it("is clean under shellcheck", () => {
    const check = spawnSync("shellcheck", ["-s", "sh", script], { encoding: "utf8" });
    if (check.error) throw new Error("shellcheck is not installed (apt-get install shellcheck)");
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("serves the script, the bundle and its checksum, versioned", async () => {
    const version = (await (await fetch(`${url}/agent/VERSION`)).text()).trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const bundle = Buffer.from(await (await fetch(`${url}/agent/${version}/vigil-agent.js`)).arrayBuffer());
    const sum = await (await fetch(`${url}/agent/vigil-agent.js.sha256`)).text();
    expect(sum).toBe(`${createHash("sha256").update(bundle).digest("hex")}  vigil-agent.js\n`);
    expect(await (await fetch(`${url}/install.sh`)).text()).toBe(readFileSync(script, "utf8"));
  });

  it("prints what it would do with --dry-run and changes nothing", async () => {
    const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node: "lb1" })).token;
    const dry = await install(["--url", url, "--token", token, "--node", "lb1", "--root", root, "--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would run: mkdir -p");
    expect(dry.stdout).toContain("would write:");
    expect(readdirSync(root)).toEqual([]);
  });

  it("installs, enrolls and writes a hardened unit; the installed agent connects", async () => {
    const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node: "lb1" })).token;
    const done = await install(["--url", url, "--token", token, "--node", "lb1", "--root", root]);
    expect(done.status, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toMatch(/checksum ok/);
    expect(done.stdout).toMatch(/done: node lb1, agent \d+\.\d+\.\d+/);

    const served = Buffer.from(await (await fetch(`${url}/agent/vigil-agent.js`)).arrayBuffer());
    expect(readFileSync(at("opt/vigil/vigil-agent.js")).equals(served)).toBe(true);
    expect(mode(at("etc/vigil"))).toBe(0o700);
    expect(mode(at("etc/vigil/agent.json"))).toBe(0o600);
    expect(mode(at("var/lib/vigil"))).toBe(0o700);
    expect(mode(at("var/lib/vigil/identity.json"))).toBe(0o600);
    expect(mode(at("usr/local/bin/vigil-agent")) & 0o111).not.toBe(0);
    expect(JSON.parse(readFileSync(at("etc/vigil/agent.json"), "utf8"))).toMatchObject({
      url,
      cluster: "lab",
      node: "lb1",
      stateDir: at("var/lib/vigil"),
    });
    // The token never lands on disk.
    for (const file of [
      "etc/vigil/agent.json",
      "var/lib/vigil/identity.json",
      "etc/systemd/system/vigil-agent.service",
    ])
      expect(readFileSync(at(file), "utf8")).not.toContain(token);

    const unit = readFileSync(at("etc/systemd/system/vigil-agent.service"), "utf8");
    for (const line of [
      `ExecStart=${execFileSync("sh", ["-c", "command -v node"], { encoding: "utf8", env: { ...process.env, PATH } }).trim()} ${at("opt/vigil/vigil-agent.js")} run --config ${at("etc/vigil/agent.json")}`,
      "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      `ReadWritePaths=${at("var/lib/vigil")}`,
      "ReadWritePaths=-/run/haproxy",
      "Restart=on-failure",
      "WantedBy=multi-user.target",
    ])
      expect(unit.split("\n")).toContain(line);
    const verify = spawnSync("systemd-analyze", ["verify", at("etc/systemd/system/vigil-agent.service")], {
      encoding: "utf8",
    });
    if (verify.error) throw new Error("systemd-analyze is not installed (apt-get install systemd)");
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/vigil-agent\.service:/);

    expect((await call("GET", "/v1/clusters/lab/nodes/lb1")).status).toMatchObject({ enrolled: true });
    const agent = spawn(at("usr/local/bin/vigil-agent"), ["run", "--config", at("etc/vigil/agent.json")], {
      stdio: "ignore",
      env: { ...process.env, PATH },
    });
    started.push(agent);
    await expect
      .poll(async () => (await call("GET", "/v1/clusters/lab/nodes/lb1")).status.online, { timeout: 15_000 })
      .toBe(true);
    agent.kill("SIGTERM");
    await new Promise((r) => agent.once("exit", r));
  });

  it("refuses a tampered bundle and installs nothing", async () => {
    const before = readFileSync(at("opt/vigil/vigil-agent.js"));
    const good = createHash("sha256").update(before).digest("hex");
    const tampered = Buffer.concat([before, Buffer.from("\nrequire('child_process').execSync('id');\n")]);
    const { url: evil, server } = await mirror("9.9.9", tampered, good);
    try {
      const refused = await install(["--url", evil, "--node", "lb1", "--root", root], evil);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("checksum mismatch for vigil-agent.js");
      expect(refused.stderr).toContain("nothing was installed");
      expect(readFileSync(at("opt/vigil/vigil-agent.js")).equals(before)).toBe(true);
      expect(readFileSync(at("opt/vigil/VERSION"), "utf8")).not.toBe("9.9.9\n");
    } finally {
      server.close();
    }
  });

  it("upgrades in place and keeps the key, with no token", async () => {
    const identity = readFileSync(at("var/lib/vigil/identity.json"), "utf8");
    const newer = Buffer.concat([readFileSync(at("opt/vigil/vigil-agent.js")), Buffer.from("\n// 9.9.10\n")]);
    const { url: next, server } = await mirror("9.9.10", newer, createHash("sha256").update(newer).digest("hex"));
    try {
      const upgraded = await install(["--url", next, "--node", "lb1", "--root", root], next);
      expect(upgraded.status, upgraded.stdout + upgraded.stderr).toBe(0);
      expect(upgraded.stdout).toMatch(/upgrading \d+\.\d+\.\d+ -> 9\.9\.10 \(the node's key is kept\)/);
      expect(upgraded.stdout).toContain("already enrolled: keeping the key");
      expect(readFileSync(at("opt/vigil/VERSION"), "utf8")).toBe("9.9.10\n");
      expect(readFileSync(at("opt/vigil/vigil-agent.js")).equals(newer)).toBe(true);
      expect(readFileSync(at("var/lib/vigil/identity.json"), "utf8")).toBe(identity);
    } finally {
      server.close();
    }
  });

  it("says what to do when it cannot go on", async () => {
    const noToken = await install(["--url", url, "--node", "lb2", "--root", path.join(root, "other")]);
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toContain("not enrolled yet and no token: mint one");
    const badUrl = await install(["--url", "ftp://example", "--root", root]);
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toContain("--url must start with http:// or https://");
    const unknown = await install(["--frobnicate"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option: --frobnicate");
  });

  it("removes everything it added with --uninstall", async () => {
    const removed = await install(["--uninstall", "--root", root]);
    expect(removed.status, removed.stderr).toBe(0);
    for (const p of [
      "opt/vigil",
      "etc/vigil",
      "var/lib/vigil",
      "usr/local/bin/vigil-agent",
      "etc/systemd/system/vigil-agent.service",
    ])
      expect(existsSync(at(p)), p).toBe(false);
  });
});
