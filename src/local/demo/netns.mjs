/**
 * The demo's namespace lab, when it runs as root: the two directors in their own network
 * namespaces on one isolated bridge (no uplink, no route out), each with eth0 on 10.78.0.0/24,
 * where the agent claims the VIP with the real `ip` and `arping`. The agents reach the control
 * plane (on this host's loopback) through a Unix socket: a forwarder in each namespace listens
 * on its 127.0.0.1 and hands every connection to the socket, which this process joins to the API.
 * Everything it made is removed on `down()`.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { close, endChild, joinTo, listen } from "./plumbing.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const run = (argv) => execFileSync(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
export const SUBNET = "10.78.0";
const OCTET = { lb1: 11, lb2: 12 };
export const addressOf = (node) => `${SUBNET}.${OCTET[node]}`;

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable() {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["ip", "arping"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

export class DemoLab {
  constructor(dir) {
    this.prefix = `vgdemo-${randomBytes(2).toString("hex")}`;
    this.dir = dir;
    this.made = [];
    this.children = new Set();
    this.server = null;
  }

  ns(node) {
    return `${this.prefix}-${node}`;
  }

  /** Builds the bridge and the directors' namespaces, and joins their 127.0.0.1:`port` to the API on `port`. */
  static async create(dir, directors, port) {
    const lab = new DemoLab(dir);
    try {
      const sw = lab.ns("sw");
      lab.add(sw);
      run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
      run(["ip", "-n", sw, "link", "set", "br0", "up"]);
      for (const node of directors) {
        const ns = lab.ns(node);
        lab.add(ns);
        run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", `p-${node}`, "netns", sw]);
        run(["ip", "-n", ns, "addr", "add", `${addressOf(node)}/24`, "dev", "eth0"]);
        run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
        run(["ip", "-n", sw, "link", "set", `p-${node}`, "master", "br0"]);
        run(["ip", "-n", sw, "link", "set", `p-${node}`, "up"]);
      }
      const socket = path.join(dir, "api.sock");
      lab.server = net.createServer((inbound) => joinTo(inbound, net.connect({ host: "127.0.0.1", port })));
      await listen(lab.server, socket);
      for (const node of directors) {
        const child = spawn(
          "ip",
          ["netns", "exec", lab.ns(node), process.execPath, path.join(here, "forward.mjs"), String(port), socket],
          { stdio: "ignore" },
        );
        lab.children.add(child);
      }
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  add(ns) {
    run(["ip", "netns", "add", ns]);
    this.made.push(ns);
    run(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }

  /** The argv that runs `argv` inside a director's namespace. */
  inside(node, argv) {
    return ["ip", "netns", "exec", this.ns(node), ...argv];
  }

  /** The addresses on a director's eth0, as `ip` lists them. */
  addresses(node) {
    const links = JSON.parse(run(["ip", "-n", this.ns(node), "-j", "addr", "show", "dev", "eth0"]) || "[]");
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
  }

  async down() {
    await Promise.all([...this.children].map((child) => endChild(child)));
    this.children.clear();
    if (this.server) await close(this.server);
    for (const ns of this.made.reverse()) {
      try {
        run(["ip", "netns", "del", ns]);
      } catch {
        // Already gone.
      }
    }
    this.made = [];
    rmSync(path.join(this.dir, "api.sock"), { force: true });
  }
}
