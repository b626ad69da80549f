/**
 * haproxy.cfg to Vigil virtual services with the haproxy driver: `listen` sections and
 * `frontend` + `backend` pairs (bind address and port, `default_backend`), their `server`
 * lines (address:port, check, inter, rise, fall, weight, backup, disabled), `balance`, and
 * `option httpchk` / `http-check expect status`. The services join the cluster document they
 * are merged into, in the VIP group that holds their bind address. What cannot be carried
 * over is listed with file:line.
 */
import { readFileSync } from "node:fs";
import type { CheckInput, ClusterDocumentInput, RealServerInput } from "../../src/core/cluster.js";
import type { Scheduler } from "../../src/core/vocabulary.js";
import type { Note } from "./keepalived-notes.js";
import { ConfigSyntaxError, type Where } from "./keepalived-syntax.js";

interface Section {
  kind: string;
  name: string;
  at: Where;
  lines: { words: string[]; at: Where }[];
}

const BALANCE: Record<string, Scheduler> = { roundrobin: "wrr", "static-rr": "wrr", leastconn: "wlc", source: "sh" };
const ident = (text: string) =>
  text
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64) || "x";

/** haproxy.cfg's sections and their lines; `#` starts a comment. */
export function parseHaproxy(text: string, file: string): Section[] {
  const sections: Section[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, "").trimEnd();
    if (line.trim() === "") return;
    const words = line.trim().split(/\s+/);
    const at = { file, line: i + 1, col: line.length - line.trimStart().length + 1 };
    if (/^\S/.test(line)) {
      sections.push({ kind: words[0] ?? "", name: words[1] ?? "", at, lines: [{ words: words.slice(2), at }] });
      return;
    }
    const current = sections[sections.length - 1];
    if (!current)
      throw new ConfigSyntaxError(at, "a setting before any section (global, defaults, frontend, backend, listen)");
    current.lines.push({ words, at });
  });
  return sections;
}

/** A HAProxy time (`2000` is milliseconds; `2s`, `500ms`, `1m`) in seconds. */
export function seconds(text: string): number {
  const m = text.match(/^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)?$/);
  if (!m) return 2;
  const unit = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? "ms"] ?? 1e-3;
  return Number(m[1]) * unit;
}

/** `10.0.0.1:80`, `[fd00::1]:80`, `*:80`: address and port. */
function endpoint(text: string): { address: string; port: number } | null {
  const m = text.match(/^\[?([^\]]*?)\]?:(\d+)$/);
  return m ? { address: m[1] ?? "", port: Number(m[2]) } : null;
}

/**
 * Adds the file's services (and the checks they need) to a cluster document; each service goes
 * to the VIP group holding its bind address, and its checks are run by that group's members.
 */
export function importHaproxy(
  file: string,
  into: ClusterDocumentInput,
): { document: ClusterDocumentInput; notes: Note[] } {
  const notes: Note[] = [];
  const sections = parseHaproxy(readFileSync(file, "utf8"), file);
  const doc = structuredClone(into);
  const checks = doc.checks ?? [];
  const virtualServices = doc.virtualServices ?? [];
  const vipGroups = doc.vipGroups ?? [];
  Object.assign(doc, { checks, virtualServices, vipGroups });
  const groupOf = (address: string) => vipGroups.find((g) => g.vips.some((v) => v.cidr.split("/")[0] === address));
  const binds = new Map<string, { address: string; port: number; at: Where }>();
  for (const s of sections.filter((x) => x.kind === "frontend")) {
    const bind = s.lines.find((l) => l.words[0] === "bind");
    const backend = s.lines.find((l) => l.words[0] === "default_backend")?.words[1];
    const ep = bind ? endpoint(bind.words[1] ?? "") : null;
    if (backend && ep) binds.set(backend, { ...ep, at: s.at });
    for (const l of s.lines.filter((x) => x.words[0] === "use_backend"))
      notes.push({
        at: l.at,
        message: "use_backend rules: not carried over; only default_backend decides the address",
      });
  }
  for (const s of sections.filter((x) => x.kind === "backend" || x.kind === "listen")) {
    const listenBind = s.kind === "listen" ? s.lines.find((l) => l.words[0] === "bind") : undefined;
    const bind = listenBind
      ? { ...(endpoint(listenBind.words[1] ?? "") ?? { address: "", port: 0 }), at: listenBind.at }
      : binds.get(s.name);
    if (!bind?.port) {
      notes.push({
        at: s.at,
        message: `${s.kind} ${s.name}: no bind address (no listen bind or frontend default_backend); not imported`,
      });
      continue;
    }
    const group = groupOf(bind.address);
    if (!group) {
      notes.push({
        at: bind.at,
        message: `${s.kind} ${s.name}: no VIP group holds ${bind.address}; import the keepalived.conf first, then this; not imported`,
      });
      continue;
    }
    const members = group.members.map((m) => m.node);
    let scheduler: Scheduler = "wrr";
    let http: { path: string; expectStatus?: number[] } | null = null;
    for (const l of s.lines) {
      const [key, ...args] = l.words;
      if (key === "balance") {
        const mapped = BALANCE[args[0] ?? ""];
        if (mapped) scheduler = mapped;
        else notes.push({ at: l.at, message: `balance ${args[0]}: shown as wrr; HAProxy keeps its own algorithm` });
      } else if (key === "option" && args[0] === "httpchk") {
        const uri = args.length >= 3 ? args[2] : args[1]?.startsWith("/") ? args[1] : "/";
        http = { ...(http ?? {}), path: uri ?? "/" };
      } else if (key === "http-check" && args[0] === "expect" && args[1] === "status") {
        http = { ...(http ?? { path: "/" }), expectStatus: [Number(args[2])] };
      }
    }
    const servers: RealServerInput[] = [];
    for (const l of s.lines.filter((x) => x.words[0] === "server")) {
      const [, name = "", addr = "", ...opts] = l.words;
      const ep = endpoint(addr);
      if (!ep) {
        notes.push({ at: l.at, message: `server ${name}: "${addr}" is not address:port; not imported` });
        continue;
      }
      const opt = (k: string) => {
        const i = opts.indexOf(k);
        return i >= 0 ? opts[i + 1] : undefined;
      };
      if (opts.includes("backup"))
        notes.push({
          at: l.at,
          message: `server ${name} backup: imported as a normal server (Vigil has a sorry server per service instead)`,
        });
      const server: RealServerInput = {
        name: ident(name),
        address: ep.address,
        port: ep.port,
        weight: Number(opt("weight") ?? 1),
      };
      if (opts.includes("disabled")) server.weight = 0;
      if (opts.includes("check")) {
        const interval = seconds(opt("inter") ?? "2000");
        const schedule = {
          name: ident(`${s.name}-${name}`),
          interval: Math.max(1, interval),
          timeout: Math.max(0.1, Math.min(3, Math.max(1, interval) / 2)),
          rise: Number(opt("rise") ?? 2),
          fall: Number(opt("fall") ?? 3),
          observers: { agents: members },
        };
        const check: CheckInput = http ? { ...schedule, type: "http", ...http } : { ...schedule, type: "tcp" };
        checks.push(check);
        server.check = check.name;
      }
      servers.push(server);
    }
    virtualServices.push({
      name: ident(s.name),
      vipGroup: group.name,
      address: bind.address,
      port: bind.port,
      scheduler,
      forwarding: "nat",
      driver: { type: "haproxy", backend: ident(s.name) },
      realServers: servers,
    });
  }
  return { document: doc, notes };
}
