/**
 * host-agent/install.sh against the real control plane (`npm start` on a fresh checkout, on
 * loopback), installing into a scratch root: the files and their modes, the systemd unit
 * (checked by systemd-analyze), enrollment, and the installed agent connecting. A tampered
 * bundle is refused with nothing installed, and so is one whose checksum the server swapped
 * too but whose signature does not verify with the release key the operator gave; an upgrade
 * keeps the key and verifies against the pinned release key; plain http needs --insecure-http;
 * --token-stdin refuses to read a piped script; --uninstall removes everything; --dry-run
 * changes nothing; shellcheck is clean.
 * Needs shellcheck and systemd-analyze (CI's .ci/run installs them).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, createPrivateKey, sign } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "./control-plane.js";
import { type Ran, run } from "./run.mjs";

const repo = path.join(import.meta.dirname, "../..");
const script = path.join(repo, "host-agent/install.sh");
/** CI runs the installed agent on Node 18, the oldest it supports: that node comes first on PATH. */
const agentNode = process.env.VIGIL_AGENT_NODE;
const PATH = agentNode ? `${path.dirname(agentNode)}:${process.env.PATH}` : (process.env.PATH ?? "");
let plane: ControlPlane;
let url = "";
let root = "";
/** The release key of the control plane's build, as an operator would have it from their records. */
let releaseKey = "";
/** What every install here passes: the lab's loopback is plain http. */
const trust = () => ["--insecure-http", "--release-key", releaseKey];
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
/** Paths under an install root. */
const under =
  (dir: string) =>
  (...parts: string[]) =>
    path.join(dir, ...parts);

/**
 * Each test that needs an installed agent has one of its own: a node made for it, a token,
 * and an install into a root of its own, so the tests pass alone and in any order.
 */
let made = 0;
async function installed(): Promise<{
  node: string;
  root: string;
  at: (...parts: string[]) => string;
  stdout: string;
  token: string;
}> {
  made += 1;
  const node = `lb${made}`;
  const dir = mkdtempSync(path.join(root, "host-"));
  await call("POST", "/v1/clusters/lab/nodes", { name: node, address: `10.0.0.${made}` });
  const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node })).token;
  // The README's way: the token in a file, out of argv and sudo's log.
  const tokenFile = path.join(dir, "..", `${node}.token`);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const done = await install(["--url", url, ...trust(), "--token-file", tokenFile, "--node", node, "--root", dir]);
  rmSync(tokenFile);
  expect(done.status, done.stdout + done.stderr).toBe(0);
  return { node, root: dir, at: under(dir), stdout: done.stdout, token };
}
const mode = (p: string) => statSync(p).mode & 0o777;

/** Signs a bundle with an Ed25519 seed (base64url), as host-agent/build.mjs does. */
function signWith(seed: string, bundle: Buffer): string {
  const key = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seed, "base64url")]),
    format: "der",
    type: "pkcs8",
  });
  return `${sign(null, bundle, key).toString("base64")}\n`;
}
const releaseSeed = () => readFileSync(path.join(plane.dir, "host-agent/.release-key"), "utf8").trim();
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * A mirror of the control plane's files with a bundle of our choosing, for the tamper and
 * upgrade cases: its checksum as given, signed with `seed` (the release key's by default).
 */
async function mirror(
  version: string,
  bundle: Buffer,
  sum: string,
  seed = releaseSeed(),
): Promise<{ url: string; server: Server }> {
  const served = readFileSync(path.join(repo, "host-agent/dist/site/install.sh"));
  const server = createServer((req, res) => {
    const files: Record<string, Buffer | string> = {
      "/install.sh": served,
      "/agent/VERSION": `${version}\n`,
      [`/agent/${version}/vigil-agent.js`]: bundle,
      [`/agent/${version}/vigil-agent.js.sha256`]: `${sum}  vigil-agent.js\n`,
      [`/agent/${version}/vigil-agent.js.sig`]: signWith(seed, bundle),
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
  releaseKey = readFileSync(path.join(plane.dir, "host-agent/dist/release-key"), "utf8").trim();
  await call("POST", "/v1/clusters", { name: "lab" });
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
    // What the API, the dashboard and `vigil release-key` show is the key of this build.
    expect((await call("GET", "/v1/release-key")).releaseKey).toBe(releaseKey);
  });

  it("prints what it would do with --dry-run and changes nothing", async () => {
    await call("POST", "/v1/clusters/lab/nodes", { name: "dry", address: "10.0.1.1" });
    const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node: "dry" })).token;
    const empty = mkdtempSync(path.join(root, "dry-"));
    const dry = await install([
      "--url",
      url,
      ...trust(),
      "--token",
      token,
      "--node",
      "dry",
      "--root",
      empty,
      "--dry-run",
    ]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would run: mkdir -p");
    expect(dry.stdout).toContain("would write:");
    expect(readdirSync(empty)).toEqual([]);
    expect((await call("GET", "/v1/clusters/lab/nodes/dry")).status).toMatchObject({ enrolled: false });
  });

  it("installs, enrolls and writes a hardened unit; the installed agent connects", async () => {
    const { node, at, stdout, token } = await installed();
    const done = { stdout };
    expect(done.stdout).toMatch(/checksum ok/);
    expect(done.stdout).toContain(`signature ok (release key ${releaseKey})`);
    expect(readFileSync(at("etc/vigil/release-key"), "utf8")).toBe(`${releaseKey}\n`);
    expect(done.stdout).toMatch(new RegExp(`done: node ${node}, agent \\d+\\.\\d+\\.\\d+`));

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
      node,
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

    expect((await call("GET", `/v1/clusters/lab/nodes/${node}`)).status).toMatchObject({ enrolled: true });
    const agent = spawn(at("usr/local/bin/vigil-agent"), ["run", "--config", at("etc/vigil/agent.json")], {
      stdio: "ignore",
      env: { ...process.env, PATH },
    });
    started.push(agent);
    await expect
      .poll(async () => (await call("GET", `/v1/clusters/lab/nodes/${node}`)).status.online, { timeout: 15_000 })
      .toBe(true);
    agent.kill("SIGTERM");
    await new Promise((r) => agent.once("exit", r));
  });

  it("refuses a tampered bundle and installs nothing", async () => {
    const { node, root: dir, at } = await installed();
    const before = readFileSync(at("opt/vigil/vigil-agent.js"));
    const good = createHash("sha256").update(before).digest("hex");
    const tampered = Buffer.concat([before, Buffer.from("\nrequire('child_process').execSync('id');\n")]);
    const { url: evil, server } = await mirror("9.9.9", tampered, good);
    try {
      const refused = await install(["--url", evil, "--insecure-http", "--node", node, "--root", dir], evil);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("checksum mismatch for vigil-agent.js");
      expect(refused.stderr).toContain("nothing was installed");
      expect(readFileSync(at("opt/vigil/vigil-agent.js")).equals(before)).toBe(true);
      expect(readFileSync(at("opt/vigil/VERSION"), "utf8")).not.toBe("9.9.9\n");
    } finally {
      server.close();
    }
  });

  it("refuses a bundle whose server swapped the checksum too, signed with a key that is not the release key", async () => {
    const { node, root: dir, at } = await installed();
    const before = readFileSync(at("opt/vigil/vigil-agent.js"));
    const tampered = Buffer.concat([before, Buffer.from("\nrequire('child_process').execSync('id');\n")]);
    const attacker = Buffer.alloc(32, 5).toString("base64url");
    const { url: evil, server } = await mirror("9.9.9", tampered, sha256(tampered), attacker);
    try {
      // With the pinned key (an upgrade) and with the key given again: both refuse.
      for (const extra of [[], ["--release-key", releaseKey]]) {
        const refused = await install(
          ["--url", evil, "--insecure-http", ...extra, "--node", node, "--root", dir],
          evil,
        );
        expect(refused.status).toBe(1);
        expect(refused.stdout).toContain("checksum ok");
        expect(refused.stderr).toContain(
          `the signature of vigil-agent.js does not verify with release key ${releaseKey}`,
        );
        expect(readFileSync(at("opt/vigil/vigil-agent.js")).equals(before)).toBe(true);
      }
      // Nor can the server talk the host into another key.
      const swapped = await install(
        ["--url", evil, "--insecure-http", "--release-key", "B".repeat(43), "--node", node, "--root", dir],
        evil,
      );
      expect(swapped.status).toBe(1);
      expect(swapped.stderr).toContain("--release-key differs from the key this host pinned");
    } finally {
      server.close();
    }
  });

  it("upgrades in place and keeps the key, with no token", async () => {
    const { node, root: dir, at } = await installed();
    const identity = readFileSync(at("var/lib/vigil/identity.json"), "utf8");
    const newer = Buffer.concat([readFileSync(at("opt/vigil/vigil-agent.js")), Buffer.from("\n// 9.9.10\n")]);
    const { url: next, server } = await mirror("9.9.10", newer, sha256(newer));
    try {
      // No --release-key: the pinned one verifies the upgrade.
      const upgraded = await install(["--url", next, "--insecure-http", "--node", node, "--root", dir], next);
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
    const noToken = await install(["--url", url, ...trust(), "--node", "lb2", "--root", path.join(root, "other")]);
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toContain("not enrolled yet and no token: mint one");
    const badUrl = await install(["--url", "ftp://example", "--root", root]);
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toContain("--url must start with https://");
    const plain = await install(["--url", url, "--release-key", releaseKey, "--root", path.join(root, "other")]);
    expect(plain.status).toBe(2);
    expect(plain.stderr).toContain("--url is plain http: anyone on the path could swap the agent or read the token");
    const noKey = await install(["--url", url, "--insecure-http", "--node", "lb2", "--root", path.join(root, "nokey")]);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain("--release-key is required");
    const piped = await install(["--url", url, ...trust(), "--token-stdin", "--root", path.join(root, "piped")]);
    expect(piped.status).toBe(1);
    expect(piped.stderr).toContain("--token-stdin cannot work when the script is piped into sh");
    expect(existsSync(path.join(root, "piped"))).toBe(false);
    const unknown = await install(["--frobnicate"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option: --frobnicate");
  });

  it("removes everything it added with --uninstall", async () => {
    const { root: dir, at } = await installed();
    const removed = await install(["--uninstall", "--root", dir]);
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

/**
 * The systemd and package-manager paths, which a test cannot take for real on a CI machine (no
 * systemd runs there, and installing packages would change it): the script runs with --dry-run
 * and no --root, as on a real director, in a mount namespace of its own where
 * /run/systemd/system exists (so it believes systemd runs), with `arping` left off its PATH. It
 * prints every command it would run; the same `act` line runs them for real without --dry-run.
 * Needs root (unshare -m), as CI runs.
 */
describe("install.sh on a director with systemd", () => {
  let bin = "";
  beforeAll(() => {
    if (process.getuid?.() !== 0)
      throw new Error("these tests need root for a mount namespace (unshare -m); CI runs as root");
    bin = mkdtempSync(path.join(tmpdir(), "vigil-path-"));
    for (const dir of PATH.split(":").reverse())
      for (const name of existsSync(dir) ? readdirSync(dir) : [])
        if (name !== "arping") {
          rmSync(path.join(bin, name), { force: true });
          symlinkSync(path.join(dir, name), path.join(bin, name));
        }
    if (!existsSync(path.join(bin, "systemctl"))) {
      writeFileSync(path.join(bin, "systemctl"), "#!/bin/sh\necho 'systemctl must not run in a dry run' >&2\nexit 1\n");
      chmodSync(path.join(bin, "systemctl"), 0o755);
    }
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  async function dryRun(extra: string[]): Promise<Ran> {
    await call("POST", "/v1/clusters/lab/nodes", { name: `sd${++made}`, address: `10.0.2.${made}` });
    const node = `sd${made}`;
    const token = (await call("POST", "/v1/clusters/lab/enrollment-tokens", { node })).token;
    const args = ["--url", url, ...trust(), "--token", token, "--node", node, "--dry-run", ...extra].map(
      (a) => `'${a}'`,
    );
    return run(
      "unshare",
      [
        "-m",
        "sh",
        "-c",
        `mount -t tmpfs vigil-test /run && mkdir -p /run/systemd/system && curl -fsSL ${url}/install.sh | sh -s -- ${args.join(" ")}`,
      ],
      { env: { ...process.env, PATH: bin } },
    );
  }
  const ran = (out: string) =>
    out
      .split("\n")
      .filter((l) => l.startsWith("would run: "))
      .map((l) => l.slice(11));

  it("installs what is missing only with --install-deps, then enables and starts the service after a reload", async () => {
    const out = await dryRun([]);
    expect(out.status, out.stdout + out.stderr).toBe(1);
    expect(out.stderr).toContain(
      "arping is missing: install it (iputils-arping on Debian/Ubuntu, iputils on RHEL/Fedora) or re-run with --install-deps",
    );
    const deps = await dryRun(["--install-deps"]);
    expect(deps.status, deps.stdout + deps.stderr).toBe(0);
    expect(deps.stdout).toContain("arping is missing: installing it");
    const commands = ran(deps.stdout);
    expect(commands).toContain("apt-get install -y -q iputils-arping");
    expect(commands.filter((c) => c.startsWith("systemctl"))).toEqual([
      "systemctl daemon-reload",
      "systemctl enable vigil-agent.service",
      "systemctl restart vigil-agent.service",
    ]);
    expect(deps.stdout).not.toContain("systemd was not touched");
  });

  it("with --no-start, reloads systemd and says how to start it, and starts nothing", async () => {
    const out = await dryRun(["--install-deps", "--no-start"]);
    expect(out.status, out.stdout + out.stderr).toBe(0);
    expect(ran(out.stdout).filter((c) => c.startsWith("systemctl"))).toEqual(["systemctl daemon-reload"]);
    expect(out.stdout).toContain("installed; start it with: systemctl enable --now vigil-agent");
  });
});
