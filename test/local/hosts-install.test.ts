/**
 * `vigil hosts install` over real SSH: two sshd processes on loopback ports (each with its own
 * host key, root login by key only) and a port where nothing listens, against `npm start`.
 * A host whose key changed is refused, an unreachable one fails, the one known host is
 * installed and enrolled; the table and the exit code say which. After the stale key is
 * removed, the new key is refused until --accept-new, which prints the fingerprint it records.
 * Each host installs under its own scratch root. Needs sshd and ssh-keygen (openssh-server).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/local-run.mjs";
import { type ControlPlane, startControlPlane } from "./control-plane.js";
import { run } from "./run.js";

const repo = path.join(import.meta.dirname, "../..");
const cli = path.join(repo, "host-agent/dist/vigil.cjs");
const SSHD = "/usr/sbin/sshd";
let dir = "";
let plane: ControlPlane;
let url = "";
let admin = "";
const sshds: ChildProcess[] = [];
const ports: Record<string, number> = {};

const call = (method: string, route: string, body?: unknown) => plane.call(method, route, body);

const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
const publicKey = (file: string) => readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function sshd(name: string): Promise<void> {
  const port = await freePort();
  ports[name] = port;
  keygen(path.join(dir, `${name}_host`));
  const config = path.join(dir, `${name}_sshd_config`);
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, `${name}_host`)}`,
      `PidFile ${path.join(dir, `${name}.pid`)}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "",
    ].join("\n"),
  );
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  sshds.push(child);
  for (let i = 0; i < 100 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await listening(port))) throw new Error(`sshd for ${name} did not listen on ${port}`);
}

/** Runs the CLI; resolves with its exit code and output (stdout, then stderr). */
async function vigilCli(args: string[]): Promise<{ status: number | null; out: string }> {
  const env = { ...process.env, VIGIL_URL: url, VIGIL_TOKEN: admin, SSH_AUTH_SOCK: "" };
  const { status, stdout, stderr } = await run("node", [cli, ...args], { env });
  return { status, out: stdout + stderr };
}

const common = () => [
  "hosts",
  "install",
  "--cluster",
  "lab",
  "--user",
  "root",
  "--identity",
  path.join(dir, "client"),
  "--known-hosts",
  path.join(dir, "known_hosts"),
  "--root",
  path.join(dir, "roots/{node}"),
  "--timeout",
  "5",
  // The control plane's build signed the bundle; the lab's loopback is plain http.
  "--release-key",
  readFileSync(path.join(plane.dir, "host-agent/dist/release-key"), "utf8").trim(),
  "--insecure-http",
];
const host = (name: string) => `${name}=127.0.0.1:${ports[name]}`;
/** A host's row in the final table (after the HOST header). */
const tableRow = (out: string, name: string) =>
  out
    .slice(out.indexOf("\nHOST "))
    .split("\n")
    .find((l) => l.startsWith(`${name} `));

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error("sshd is not installed (apt-get install openssh-server)");
  dir = mkdtempSync(path.join(tmpdir(), "vigil-ssh-"));
  // sshd refuses to start without its privilege separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  keygen(path.join(dir, "client"));
  writeFileSync(path.join(dir, "authorized_keys"), `${publicKey(path.join(dir, "client"))}\n`);
  await sshd("lb1");
  await sshd("lb2");
  ports.lb3 = await freePort();
  // lb1 is known; lb2 is known by a key it no longer has.
  keygen(path.join(dir, "old_lb2"));
  writeFileSync(
    path.join(dir, "known_hosts"),
    `[127.0.0.1]:${ports.lb1} ${publicKey(path.join(dir, "lb1_host"))}\n[127.0.0.1]:${ports.lb2} ${publicKey(path.join(dir, "old_lb2"))}\n`,
  );
  plane = await startControlPlane();
  url = plane.url;
  admin = plane.admin;
  execFileSync("node", [path.join(repo, "host-agent/build.mjs")]);
  await call("POST", "/v1/clusters", { name: "lab" });
  for (const [i, name] of ["lb1", "lb2", "lb3"].entries())
    await call("POST", "/v1/clusters/lab/nodes", { name, address: `10.0.0.${i + 1}` });
}, 120_000);

afterAll(async () => {
  for (const child of sshds) child.kill("SIGTERM");
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("vigil hosts install", () => {
  it("installs where the host key is known, refuses a changed key, reports an unreachable host", async () => {
    const run = await vigilCli([...common(), host("lb1"), host("lb2"), host("lb3")]);
    expect(run.status, run.out).toBe(1);
    expect(tableRow(run.out, "lb1")).toMatch(/^lb1\s+127\.0\.0\.1:\d+\s+installed\s+\d+\.\d+\.\d+\s+\d+\.\d+s$/);
    expect(tableRow(run.out, "lb2")).toMatch(/failed: host key of 127\.0\.0\.1:\d+ changed \(now SHA256:/);
    expect(tableRow(run.out, "lb3")).toMatch(/failed: unreachable: ECONNREFUSED/);
    expect(run.out).toContain("1 of 3 host(s) installed, 2 failed");
    // A progress line per host as it went.
    expect(run.out).toMatch(/^lb1\s+connecting$/m);
    expect(run.out).toMatch(/^lb1\s+checksum ok/m);

    expect(existsSync(path.join(dir, "roots/lb1/var/lib/vigil/identity.json"))).toBe(true);
    expect(existsSync(path.join(dir, "roots/lb2"))).toBe(false);
    expect((await call("GET", "/v1/clusters/lab/nodes/lb1")).status).toMatchObject({ enrolled: true });
    expect((await call("GET", "/v1/clusters/lab/nodes/lb2")).status).toMatchObject({ enrolled: false });
  });

  it("accepts a new host key only with --accept-new, printing its fingerprint, and is re-runnable", async () => {
    execFileSync("ssh-keygen", ["-q", "-R", `[127.0.0.1]:${ports.lb2}`, "-f", path.join(dir, "known_hosts")], {
      stdio: "ignore",
    });
    const refused = await vigilCli([...common(), host("lb2")]);
    expect(refused.status).toBe(1);
    expect(tableRow(refused.out, "lb2")).toMatch(/host key of 127\.0\.0\.1:\d+ is not known \(SHA256:/);

    const expected = execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "lb2_host.pub")], {
      encoding: "utf8",
    }).split(" ")[1];
    const accepted = await vigilCli([...common(), "--accept-new", host("lb1"), host("lb2")]);
    expect(accepted.status, accepted.out).toBe(0);
    expect(accepted.out).toMatch(
      new RegExp(`^lb2\\s+accepted new host key ${expected?.replace(/[+/]/g, "\\$&")}$`, "m"),
    );
    expect(tableRow(accepted.out, "lb1")).toMatch(/\supgraded\s/);
    expect(tableRow(accepted.out, "lb2")).toMatch(/\sinstalled\s/);
    expect(accepted.out).toContain("2 of 2 host(s) installed");
    expect(readFileSync(path.join(dir, "known_hosts"), "utf8")).toContain(
      `[127.0.0.1]:${ports.lb2} ${publicKey(path.join(dir, "lb2_host"))}`,
    );
    expect((await call("GET", "/v1/clusters/lab/nodes/lb2")).status).toMatchObject({ enrolled: true });
  });

  it("exits 2 with usage on a bad command line", async () => {
    const key = ["--release-key", "B".repeat(43)];
    const bad = await vigilCli(["hosts", "install", "--cluster", "lab", ...key, "--parallel", "zero", "lb1=127.0.0.1"]);
    expect(bad.status).toBe(2);
    expect(bad.out).toContain('--parallel expects a positive number, got "zero"');
    const keyless = await vigilCli(["hosts", "install", "--cluster", "lab", "lb1=127.0.0.1"]);
    expect(keyless.status).toBe(2);
    expect(keyless.out).toContain("hosts install needs --release-key KEY");
  });
});
