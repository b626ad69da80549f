/**
 * `vigil hosts install` over real SSH: two sshd processes on loopback ports (each with its own
 * host key, root login by key only) and a port where nothing listens, against `npm start`.
 * A host whose key changed is refused, an unreachable one fails, the one known host is
 * installed and enrolled; the table and the exit code say which. After the stale key is
 * removed, the new key is refused until --accept-new, which prints the fingerprint it records.
 * An inventory group is installed as a user with passwordless sudo, logging in through an
 * ssh-agent, two hosts at once. Each host installs under its own scratch root. Needs root
 * (it adds that user and a sudoers rule, and removes them), sshd, ssh-keygen and sudo.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/local-run.mjs";
import { type ControlPlane, startControlPlane } from "./control-plane.js";
import { run } from "./run.mjs";

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
async function vigilCli(args: string[], agentSocket = ""): Promise<{ status: number | null; out: string }> {
  const env = { ...process.env, VIGIL_URL: url, VIGIL_TOKEN: admin, SSH_AUTH_SOCK: agentSocket };
  const { status, stdout, stderr } = await run("node", [cli, ...args], { env });
  return { status, out: stdout + stderr };
}

const common = (knownHosts: string) => [
  "hosts",
  "install",
  "--cluster",
  "lab",
  "--user",
  "root",
  "--identity",
  path.join(dir, "client"),
  "--known-hosts",
  path.join(dir, knownHosts),
  "--root",
  path.join(dir, "roots/{node}"),
  "--timeout",
  "5",
  // The control plane's build signed the bundle; the lab's loopback is plain http.
  "--release-key",
  readFileSync(path.join(plane.dir, "host-agent/dist/release-key"), "utf8").trim(),
  "--insecure-http",
];
/** A host word: node `node` on the sshd (or dead port) called `name`. */
const host = (name: string, node = name) => `${node}=127.0.0.1:${ports[name]}`;
/** A known_hosts file of a test's own: lb1 known, lb2 known by a key it no longer has. */
function staleKnownHosts(file: string): void {
  writeFileSync(
    path.join(dir, file),
    `[127.0.0.1]:${ports.lb1} ${publicKey(path.join(dir, "lb1_host"))}\n[127.0.0.1]:${ports.lb2} ${publicKey(path.join(dir, "old_lb2"))}\n`,
  );
}
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
  // The key lb2 had before: the tests' known_hosts files name it (staleKnownHosts).
  keygen(path.join(dir, "old_lb2"));
  plane = await startControlPlane();
  url = plane.url;
  admin = plane.admin;
  execFileSync("node", [path.join(repo, "host-agent/build.mjs")]);
  await call("POST", "/v1/clusters", { name: "lab" });
  // Each test installs nodes of its own, so that each passes alone and in any order.
  for (const [i, name] of ["a1", "a2", "a3", "b1", "b2"].entries())
    await call("POST", "/v1/clusters/lab/nodes", { name, address: `10.0.0.${i + 1}` });
}, 120_000);

afterAll(async () => {
  for (const child of sshds) child.kill("SIGTERM");
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("vigil hosts install", () => {
  it("installs where the host key is known, refuses a changed key, reports an unreachable host", async () => {
    staleKnownHosts("known_hosts.a");
    const run = await vigilCli([...common("known_hosts.a"), host("lb1", "a1"), host("lb2", "a2"), host("lb3", "a3")]);
    expect(run.status, run.out).toBe(1);
    expect(tableRow(run.out, "a1")).toMatch(/^a1\s+127\.0\.0\.1:\d+\s+installed\s+\d+\.\d+\.\d+\s+\d+\.\d+s$/);
    expect(tableRow(run.out, "a2")).toMatch(/failed: host key of 127\.0\.0\.1:\d+ changed \(now SHA256:/);
    expect(tableRow(run.out, "a3")).toMatch(/failed: unreachable: ECONNREFUSED/);
    expect(run.out).toContain("1 of 3 host(s) installed, 2 failed");
    // A progress line per host as it went.
    expect(run.out).toMatch(/^a1\s+connecting$/m);
    expect(run.out).toMatch(/^a1\s+checksum ok/m);

    expect(existsSync(path.join(dir, "roots/a1/var/lib/vigil/identity.json"))).toBe(true);
    expect(existsSync(path.join(dir, "roots/a2"))).toBe(false);
    expect((await call("GET", "/v1/clusters/lab/nodes/a1")).status).toMatchObject({ enrolled: true });
    expect((await call("GET", "/v1/clusters/lab/nodes/a2")).status).toMatchObject({ enrolled: false });
  });

  it("accepts a new host key only with --accept-new, printing its fingerprint, and is re-runnable", async () => {
    staleKnownHosts("known_hosts.b");
    execFileSync("ssh-keygen", ["-q", "-R", `[127.0.0.1]:${ports.lb2}`, "-f", path.join(dir, "known_hosts.b")], {
      stdio: "ignore",
    });
    const refused = await vigilCli([...common("known_hosts.b"), host("lb2", "b2")]);
    expect(refused.status).toBe(1);
    expect(tableRow(refused.out, "b2")).toMatch(/host key of 127\.0\.0\.1:\d+ is not known \(SHA256:/);

    // b1 installed first, so that the run below upgrades it.
    expect((await vigilCli([...common("known_hosts.b"), host("lb1", "b1")])).status).toBe(0);
    const expected = execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "lb2_host.pub")], {
      encoding: "utf8",
    }).split(" ")[1];
    const accepted = await vigilCli([...common("known_hosts.b"), "--accept-new", host("lb1", "b1"), host("lb2", "b2")]);
    expect(accepted.status, accepted.out).toBe(0);
    expect(accepted.out).toMatch(
      new RegExp(`^b2\\s+accepted new host key ${expected?.replace(/[+/]/g, "\\$&")}$`, "m"),
    );
    expect(tableRow(accepted.out, "b1")).toMatch(/\supgraded\s/);
    expect(tableRow(accepted.out, "b2")).toMatch(/\sinstalled\s/);
    expect(accepted.out).toContain("2 of 2 host(s) installed");
    expect(readFileSync(path.join(dir, "known_hosts.b"), "utf8")).toContain(
      `[127.0.0.1]:${ports.lb2} ${publicKey(path.join(dir, "lb2_host"))}`,
    );
    expect((await call("GET", "/v1/clusters/lab/nodes/b2")).status).toMatchObject({ enrolled: true });
  });

  it("installs an inventory's group (-i, --group) as a user with sudo -n, logging in through an ssh-agent, several at once", async () => {
    // A user who is not root, allowed sudo without a password (removed again below).
    const user = `vgl${process.pid}`.slice(0, 16);
    const sudoers = `/etc/sudoers.d/vigil-test-${process.pid}`;
    if (!existsSync("/usr/bin/sudo")) throw new Error("sudo is not installed (apt-get install sudo)");
    // "*": no password to log in with, but not locked (sshd refuses a locked account).
    execFileSync("useradd", ["--no-create-home", "--shell", "/bin/sh", "--password", "*", user]);
    writeFileSync(sudoers, `${user} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    // sshd reads the authorized keys as that user.
    chmodSync(dir, 0o711);
    chmodSync(path.join(dir, "authorized_keys"), 0o644);
    // An ssh-agent holding the client key; no key file is given to the CLI.
    const socket = path.join(dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
      execFileSync("ssh-add", [path.join(dir, "client")], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: "ignore",
      });
      for (const [i, name] of ["lb4", "lb5", "lb6"].entries())
        await call("POST", "/v1/clusters/lab/nodes", { name, address: `10.0.0.${i + 4}` });
      const inventory = path.join(dir, "hosts.ini");
      writeFileSync(
        inventory,
        [
          "[directors]",
          `lb4 ansible_host=127.0.0.1 ansible_port=${ports.lb1}`,
          `lb5 ansible_host=127.0.0.1 ansible_port=${ports.lb2}`,
          "[directors:vars]",
          `ansible_user=${user}`,
          "[others]",
          `lb6 ansible_host=127.0.0.1 ansible_port=${ports.lb1}`,
          "",
        ].join("\n"),
      );
      // Everything common() has but the key file: only the agent can log in.
      const options = common("known_hosts.inventory").filter(
        (w, i, all) => w !== "--identity" && all[i - 1] !== "--identity",
      );
      const done = await vigilCli(
        [
          ...options,
          "--identity",
          path.join(dir, "no-such-key"),
          "--accept-new",
          "-i",
          inventory,
          "--group",
          "directors",
          "--parallel",
          "2",
        ],
        socket,
      );
      expect(done.status, done.out).toBe(0);
      expect(done.out).toContain("2 of 2 host(s) installed");
      expect(tableRow(done.out, "lb6")).toBeUndefined();
      for (const node of ["lb4", "lb5"]) {
        expect(done.out).toMatch(new RegExp(`^${node}\\s+running install\\.sh with sudo$`, "m"));
        expect(existsSync(path.join(dir, `roots/${node}/var/lib/vigil/identity.json`))).toBe(true);
        expect((await call("GET", `/v1/clusters/lab/nodes/${node}`)).status).toMatchObject({ enrolled: true });
      }
      expect((await call("GET", "/v1/clusters/lab/nodes/lb6")).status).toMatchObject({ enrolled: false });
      // Two at once: the second host was reached before the first was done.
      const lines = done.out.split("\n");
      const first = lines.findIndex((l) => /^lb[45]\s+connecting$/.test(l));
      const other = lines[first]?.startsWith("lb4") ? "lb5" : "lb4";
      const otherConnecting = lines.findIndex((l) => new RegExp(`^${other}\\s+connecting$`).test(l));
      const firstDone = lines.findIndex((l) => new RegExp(`^${lines[first]?.slice(0, 3)}\\s+done`).test(l));
      expect(otherConnecting).toBeGreaterThan(-1);
      expect(firstDone === -1 || otherConnecting < firstDone, done.out).toBe(true);
    } finally {
      agent.kill("SIGTERM");
      rmSync(sudoers, { force: true });
      execFileSync("userdel", [user]);
    }
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
