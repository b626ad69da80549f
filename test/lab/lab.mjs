/**
 * The network lab: network namespaces on one isolated bridge, with no uplink and no default
 * route anywhere, so nothing in it can reach beyond 10.77.0.0/24.
 *
 *   <prefix>-sw      the switch: bridge br0, one port p-<node> per node, nftables table bridge vglab
 *   <prefix>-cp      the control plane (wrangler dev)    10.77.0.2
 *   <prefix>-lb1..3  directors running the agent         10.77.0.11..13
 *   <prefix>-web1..2 real servers                        10.77.0.21..22
 *   <prefix>-client  the client and the ARP capture      10.77.0.50
 *
 * Faults are nftables bridge rules in the switch: they drop ARP too, and the node's carrier stays up
 * (a silent failure: the node believes it is fine). Every process the lab starts is recorded
 * by PID and ended by PID; the namespaces are deleted on `down()` and on process exit. Each
 * lab records its prefix and owner's PID under /run/vigil-lab, so a lab whose owner was killed
 * outright (no exit handler runs) has its namespaces deleted when the next lab is created.
 * Needs root, ip (iproute2), nft (nftables), tcpdump, arping.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SUBNET = "10.77.0";
export const VIP = `${SUBNET}.100`;
const OCTETS = { cp: 2, lb1: 11, lb2: 12, lb3: 13, web1: 21, web2: 22, client: 50 };

export const addressOf = (node) => `${SUBNET}.${OCTETS[node]}`;
export const macOf = (node) => `02:77:00:00:00:${OCTETS[node].toString(16).padStart(2, "0")}`;

/** Where each lab records its owner's PID, by prefix. */
const OWNERS = "/run/vigil-lab";

/** Deletes the namespaces of labs whose owning process is gone (it was killed before it could clean up). */
function sweepOrphans() {
  let prefixes = [];
  try {
    prefixes = readdirSync(OWNERS);
  } catch {
    return;
  }
  const names = run(["ip", "netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter(Boolean);
  for (const prefix of prefixes) {
    const owner = Number(readFileSync(path.join(OWNERS, prefix), "utf8"));
    try {
      process.kill(owner, 0);
      continue; // Its owner still runs: the lab is in use.
    } catch {}
    for (const name of names.filter((n) => n.startsWith(`${prefix}-`)))
      try {
        run(["ip", "netns", "del", name]);
      } catch {}
    rmSync(path.join(OWNERS, prefix), { force: true });
  }
}

const run = (argv) => execFileSync(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });

/** What the lab needs from the host; a test fails (not skips) with this message when it is missing. */
export function labPrerequisites() {
  const missing = [];
  if (process.getuid?.() !== 0) missing.push("root");
  for (const tool of ["ip", "nft", "tcpdump", "arping"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      missing.push(tool);
    }
  }
  return missing;
}

export class Lab {
  /** @param {string[]} nodes */
  constructor(nodes) {
    this.prefix = `vg${randomBytes(3).toString("hex")}`;
    this.nodes = nodes;
    this.children = new Set();
    this.servers = new Map();
    this.cleanup = () => this.destroy();
    process.once("exit", this.cleanup);
  }

  ns(node) {
    return `${this.prefix}-${node}`;
  }

  /** Builds the switch and the nodes. */
  static create(nodes = ["cp", "lb1", "lb2", "client"]) {
    sweepOrphans();
    const lab = new Lab(nodes);
    mkdirSync(OWNERS, { recursive: true });
    writeFileSync(path.join(OWNERS, lab.prefix), String(process.pid));
    try {
      const sw = lab.ns("sw");
      run(["ip", "netns", "add", sw]);
      run(["ip", "-n", sw, "link", "set", "lo", "up"]);
      run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
      run(["ip", "-n", sw, "link", "set", "br0", "up"]);
      for (const node of nodes) {
        const ns = lab.ns(node);
        run(["ip", "netns", "add", ns]);
        run(["ip", "-n", ns, "link", "set", "lo", "up"]);
        run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", `p-${node}`, "netns", sw]);
        run(["ip", "-n", ns, "link", "set", "eth0", "address", macOf(node)]);
        run(["ip", "-n", ns, "addr", "add", `${addressOf(node)}/24`, "dev", "eth0"]);
        run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
        run(["ip", "-n", sw, "link", "set", `p-${node}`, "master", "br0"]);
        run(["ip", "-n", sw, "link", "set", `p-${node}`, "up"]);
      }
      lab.nft(["add", "table", "bridge", "vglab"]);
      lab.nft([
        "add",
        "chain",
        "bridge",
        "vglab",
        "forward",
        "{ type filter hook forward priority 0; policy accept; }",
      ]);
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Runs argv inside a node's namespace and waits for it. */
  exec(node, argv) {
    return run(["ip", "netns", "exec", this.ns(node), ...argv]);
  }

  /**
   * Starts a process inside a node's namespace (`ip netns exec` becomes the program itself, so
   * the PID is the program's). Output goes to `log` (a path) or is handed to `onLine`.
   */
  spawn(node, argv, { log = null, onLine = null, env = {}, cwd = undefined, group = false } = {}) {
    const child = spawn("ip", ["netns", "exec", this.ns(node), ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
      cwd,
      detached: group,
    });
    this.adopt(child, group);
    if (log) {
      const out = createWriteStream(log, { flags: "a" });
      child.stdout.pipe(out);
      child.stderr.pipe(out);
    }
    if (onLine) {
      createInterface({ input: child.stdout }).on("line", onLine);
      createInterface({ input: child.stderr }).on("line", (line) => onLine(line, "stderr"));
    }
    return child;
  }

  /** Records a process (or, with `group`, its process group) as the lab's to end. */
  adopt(child, group = false) {
    child.vigilGroup = group;
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Sends a signal to a process this lab started (its group too, when it has one) and waits for its exit. */
  async signal(child, signal = "SIGTERM", waitMs = 10_000) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const send = (sig) => {
      try {
        process.kill(child.vigilGroup ? -child.pid : child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    send(signal);
    const timer = setTimeout(() => send("SIGKILL"), waitMs);
    await exited;
    clearTimeout(timer);
  }

  /** Starts the HTTP server on a node's :80 that answers with the node's name. */
  startServer(node) {
    this.servers.set(node, this.spawn(node, [process.execPath, path.join(here, "name-server.mjs"), node, "80"]));
  }

  /** Whether a node's web server, started by startServer, is running. */
  serving(node) {
    return this.servers.has(node);
  }

  async stopServer(node) {
    const child = this.servers.get(node);
    if (child) await this.signal(child);
    this.servers.delete(node);
  }

  /** Starts the client loop against the VIP (every 50 ms) and returns its answers as they come. */
  startClient() {
    const answers = [];
    this.client = this.spawn(
      "client",
      [process.execPath, path.join(here, "client.mjs"), `http://${VIP}/`, "50", "200"],
      {
        onLine: (line, stream) => {
          if (stream !== "stderr" && line.startsWith("{")) answers.push(JSON.parse(line));
        },
      },
    );
    return answers;
  }

  async stopClient() {
    if (this.client) await this.signal(this.client);
  }

  /** Which of `directors` hold the VIP, as their own interfaces say. */
  async holders(directors) {
    const held = await Promise.all(directors.map((d) => this.holds(d)));
    return directors.filter((_, i) => held[i]);
  }

  /** Drops every frame to and from a node at the switch; its link stays up. */
  isolate(node) {
    this.nft(["add", "rule", "bridge", "vglab", "forward", "iifname", `p-${node}`, "drop"]);
    this.nft(["add", "rule", "bridge", "vglab", "forward", "oifname", `p-${node}`, "drop"]);
  }

  /** Drops every frame between two nodes, both ways. */
  partition(a, b) {
    this.nft(["add", "rule", "bridge", "vglab", "forward", "iifname", `p-${a}`, "oifname", `p-${b}`, "drop"]);
    this.nft(["add", "rule", "bridge", "vglab", "forward", "iifname", `p-${b}`, "oifname", `p-${a}`, "drop"]);
  }

  /** Removes every isolation and partition. */
  heal() {
    this.nft(["flush", "chain", "bridge", "vglab", "forward"]);
  }

  nft(args) {
    run(["ip", "netns", "exec", this.ns("sw"), "nft", ...args]);
  }

  /** Whether a node's eth0 carries `address` right now. */
  holds(node, address = VIP) {
    return new Promise((resolve) => {
      execFile("ip", ["-n", this.ns(node), "-j", "addr", "show", "dev", "eth0"], (err, stdout) => {
        if (err) return resolve(false);
        const links = JSON.parse(stdout || "[]");
        resolve(links.some((l) => (l.addr_info ?? []).some((a) => a.local === address)));
      });
    });
  }

  /**
   * Reads every director's addresses every `everyMs`; each sample is {t, holders}. All
   * directors are read at once, so two holders in one sample means both had the VIP together.
   */
  sampler(directors, everyMs = 50) {
    const samples = [];
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        const t = Date.now();
        const held = await Promise.all(directors.map((d) => this.holds(d)));
        samples.push({ t, holders: directors.filter((_, i) => held[i]) });
        await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - t))));
      }
    };
    const done = loop();
    return {
      samples,
      stop: async () => {
        stopped = true;
        await done;
      },
    };
  }

  /** Records ARP on the client's link: every gratuitous ARP for the VIP, with who sent it. */
  async arpCapture() {
    const macs = new Map(this.nodes.map((n) => [macOf(n), n]));
    const garps = [];
    let ready;
    const listening = new Promise((resolve) => {
      ready = resolve;
    });
    const child = this.spawn("client", ["tcpdump", "-i", "eth0", "-n", "-l", "-e", "-tt", "arp"], {
      onLine: (line, stream) => {
        if (stream === "stderr") {
          if (line.includes("listening on")) ready();
          return;
        }
        // 1700000000.123456 02:77:00:00:00:11 > ff:ff:ff:ff:ff:ff, ethertype ARP ... Request who-has 10.77.0.100 ... tell 10.77.0.100
        const m = line.match(/^(\d+\.\d+) ([0-9a-f:]{17}) > .*(?:who-has (\S+).* tell (\S+)|Reply (\S+) is-at)/);
        if (!m) return;
        const gratuitous = (m[3] === VIP && m[4]?.replace(/,$/, "") === VIP) || m[5] === VIP;
        if (gratuitous) garps.push({ t: Math.round(Number(m[1]) * 1000), from: macs.get(m[2]) ?? m[2] });
      },
    });
    await Promise.race([listening, new Promise((r) => setTimeout(r, 5000))]);
    return { garps, stop: () => this.signal(child) };
  }

  /** Ends what this lab started, by PID, and deletes its namespaces. Safe to call twice. */
  async down() {
    await Promise.all([...this.children].map((c) => this.signal(c, "SIGTERM", 5000)));
    this.destroy();
  }

  destroy() {
    for (const child of this.children) {
      try {
        process.kill(child.vigilGroup ? -child.pid : child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    for (const node of ["sw", ...this.nodes]) {
      try {
        execFileSync("ip", ["netns", "del", this.ns(node)], { stdio: "ignore" });
      } catch {
        // Not created, or already deleted.
      }
    }
    rmSync(path.join(OWNERS, this.prefix), { force: true });
    process.removeListener("exit", this.cleanup);
  }
}
