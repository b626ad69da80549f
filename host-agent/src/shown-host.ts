/**
 * `hostActions: "show"`: the commands that would change the host (`ip addr add/del`, `arping`,
 * `ipvsadm -R`) are logged, not run, and applied to an in-memory copy of the addresses and the
 * IPVS table, so the agent reads back what it would have done and reports it as done. For
 * trying Vigil without root (`npm run demo`); every other command (probes, allowed programs)
 * goes to the real runner. `"show-backends"` shows the IPVS commands only and runs the VIP
 * ones (a director whose kernel has no IPVS, as in the demo's namespace lab).
 */
import { parseSave, renderTable } from "./ipvs.js";
import type { Runner, RunResult } from "./runner.js";

const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
const FORWARD_NAME: Record<string, string> = { "-g": "Route", "-m": "Masq", "-i": "Tunnel" };
const LIST_NAME: Record<string, string> = { "-t": "TCP", "-u": "UDP", "-f": "FWM" };

export class ShownHost implements Runner {
  /** Interface -> its VIPs as `ip addr add` was given them (cidr, label). */
  private readonly addresses = new Map<string, Map<string, string | undefined>>();
  /** The IPVS table as `ipvsadm -S -n` would print it. */
  private ipvs: string[] = [];

  constructor(
    private readonly real: Runner,
    private readonly show: (line: string) => void,
    /** Whether the VIP commands are shown too, or run. */
    private readonly vips = true,
  ) {}

  async run(argv: readonly string[], input?: string): Promise<RunResult> {
    const [program, ...args] = argv;
    const line = argv.join(" ");
    if (!this.vips && program !== "ipvsadm") return this.real.run(argv, input);
    if (program === "ip" && args[0] === "-j" && args[1] === "addr" && args[2] === "show") {
      return ok(JSON.stringify([{ ifname: args[4], addr_info: this.addrInfo(args[4] ?? "") }]));
    }
    if (program === "ip" && args[0] === "addr" && (args[1] === "add" || args[1] === "del")) {
      const [, verb, cidr = "", , iface = "", , label] = args;
      const on = this.addresses.get(iface) ?? new Map<string, string | undefined>();
      this.addresses.set(iface, on);
      if (verb === "add" && on.has(cidr)) return { code: 2, stdout: "", stderr: "RTNETLINK answers: File exists" };
      if (verb === "del" && !on.has(cidr))
        return { code: 2, stdout: "", stderr: "RTNETLINK answers: Cannot assign requested address" };
      if (verb === "add") on.set(cidr, label);
      else on.delete(cidr);
      this.show(`shown, not applied: ${line}`);
      return ok();
    }
    if (program === "arping") {
      this.show(`shown, not applied: ${line}`);
      return ok();
    }
    if (program === "ipvsadm" && args[0] === "-R") {
      this.ipvs = restore(
        this.ipvs,
        (input ?? "").split("\n").filter((l) => l.trim() !== ""),
      );
      for (const l of (input ?? "").trim().split("\n")) this.show(`shown, not applied: ipvsadm ${l}`);
      return ok();
    }
    if (program === "ipvsadm" && args[0] === "-S") return ok(`${this.ipvs.join("\n")}\n`);
    if (program === "ipvsadm" && args[0] === "-L") return ok(listing(this.ipvs));
    return this.real.run(argv, input);
  }

  private addrInfo(iface: string) {
    return [...(this.addresses.get(iface) ?? new Map())].map(([cidr, label]) => {
      const [local = "", prefix = "32"] = cidr.split("/");
      return { local, prefixlen: Number(prefix), ...(label ? { label } : {}) };
    });
  }
}

/** Applies `ipvsadm -R` lines (-A/-E/-D services, -a/-e/-d real servers) to a saved table. */
function restore(saved: string[], lines: string[]): string[] {
  const table = parseSave(saved.join("\n"));
  for (const l of lines) {
    const words = l.trim().split(/\s+/);
    const [verb = "", kind = "", addr = ""] = words;
    const key = `${kind} ${addr}`;
    const flag = (name: string) => words[words.indexOf(name) + 1];
    if (verb === "-D") table.delete(key);
    else if (verb === "-A" || verb === "-E") {
      const parsed = parseSave(l.replace(/^-E/, "-A")).get(key);
      if (parsed) table.set(key, { ...parsed, servers: table.get(key)?.servers ?? new Map() });
    } else if (verb === "-d") table.get(key)?.servers.delete(flag("-r") ?? "");
    else if (verb === "-a" || verb === "-e") {
      const method = words.includes("-m") ? "-m" : words.includes("-i") ? "-i" : "-g";
      table.get(key)?.servers.set(flag("-r") ?? "", { method, weight: Number(flag("-w") ?? 1) });
    }
  }
  return renderTable(table);
}

/** The table as `ipvsadm -L -n` prints it, with no connections. */
function listing(saved: string[]): string {
  const out: string[] = [];
  for (const [key, s] of parseSave(saved.join("\n"))) {
    const [kind = "", addr = ""] = key.split(" ");
    out.push(`${LIST_NAME[kind] ?? kind}  ${addr} ${s.scheduler}`);
    for (const [server, w] of s.servers) out.push(`  -> ${server}  ${FORWARD_NAME[w.method]}  ${w.weight}  0  0`);
  }
  return `${out.join("\n")}\n`;
}
