/**
 * The demo's directors: the built agent (host-agent/dist/vigil-agent.cjs), enrolled with a
 * one-time token from the API and run as a child process with its own state directory. In the
 * namespace lab (root) each runs inside its director's namespace and claims the VIP for real,
 * with `hostActions: "show-backends"` (no IPVS in the kernel needed); without root they run with
 * `hostActions: "show"`: what they would do to the host is logged, not done.
 */
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "../control-plane.mjs";
import { endChild } from "./plumbing.mjs";

const bundle = path.join(root, "host-agent/dist/vigil-agent.cjs");

export class DemoAgent {
  /**
   * `onLine(line)` gets each line the agent logs; `inside(argv)` runs argv where the agent runs
   * (its namespace), `agentUrl` is the control plane as seen from there.
   */
  constructor({ node, dir, url, agentUrl = url, cluster, peerPort, hostActions, inside = (argv) => argv, onLine }) {
    Object.assign(this, { node, dir, url, agentUrl, cluster, peerPort, hostActions, inside, onLine });
    this.config = path.join(dir, `${node}.json`);
    this.child = null;
    /** The last lines the agent logged, and why it ended if it ended without being stopped. */
    this.tail = [];
    this.ended = null;
  }

  /** Enrolls with a one-time token and writes the agent's config. */
  enroll(token) {
    const out = spawnSync(
      process.execPath,
      [
        bundle,
        "enroll",
        "--url",
        this.url,
        "--node",
        this.node,
        "--config",
        this.config,
        "--state-dir",
        this.stateDir(),
      ],
      { encoding: "utf8", env: { ...process.env, VIGIL_ENROLL_TOKEN: token } },
    );
    if (out.status !== 0) throw new Error(`enrolling ${this.node} failed: ${out.stderr || out.stdout}`);
    const written = JSON.parse(readFileSync(this.config, "utf8"));
    writeFileSync(
      this.config,
      JSON.stringify(
        { ...written, url: this.agentUrl, heartbeat: 2, peerPort: this.peerPort, hostActions: this.hostActions },
        null,
        2,
      ),
      { mode: 0o600 },
    );
  }

  stateDir() {
    return path.join(this.dir, `${this.node}-state`);
  }

  start() {
    const log = createWriteStream(path.join(this.dir, `${this.node}-agent.log`), { flags: "a" });
    const [program, ...args] = this.inside([process.execPath, bundle, "run", "--config", this.config]);
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    let partial = "";
    const read = (chunk) => {
      log.write(chunk);
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        this.tail = [...this.tail.slice(-4), line];
        this.onLine(line);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code, signal) => {
      if (this.child === child) this.ended = `exited with ${signal ?? code}`;
    });
    this.child = child;
    this.ended = null;
  }

  /** Why the agent is not running though the demo did not stop it, with its last lines; null while it runs. */
  failure() {
    if (this.ended === null) return null;
    return `${this.node}'s agent ${this.ended}; its last lines:\n  ${this.tail.join("\n  ")}`;
  }

  /** Stops the agent (SIGKILL: as a crash, nothing given back) and waits for it to end. */
  async stop(signal = "SIGTERM") {
    const child = this.child;
    this.child = null;
    await endChild(child, signal);
  }
}
