/**
 * Vigil in the network lab: the control plane (`npm start` on a fresh copy of the tree) in the
 * cp namespace, the built agent enrolled and running in each director, each director serving
 * HTTP on :80 (its tracked service), the client loop and the ARP capture. The API is reached
 * over a Unix socket forwarded inside cp, so the host needs no route into the lab.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";
import { run } from "../local/run.mjs";
import { addressOf, Lab, VIP } from "./lab.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const bundle = path.join(root, "host-agent/dist/vigil-agent.cjs");
/** The Node that runs the agent: CI sets Node 18, the oldest the agent supports. */
const agentNode = process.env.VIGIL_AGENT_NODE ?? process.execPath;
const PORT = 8787;
export const CLUSTER = "lab";
const NOTIFY = path.join(here, "notify.sh");

/** The lab's cluster: two (or three) directors sharing the VIP by quorum lease, each tracking its own :80. */
export function labCluster(directors, group = {}) {
  return {
    cluster: { name: CLUSTER },
    nodes: directors.map((name) => ({ name, address: addressOf(name) })),
    checks: [
      {
        name: "lb-http",
        type: "tcp",
        connectPort: 80,
        // One failed check (two connects 0.1 s apart) takes the node out, as bench/failover's
        // keepalived track script does.
        interval: 1,
        timeout: 0.4,
        retries: 1,
        delayBeforeRetry: 0.1,
        rise: 1,
        fall: 1,
        observers: { agents: directors },
      },
    ],
    vipGroups: [
      {
        name: "VI_1",
        vips: [{ cidr: `${VIP}/24`, interface: "eth0", label: "eth0:vip" }],
        members: directors.map((node, i) => ({ node, priority: [100, 50, 25][i] ?? 10 })),
        // The shortest lease the peer link makes safe on a LAN (see README, "Failover").
        leaseTtl: 0.5,
        track: [{ check: "lb-http", weight: 0 }],
        notify: {
          master: { path: NOTIFY, args: [] },
          backup: { path: NOTIFY, args: [] },
        },
        ...group,
      },
    ],
  };
}

export class VigilLab {
  constructor(directors, extra = []) {
    this.directors = directors;
    this.lab = Lab.create(["cp", ...directors, ...extra, "client"]);
    this.dir = mkdtempSync(path.join(tmpdir(), "vigil-lab-"));
    this.socket = path.join(this.dir, "api.sock");
    this.agents = new Map();
  }

  /**
   * `cluster` replaces the default document, `extra` adds nodes (web1, web2), `agent` adds
   * fields to each agent's config, `directorServers: false` leaves :80 on the directors free.
   */
  static async start({
    directors = ["lb1", "lb2"],
    group = {},
    cluster = null,
    extra = [],
    agent = {},
    directorServers = true,
  } = {}) {
    const v = new VigilLab(directors, extra);
    v.agentExtra = agent;
    try {
      v.checkout = freshCheckout();
      await v.startControlPlane();
      v.lab.spawn("cp", [process.execPath, path.join(here, "unix-proxy.mjs"), v.socket, "127.0.0.1", String(PORT)]);
      await v.until("the API over the lab socket", async () => (await v.api("GET", "/v1/clusters")).status === 200);
      const applied = await v.api("PUT", `/v1/clusters/${CLUSTER}/config`, cluster ?? labCluster(directors, group));
      if (applied.status !== 200) throw new Error(`the lab cluster was refused: ${JSON.stringify(applied.body)}`);
      for (const d of directors) {
        if (directorServers) v.startServer(d);
        await v.enroll(d);
        v.startAgent(d);
      }
    } catch (err) {
      await v.stop();
      throw err;
    }
    return v;
  }

  async startControlPlane() {
    const started = startVigil(this.checkout.dir, PORT, { netns: this.lab.ns("cp"), host: "0.0.0.0" });
    this.controlPlane = this.lab.adopt(started.child, true);
    const log = createWriteStream(path.join(this.dir, "control-plane.log"), { flags: "a" });
    started.child.stdout.pipe(log);
    started.child.stderr.pipe(log);
    this.admin = await started.ready;
  }

  async restartControlPlane() {
    await stopVigil(this.controlPlane);
    await this.startControlPlane();
  }

  async stopControlPlane() {
    await stopVigil(this.controlPlane);
  }

  /** Calls the API as admin, through the socket forwarded into cp. */
  api(method, route, body) {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.socket,
          path: route,
          method,
          headers: { authorization: `Bearer ${this.admin}`, "content-type": "application/json", host: "vigil" },
          timeout: 30_000,
        },
        (response) => {
          let text = "";
          response.on("data", (c) => {
            text += c;
          });
          response.on("end", () => resolve({ status: response.statusCode, body: text ? JSON.parse(text) : null }));
        },
      );
      request.on("error", reject);
      request.on("timeout", () => request.destroy(new Error(`${method} ${route}: timeout`)));
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Runs the operator's CLI (the built bundle) inside cp, logged in as admin; never blocks this process. */
  cli(args) {
    return run(
      "ip",
      ["netns", "exec", this.lab.ns("cp"), process.execPath, path.join(root, "host-agent/dist/vigil.cjs"), ...args],
      { env: { ...process.env, VIGIL_URL: `http://127.0.0.1:${PORT}`, VIGIL_TOKEN: this.admin } },
    );
  }

  async enroll(node) {
    const token = (await this.api("POST", `/v1/clusters/${CLUSTER}/enrollment-tokens`, { node })).body.token;
    const config = path.join(this.dir, `${node}.json`);
    const state = path.join(this.dir, `${node}-state`);
    const out = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        this.lab.ns(node),
        agentNode,
        bundle,
        "enroll",
        "--url",
        `http://${addressOf("cp")}:${PORT}`,
        "--token",
        token,
        "--node",
        node,
        "--config",
        config,
        "--state-dir",
        state,
      ],
      { encoding: "utf8" },
    );
    if (out.status !== 0) throw new Error(`enrolling ${node} failed: ${out.stderr}`);
    const written = JSON.parse(readFileSync(config, "utf8"));
    writeFileSync(
      config,
      JSON.stringify({ ...written, heartbeat: 2, allow: [NOTIFY], ...(this.agentExtra ?? {}) }, null, 2),
      { mode: 0o600 },
    );
    chmodSync(NOTIFY, 0o755);
  }

  startAgent(node) {
    const log = path.join(this.dir, `${node}-agent.log`);
    const child = this.lab.spawn(node, [agentNode, bundle, "run", "--config", path.join(this.dir, `${node}.json`)], {
      log,
      env: { VIGIL_NOTIFY_LOG: path.join(this.dir, "notify.log"), VIGIL_NODE: node },
    });
    this.agents.set(node, child);
    return child;
  }

  /** Stops a director's agent: gracefully (SIGTERM) or as a crash (SIGKILL). */
  async stopAgent(node, signal = "SIGTERM") {
    const child = this.agents.get(node);
    if (child) await this.lab.signal(child, signal);
    this.agents.delete(node);
  }

  startServer(node) {
    this.lab.startServer(node);
  }

  stopServer(node) {
    return this.lab.stopServer(node);
  }

  startClient() {
    return this.lab.startClient();
  }

  stopClient() {
    return this.lab.stopClient();
  }

  async leases() {
    return (await this.api("GET", `/v1/clusters/${CLUSTER}/leases`)).body;
  }

  /** Who holds the VIP, as the directors' own interfaces say. */
  holders() {
    return this.lab.holders(this.directors);
  }

  controlPlaneLog() {
    try {
      return readFileSync(path.join(this.dir, "control-plane.log"), "utf8");
    } catch {
      return "";
    }
  }

  notifications() {
    try {
      return readFileSync(path.join(this.dir, "notify.log"), "utf8").trim().split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  agentLog(node) {
    try {
      return readFileSync(path.join(this.dir, `${node}-agent.log`), "utf8");
    } catch {
      return "";
    }
  }

  async until(what, check, limitMs = 30_000, everyMs = 50) {
    const begun = Date.now();
    while (!(await check().catch(() => false))) {
      if (Date.now() - begun > limitMs) throw new Error(`${what} did not happen within ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return Date.now() - begun;
  }

  /** Stops everything; the logs and agent state stay in `dir` when VIGIL_LAB_KEEP is set. */
  async stop() {
    await this.lab.down();
    this.checkout?.remove();
    if (!process.env.VIGIL_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
