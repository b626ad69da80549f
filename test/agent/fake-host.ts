/**
 * A stateful fake of a director for tests that need no root: interfaces with their addresses
 * and link state, the gratuitous ARP sent, an IPVS table, HAProxy's backends and servers, and
 * the hook programs that exist. It answers the argv the agent runs (`ip -j addr show`,
 * `ip addr add|del`, `ip -o link show`, `arping -U`, `ipvsadm -S -n`, `ipvsadm -R`, its sync daemons) and the
 * runtime API lines the HAProxy driver sends (`haproxy`, a Send) from that state, changes it
 * as the real tools do, errors included, records every call, and fails loudly on anything it
 * does not model. The root tests run the same agent code against the real `ip`, `arping`
 * (test/lab, test/agent/vip.test.ts), `ipvsadm` (test/ipvs) and `haproxy` (test/agent/haproxy.test.ts).
 */
import type { Send } from "../../host-agent/src/haproxy.js";
import type { Runner, RunResult } from "../../host-agent/src/runner.js";

interface Interface {
  addresses: { address: string; prefixlen: number; label?: string }[];
  up: boolean;
}

interface IpvsEntry {
  scheduler: string;
  persistence: string;
  servers: Map<string, { method: string; weight: number }>;
}

interface HaproxyServer {
  address: string;
  port: number;
  weight: number;
  /** srv_admin_state bits: 0x01 maintenance (forced), 0x08 drain (forced). */
  admin: number;
  sessions: number;
}

const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
const fail = (code: number, stderr: string): RunResult => ({ code, stdout: "", stderr });

export class FakeHost implements Runner {
  readonly calls: string[][] = [];
  /** Gratuitous ARP sent, in order: `interface address`. */
  readonly arp: string[] = [];
  readonly interfaces = new Map<string, Interface>();
  readonly ipvs = new Map<string, IpvsEntry>();
  /** The IPVS sync daemons running, by role: "mcast=eth1, syncid=5". */
  readonly syncDaemons = new Map<"master" | "backup", string>();
  /** HAProxy's backends: backend -> server -> state. */
  readonly backends = new Map<string, Map<string, HaproxyServer>>();
  /** Runtime API lines received, in order. */
  readonly haproxyLines: string[] = [];
  private readonly programs: Set<string>;

  constructor(
    options: {
      interfaces?: string[];
      programs?: string[];
      backends?: Record<string, { name: string; address: string; port: number; weight?: number }[]>;
    } = {},
  ) {
    for (const name of options.interfaces ?? ["eth0"]) this.interfaces.set(name, { addresses: [], up: true });
    this.programs = new Set(options.programs ?? []);
    for (const [backend, servers] of Object.entries(options.backends ?? {}))
      this.backends.set(
        backend,
        new Map(
          servers.map((s) => [
            s.name,
            { address: s.address, port: s.port, weight: s.weight ?? 1, admin: 0, sessions: 0 },
          ]),
        ),
      );
  }

  /** HAProxy's runtime API, one command per call, as the driver's socket sender speaks it. */
  readonly haproxy: Send = async (line) => {
    this.haproxyLines.push(line);
    return this.runtimeApi(line.trim().split(/\s+/));
  };

  private runtimeApi(words: string[]): string {
    const [verb, what, target = "", ...rest] = words;
    if (verb === "show" && what === "servers" && target === "state") {
      const backend = this.backends.get(rest[0] ?? "");
      if (!backend) return "Can't find backend.\n";
      const rows = [...backend].map(
        ([name, s], i) =>
          `3 ${rest[0]} ${i + 1} ${name} ${s.address} ${s.admin & 0x01 ? 0 : 2} ${s.admin} ${s.weight} ${s.port}`,
      );
      return `1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_port\n${rows.join("\n")}\n`;
    }
    if (verb === "show" && what === "stat") {
      const backend = this.backends.get(target);
      if (!backend) return "Can't find backend.\n";
      const rows = [...backend].map(([name, s]) => `${target},${name},0,0,${s.sessions}`);
      return `# pxname,svname,qcur,qmax,scur\n${rows.join("\n")}\n`;
    }
    const [backendName = "", serverName = ""] = target.split("/");
    const backend = this.backends.get(backendName);
    if ((verb === "set" || verb === "add" || verb === "del") && !backend) return "No such backend.\n";
    const server = backend?.get(serverName);
    if (verb === "add" && what === "server" && backend) {
      if (server) return "Already exists a server with the same name in backend.\n";
      const m = (rest[0] ?? "").match(/^\[?([^\]]*?)\]?:(\d+)$/);
      if (!m) return "Invalid address.\n";
      const weight = rest[1] === "weight" ? Number(rest[2]) : 1;
      // Servers added at runtime start in maintenance, as HAProxy's do.
      backend.set(serverName, { address: m[1] ?? "", port: Number(m[2]), weight, admin: 0x01, sessions: 0 });
      return "New server registered.\n";
    }
    if (!server || !backend) return "No such server.\n";
    if (verb === "del" && what === "server") {
      if (!(server.admin & 0x01)) return "Only servers in maintenance mode can be deleted.\n";
      backend.delete(serverName);
      return "Server deleted.\n";
    }
    if (verb === "set" && what === "weight") {
      server.weight = Number(rest[0]);
      return "";
    }
    if (verb === "set" && what === "server" && rest[0] === "state") {
      const bits = { ready: 0, drain: 0x08, maint: 0x01 }[rest[1] ?? ""];
      if (bits === undefined) return "Require 'ready', 'drain' or 'maint'.\n";
      server.admin = bits;
      return "";
    }
    if (verb === "set" && what === "server" && rest[0] === "addr") {
      server.address = rest[1] ?? "";
      if (rest[2] === "port") server.port = Number(rest[3]);
      return `IP changed for server ${target}.\n`;
    }
    throw new Error(`the fake host does not model the runtime API line: ${words.join(" ")}`);
  }

  /** The addresses on an interface, as `address/prefixlen`. */
  addresses(name = "eth0"): string[] {
    return (this.interfaces.get(name)?.addresses ?? []).map((a) => `${a.address}/${a.prefixlen}`);
  }

  async run(argv: readonly string[], input?: string): Promise<RunResult> {
    this.calls.push([...argv]);
    const [cmd, ...args] = argv;
    if (cmd === "ip") return this.ip(args);
    if (cmd === "arping") return this.arping(args);
    if (cmd === "ipvsadm") return this.ipvsadm(args, input);
    if (cmd !== undefined && this.programs.has(cmd)) return ok();
    throw new Error(`the fake host does not model ${argv.join(" ")}`);
  }

  private ip(args: string[]): RunResult {
    const words = args.join(" ");
    let m = words.match(/^-j addr show dev (\S+)$/);
    if (m) {
      const iface = this.interfaces.get(m[1] as string);
      if (!iface) return fail(1, `Device "${m[1]}" does not exist.`);
      const addr_info = iface.addresses.map((a) => ({ local: a.address, prefixlen: a.prefixlen, label: a.label }));
      return ok(JSON.stringify([{ ifname: m[1], addr_info }]));
    }
    m = words.match(/^-o link show dev (\S+)$/);
    if (m) {
      const iface = this.interfaces.get(m[1] as string);
      if (!iface) return fail(1, `Device "${m[1]}" does not exist.`);
      const flags = iface.up ? "BROADCAST,MULTICAST,UP,LOWER_UP" : "BROADCAST,MULTICAST";
      return ok(`2: ${m[1]}: <${flags}> mtu 1500 qdisc noqueue state ${iface.up ? "UP" : "DOWN"} mode DEFAULT\n`);
    }
    m = words.match(/^addr (add|del) (\S+)\/(\d+) dev (\S+)(?: label (\S+))?$/);
    if (m) {
      const [, verb, address, prefix, name, label] = m;
      const iface = this.interfaces.get(name as string);
      if (!iface) return fail(1, `Cannot find device "${name}"`);
      const at = iface.addresses.findIndex((a) => a.address === address);
      if (verb === "add") {
        if (at >= 0) return fail(2, "RTNETLINK answers: File exists");
        iface.addresses.push({ address: address as string, prefixlen: Number(prefix), ...(label ? { label } : {}) });
      } else {
        if (at < 0) return fail(2, "RTNETLINK answers: Cannot assign requested address");
        iface.addresses.splice(at, 1);
      }
      return ok();
    }
    throw new Error(`the fake host does not model ip ${words}`);
  }

  private arping(args: string[]): RunResult {
    const m = args.join(" ").match(/^-U -c 1 -I (\S+) (\S+)$/);
    if (!m) throw new Error(`the fake host does not model arping ${args.join(" ")}`);
    if (!this.interfaces.has(m[1] as string)) return fail(2, `arping: ${m[1]}: No such device`);
    this.arp.push(`${m[1]} ${m[2]}`);
    return ok();
  }

  private ipvsadm(args: string[], input: string | undefined): RunResult {
    const words = args.join(" ");
    if (words === "-S -n") return ok(this.saved());
    if (words === "-L --daemon")
      return ok([...this.syncDaemons].map(([role, at]) => `${role} sync daemon (${at}, maxlen=1472)\n`).join(""));
    const start = words.match(/^--start-daemon (master|backup) --mcast-interface (\S+) --syncid (\d+)$/);
    if (start) {
      const role = start[1] as "master" | "backup";
      if (this.syncDaemons.has(role)) return fail(255, "Daemon has already run");
      if (!this.interfaces.has(start[2] as string)) return fail(255, "No such device");
      this.syncDaemons.set(role, `mcast=${start[2]}, syncid=${start[3]}`);
      return ok();
    }
    const stop = words.match(/^--stop-daemon (master|backup)$/);
    if (stop) return this.syncDaemons.delete(stop[1] as "master" | "backup") ? ok() : fail(255, "No daemon is running");
    if (words !== "-R") throw new Error(`the fake host does not model ipvsadm ${words}`);
    const errors: string[] = [];
    for (const line of (input ?? "").split("\n").filter((l) => l.trim() !== "")) {
      const problem = this.restoreLine(line);
      if (problem) errors.push(problem);
    }
    // As the real one: exit 0, complaints on stderr.
    return { code: 0, stdout: "", stderr: errors.join("\n") };
  }

  /** One `ipvsadm -R` line; what ipvsadm would complain, or null. */
  private restoreLine(line: string): string | null {
    const m = line.match(/^(-[AEDaed]) (-[tuf] \S+)(.*)$/);
    if (!m) return `ipvsadm: invalid line: ${line}`;
    const [, op, key, rest = ""] = m as [string, string, string, string];
    const flag = (name: string) => rest.match(new RegExp(`${name} (\\S+)`))?.[1];
    const service = this.ipvs.get(key);
    if (op === "-A" || op === "-E") {
      if (op === "-A" && service) return "Service already exists";
      if (op === "-E" && !service) return "No such service";
      const persistence = [rest.match(/-p \d+/)?.[0], rest.match(/-M \S+/)?.[0]].filter(Boolean).join(" ");
      this.ipvs.set(key, { scheduler: flag("-s") ?? "wlc", persistence, servers: service?.servers ?? new Map() });
      return null;
    }
    if (op === "-D") return this.ipvs.delete(key) ? null : "No such service";
    if (!service) return "Service not defined";
    const server = flag("-r");
    if (!server) return `ipvsadm: no real server in: ${line}`;
    if (op === "-d") return service.servers.delete(server) ? null : "No such destination";
    if (op === "-a" && service.servers.has(server)) return "Destination already exists";
    if (op === "-e" && !service.servers.has(server)) return "No such destination";
    const method = rest.match(/ (-[gmi])\b/)?.[1] ?? "-g";
    service.servers.set(server, { method, weight: Number(flag("-w") ?? 1) });
    return null;
  }

  /** The table as `ipvsadm -S -n` prints it. */
  private saved(): string {
    const lines: string[] = [];
    for (const [key, s] of this.ipvs) {
      lines.push(`-A ${key} -s ${s.scheduler}${s.persistence ? ` ${s.persistence}` : ""}`);
      for (const [server, d] of s.servers) lines.push(`-a ${key} -r ${server} ${d.method} -w ${d.weight}`);
    }
    return lines.map((l) => `${l}\n`).join("");
  }
}
