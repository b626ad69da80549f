/**
 * The `vigil` CLI as an operator runs it, against `npm start` on a fresh checkout: login saves
 * the URL and token 0600; apply prints the diff (YAML or JSON, --dry-run changes nothing);
 * status matches its golden file (laid out like ipvsadm -Ln); --json output validates against
 * the API's schemas; events --follow shows a new event; switchover and drain say what
 * happened; keepalived's mail alerts import into an email subscription that alerts apply
 * creates and alerts test sends through a real SMTP relay; bad flags exit 2 with usage.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import * as z from "zod";
import { BackendsView } from "../../src/core/backend-status.js";
import { Event } from "../../src/core/event.js";
import { HealthReport } from "../../src/core/health.js";
import { LeaseView } from "../../src/core/lease-view.js";
import { type ControlPlane, startControlPlane } from "./control-plane.js";
import { run } from "./run.mjs";

const repo = path.join(import.meta.dirname, "../..");
const cli = path.join(repo, "host-agent/dist/vigil.cjs");
const example = path.join(repo, "examples/classic-lvs.json");
let plane: ControlPlane;
let home = "";
const started: ChildProcess[] = [];
const servers: Server[] = [];

async function vigil(
  args: string[],
  input?: string,
  configHome = home,
): Promise<{ status: number | null; out: string; err: string }> {
  const env = { ...process.env, XDG_CONFIG_HOME: configHome, VIGIL_URL: "", VIGIL_TOKEN: "" };
  const { status, stdout, stderr } = await run("node", [cli, ...args], { env, input: input ?? "" });
  return { status, out: stdout, err: stderr };
}

/**
 * Each test sets up what it needs, so they pass alone and in any order: the CLI's config as
 * `vigil login` writes it (the login test logs in under a home of its own), and the example
 * cluster, applied through the API once by whichever test needs it first.
 */
beforeAll(async () => {
  plane = await startControlPlane();
  home = mkdtempSync(path.join(tmpdir(), "vigil-cli-"));
  mkdirSync(path.join(home, "vigil"), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(home, "vigil/cli.json"), JSON.stringify({ url: plane.url, token: plane.admin }), {
    mode: 0o600,
  });
});

let classic: Promise<unknown> | null = null;
function classicLvs(): Promise<unknown> {
  classic ??= plane.call("PUT", "/v1/clusters/classic-lvs/config", JSON.parse(readFileSync(example, "utf8")));
  return classic;
}

afterAll(async () => {
  for (const c of started) if (c.exitCode === null) c.kill("SIGTERM");
  for (const s of servers) s.close();
  await plane?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("the vigil CLI", () => {
  it("logs in, keeping the URL and token in a 0600 file", async () => {
    const own = mkdtempSync(path.join(tmpdir(), "vigil-login-"));
    const bad = await vigil(["login", plane.url], "vgl_not-a-real-token-0000\n", own);
    expect(bad.status).toBe(1);
    expect(bad.err).toContain("401");
    const ok = await vigil(["login", plane.url], `${plane.admin}\n`, own);
    expect(ok.status, ok.err).toBe(0);
    expect(ok.out).toContain("as bootstrap (admin)");
    const file = path.join(own, "vigil/cli.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: plane.url, token: plane.admin });
    rmSync(own, { recursive: true, force: true });
  });

  it("applies a document: the diff first with --dry-run, then for real; YAML works the same", async () => {
    // The example under a name and addresses of its own, so that it clashes with nothing here.
    const doc = JSON.parse(readFileSync(example, "utf8").replaceAll("192.168.88.", "192.168.77."));
    doc.cluster.name = "applied";
    const json = path.join(home, "applied.json");
    writeFileSync(json, JSON.stringify(doc));
    const dry = await vigil(["apply", "-f", json, "--dry-run"]);
    expect(dry.status, dry.err).toBe(0);
    expect(dry.out).toMatch(/^\+ vipGroup +VI_1$/m);
    expect(dry.out).toContain("dry run: nothing applied to applied");
    expect((await plane.call("GET", "/v1/clusters")).map((c: { name: string }) => c.name)).not.toContain("applied");
    const applied = await vigil(["apply", "-f", json]);
    expect(applied.status, applied.err).toBe(0);
    expect(applied.out).toMatch(/applied to applied: revision 1\n$/);
    const yaml = path.join(home, "applied.yaml");
    writeFileSync(yaml, stringify(doc));
    const again = await vigil(["apply", "-f", yaml, "--dry-run"]);
    expect(again.out).toBe("no changes\ndry run: nothing applied to applied (0 change(s))\n");
    writeFileSync(yaml, "cluster:\n  name: [broken\n");
    const broken = await vigil(["apply", "-f", yaml]);
    expect(broken.status).toBe(1);
    expect(broken.err).toMatch(new RegExp(`${yaml.replace(/[.]/g, "\\.")}:\\d+:\\d+: `));
  });

  it("prints status like ipvsadm -Ln, matching the golden file", async () => {
    await classicLvs();
    const status = await vigil(["status", "classic-lvs"]);
    expect(status.status, status.err).toBe(0);
    expect(status.out).toBe(readFileSync(path.join(import.meta.dirname, "golden/status.txt"), "utf8"));
  });

  it("prints --json that validates against the API's schemas", async () => {
    await classicLvs();
    const status = JSON.parse((await vigil(["status", "classic-lvs", "--json"])).out);
    z.array(LeaseView).parse(status.leases);
    BackendsView.parse(status.backends);
    HealthReport.parse(JSON.parse((await vigil(["health", "classic-lvs", "--json"])).out));
    const events = (await vigil(["events", "classic-lvs", "--json"])).out.trim().split("\n").filter(Boolean);
    for (const line of events) Event.parse(JSON.parse(line));
  });

  it("follows events as they happen", async () => {
    // A failing loopback web server probed from three regions: a first verdict of down is an event.
    const web = createServer((_req, res) => res.writeHead(503).end("down"));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    servers.push(web);
    const doc = {
      cluster: { name: "probed" },
      checks: [
        {
          name: "web",
          type: "http",
          interval: 1,
          timeout: 0.5,
          rise: 1,
          fall: 1,
          observers: { regions: ["weur", "enam", "apac"] },
        },
      ],
      vipGroups: [],
      nodes: [],
      virtualServices: [],
    };
    const file = path.join(home, "probed.json");
    writeFileSync(file, JSON.stringify(doc));
    // The events command needs the cluster to exist: start following once it does.
    await plane.call("POST", "/v1/clusters", { name: "probed" });
    const child = spawn("node", [cli, "events", "probed", "--follow"], {
      env: { ...process.env, XDG_CONFIG_HOME: home },
    });
    started.push(child);
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    const withServer = {
      ...doc,
      nodes: [{ name: "lb1", address: "10.0.0.1" }],
      vipGroups: [
        {
          name: "VI_9",
          vips: [{ cidr: "192.168.88.99/24", interface: "eth0" }],
          members: [{ node: "lb1", priority: 100 }],
        },
      ],
      virtualServices: [
        {
          name: "site",
          vipGroup: "VI_9",
          address: "192.168.88.99",
          port: 80,
          realServers: [
            { name: "web1", address: "127.0.0.1", port: (web.address() as AddressInfo).port, check: "web" },
          ],
        },
      ],
    };
    writeFileSync(file, JSON.stringify(withServer));
    expect((await vigil(["apply", "-f", file])).status).toBe(0);
    const deadline = Date.now() + 30_000;
    while (!/ target\.down +site\/web1 /.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    expect(out).toMatch(/^\S+Z {2}critical target\.down +site\/web1 +\{/m);
  });

  it("drains a node and lets it back", async () => {
    await classicLvs();
    const drained = await vigil(["drain", "classic-lvs", "lb1"]);
    expect(drained.status, drained.err).toBe(0);
    expect(drained.out).toBe("lb1 is drained and holds nothing\n");
    expect((await vigil(["drain", "classic-lvs", "lb1", "--undo"])).out).toBe("lb1 may hold VIP groups again\n");
  });

  it("says why a switchover cannot happen", async () => {
    await classicLvs();
    const refused = await vigil(["switchover", "classic-lvs", "VI_1", "--to", "lb2"]);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(
      /^vigil: POST \/v1\/clusters\/classic-lvs\/vip-groups\/VI_1\/switchover: 409 conflict: /,
    );
  });

  it("imports a keepalived pair into a document the API accepts", async () => {
    await classicLvs();
    const corpus = path.join(repo, "test/cli/keepalived/lvs-dr-pair");
    const out = path.join(home, "imported.json");
    const importPair = (...extra: string[]) =>
      vigil([
        "import",
        "keepalived",
        path.join(corpus, "lb1.conf"),
        path.join(corpus, "lb2.conf"),
        "--cluster",
        "moved",
        ...extra,
        "-o",
        out,
      ]);
    const imported = await importPair();
    expect(imported.status, imported.err).toBe(0);
    expect(imported.err).toContain(
      "lb1.conf:26: authentication: dropped; Vigil signs every command with Ed25519 instead",
    );
    // The example cluster applied above has the same directors (lb1 at 192.168.88.11) holding the same VIP.
    const clash = await vigil(["apply", "-f", out, "--dry-run"]);
    expect(clash.status).toBe(1);
    expect(clash.err).toContain("duplicate_vip");
    expect(clash.err).toContain("VIP 192.168.88.15 is already in VIP group VI_1 of cluster classic-lvs");
    // Directors of their own take the same VIP in a cluster of their own.
    expect((await importPair("--address", "lb1=192.168.89.11", "--address", "lb2=192.168.89.12")).status).toBe(0);
    const dry = await vigil(["apply", "-f", out, "--dry-run"]);
    expect(dry.status, dry.err).toBe(0);
    expect(dry.out).toMatch(/^\+ vipGroup +VI_1$/m);
    expect(dry.out).toContain("dry run: nothing applied to moved");
    const withHaproxy = path.join(home, "with-haproxy.json");
    const haproxy = await vigil([
      "import",
      "haproxy",
      path.join(repo, "test/cli/haproxy-import/haproxy.cfg"),
      "--into",
      out,
      "-o",
      withHaproxy,
    ]);
    expect(haproxy.status, haproxy.err).toBe(0);
    const both = await vigil(["apply", "-f", withHaproxy, "--dry-run"]);
    expect(both.status, both.err).toBe(0);
    expect(both.out).toMatch(/^\+ virtualService +web$/m);
    const broken = await vigil(["import", "keepalived", path.join(repo, "test/cli/keepalived/broken/stray.conf")]);
    expect(broken.status).toBe(1);
    expect(broken.err).toMatch(/stray\.conf:4:1: this \} closes nothing/);
    const missing = await vigil(["import", "keepalived", "no/such/lb1.conf"]);
    expect([missing.status, missing.err]).toEqual([1, "vigil: cannot read no/such/lb1.conf: no such file\n"]);
  });

  it("imports keepalived's mail alerts, applies them, and a test mail reaches the relay", async () => {
    const mails: { to: string[]; subject: string }[] = [];
    const relay = new SMTPServer({
      disabledCommands: ["STARTTLS"],
      authOptional: true,
      disableReverseLookup: true,
      logger: false,
      onData(stream, session, callback) {
        void simpleParser(stream).then((mail) => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: mail.subject ?? "" });
          callback();
        }, callback);
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    try {
      const corpus = path.join(repo, "test/cli/keepalived/mail-alerts");
      const out = path.join(home, "mailed.json");
      const files = [path.join(corpus, "lb1.conf"), path.join(corpus, "lb2.conf")];
      const imported = await vigil(["import", "keepalived", ...files, "--cluster", "mailed", "-o", out]);
      expect(imported.status, imported.err).toBe(0);
      const emailFile = path.join(home, "mailed.email.json");
      expect(imported.out).toContain(`wrote ${emailFile}: keepalived's mail alerts as email subscription mailed-mail`);
      // The operator points it at a relay the control plane reaches (here, one without STARTTLS).
      const subscription = JSON.parse(readFileSync(emailFile, "utf8"));
      expect(subscription.email.to).toEqual(["ops@example.net", "oncall@example.net"]);
      const port = (relay.server.address() as AddressInfo).port;
      subscription.url = `smtp://127.0.0.1:${port}`;
      subscription.email.starttls = "off";
      writeFileSync(emailFile, JSON.stringify(subscription));
      const dry = await vigil(["alerts", "apply", "-f", emailFile, "--dry-run"]);
      expect(dry.status, dry.err).toBe(0);
      expect(dry.out).toContain("dry run: mailed-mail: mail to ops@example.net, oncall@example.net");
      expect(dry.out).toContain("would be created; nothing changed");
      const created = await vigil(["alerts", "apply", "-f", emailFile]);
      expect(created.status, created.err).toBe(0);
      expect(created.out).toMatch(/^created mailed-mail: mail to /);
      expect((await vigil(["alerts", "apply", "-f", emailFile])).out).toMatch(/^replaced mailed-mail/);
      expect((await vigil(["alerts", "list"])).out).toMatch(/^mailed-mail: mail to .*; only vip\.moved, /m);
      const test = await vigil(["alerts", "test", "mailed-mail"]);
      expect(test.status, test.err).toBe(0);
      await expect.poll(() => mails.length, { timeout: 15_000, interval: 200 }).toBe(1);
      expect(mails[0]).toMatchObject({ to: ["ops@example.net", "oncall@example.net"] });
      expect(mails[0]?.subject).toMatch(/^\[vigil\] /);
      await expect
        .poll(async () => (await vigil(["alerts", "deliveries", "mailed-mail"])).out, { timeout: 10_000 })
        .toMatch(/ delivered +webhook\.test mailed-mail .*\n {2}#1 \S+ {2}SMTP 250 {2}\d+ ms/);
    } finally {
      await new Promise<void>((resolve) => relay.close(resolve));
    }
  });

  it("prints the import help for import --help and import keepalived --help", async () => {
    for (const args of [
      ["import", "--help"],
      ["import", "keepalived", "--help"],
      ["import", "keepalived", "-h"],
    ]) {
      const help = await vigil(args);
      expect(help.status, args.join(" ")).toBe(0);
      expect(help.out).toMatch(/^usage: vigil import keepalived FILE\.\.\. /);
      expect(help.out).toContain("--address NODE=IP");
    }
  });

  it("exits 2 with usage on bad flags", async () => {
    for (const args of [
      ["status", "--bogus"],
      ["apply"],
      ["switchover", "classic-lvs"],
      ["frobnicate"],
      ["events", "--limit", "0"],
    ]) {
      const bad = await vigil(args);
      expect(bad.status, args.join(" ")).toBe(2);
      expect(bad.err).toContain("usage: vigil <command>");
    }
  });

  it("takes an option's value even when it starts with a dash, as a base64url key may", async () => {
    const key = "-Xv3kq0mT9c2Gm1p_8rP4s5uVw6xYz7A-bCdEfGhIj0";
    const none = await vigil(["hosts", "install", "--cluster", "classic-lvs", "--release-key", key]);
    // The key got past parsing and its check; what stops the command is the missing host list.
    expect(none.status).toBe(2);
    expect(none.err).toContain("no hosts: name them");
  });
});
