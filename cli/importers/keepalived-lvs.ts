/**
 * keepalived's LVS side: `virtual_server` with its real servers and their checkers, as one
 * director wrote it. Timing set on the virtual_server or the real_server holds for the checkers
 * under it unless they set their own, as in keepalived.
 */
import type { RealServerInput } from "../../src/core/cluster.js";
import { checksOf } from "../../src/core/virtual-service.js";
import { PROTOCOLS, SCHEDULERS } from "../../src/core/vocabulary.js";
import {
  type CheckDraft,
  exec,
  FORWARDING,
  type ImportedType,
  ident,
  isOneOf,
  num,
  type ServiceDraft,
} from "./keepalived-drafts.js";
import { type Notebook, where } from "./keepalived-notes.js";
import type { Stmt, Where } from "./keepalived-syntax.js";
import { type GivenTiming, type TimedKind, vigilTiming } from "./keepalived-timing.js";

export interface LvsContext {
  note(at: Where, message: string): void;
  /** The name of the check with these settings, made once for every real server that uses it. */
  check(draft: Omit<CheckDraft, "name" | "agents">, nameHint: string, node: string): string;
  /** smtp_alert in a virtual_server, or in one of its real servers. */
  smtpAlert(d: Stmt, service: string, server?: string): void;
}

/** A real server as one director has it, with where each of its settings was written. */
export interface ServerDraft extends RealServerInput {
  at: Where;
}

export type LocalService = Omit<ServiceDraft, "realServers"> & {
  realServers: ServerDraft[];
  fields: Record<string, Where>;
};

const CHECKERS: Record<string, ImportedType> = {
  TCP_CHECK: "tcp",
  HTTP_GET: "http",
  SSL_GET: "https",
  SMTP_CHECK: "smtp",
  MISC_CHECK: "script",
};

/** What may be written above a checker; a MISC_CHECK's script is timed by misc_timeout alone. */
type Written = GivenTiming & { miscTimeout?: number };

/** Reads a timing word into `given`; false when the word is not one. */
function timingWord(d: Stmt, given: Written): boolean {
  switch (d.key) {
    case "delay_loop":
      given.interval = num(d);
      return true;
    case "connect_timeout":
      given.timeout = num(d);
      return true;
    case "misc_timeout":
      given.miscTimeout = num(d);
      return true;
    case "retry":
    case "nb_get_retry":
      given.retries = num(d);
      return true;
    case "delay_before_retry":
      given.delayBeforeRetry = num(d);
      return true;
    default:
      return false;
  }
}

export function readVirtualServer(s: Stmt, node: string, ctx: LvsContext): LocalService | null {
  if (s.args[0] === "group") {
    ctx.note(s.at, "virtual_server group: not carried over; list each address as its own virtual_server");
    return null;
  }
  const fwmark = s.args[0] === "fwmark" ? Number(s.args[1]) : undefined;
  const address = fwmark === undefined ? s.args[0] : undefined;
  const port = fwmark === undefined ? Number(s.args[1]) : undefined;
  const vs: LocalService = {
    name: ident(fwmark !== undefined ? `fwm-${fwmark}` : `${address}-${port}`),
    ...(fwmark !== undefined ? { fwmark } : { address: address ?? "", port: port ?? 0 }),
    realServers: [],
    at: s.at,
    fields: {},
  };
  const timing: Written = {};
  const servers: Stmt[] = [];
  for (const d of s.block ?? []) {
    vs.fields[d.key] = d.at;
    if (timingWord(d, timing)) continue;
    switch (d.key) {
      case "lb_algo":
      case "lvs_sched": {
        const scheduler = d.args[0] ?? "";
        if (isOneOf(SCHEDULERS, scheduler)) vs.scheduler = scheduler;
        else
          ctx.note(d.at, `${d.key} ${scheduler}: not an IPVS scheduler (${SCHEDULERS.join(", ")}); not carried over`);
        break;
      }
      case "lb_kind":
      case "lvs_method": {
        const method = FORWARDING[(d.args[0] ?? "").toUpperCase()];
        if (method) vs.forwarding = method;
        else ctx.note(d.at, `${d.key} ${d.args[0]}: expected ${Object.keys(FORWARDING).join(", ")}; not carried over`);
        break;
      }
      case "persistence_timeout":
        vs.persistence = { ...vs.persistence, timeout: num(d) };
        break;
      case "persistence_granularity":
        vs.persistence = { timeout: 360, ...vs.persistence, netmask: d.args[0] ?? "" };
        break;
      case "protocol": {
        const protocol = (d.args[0] ?? "tcp").toLowerCase();
        if (isOneOf(PROTOCOLS, protocol)) vs.protocol = protocol;
        else ctx.note(d.at, `protocol ${d.args[0]}: expected TCP or UDP; not carried over`);
        break;
      }
      case "sorry_server":
        vs.sorryServer = { address: d.args[0] ?? "", ...(d.args[1] ? { port: Number(d.args[1]) } : {}) };
        break;
      case "quorum":
        vs.minHealthy = num(d);
        break;
      case "inhibit_on_failure":
        vs.inhibitOnFailure = true;
        break;
      case "real_server":
        servers.push(d);
        break;
      case "smtp_alert":
        ctx.smtpAlert(d, vs.name);
        break;
      default:
        ctx.note(d.at, `virtual_server ${d.key}: not carried over`);
    }
  }
  for (const rs of servers) vs.realServers.push(realServer(vs, rs, timing, node, ctx));
  return vs;
}

function realServer(vs: LocalService, s: Stmt, inherited: Written, node: string, ctx: LvsContext): ServerDraft {
  const [address = "", portText] = s.args;
  const port = Number(portText ?? vs.port ?? 0);
  const rs: ServerDraft = { name: ident(`${address}-${port}`), address, port, weight: 1, at: s.at };
  const timing: Written = { ...inherited };
  const checkers: Stmt[] = [];
  for (const d of s.block ?? []) {
    if (timingWord(d, timing)) continue;
    if (d.key === "weight") rs.weight = num(d);
    else if (d.key === "notify_up" || d.key === "notify_down")
      ctx.note(d.at, `${d.key}: use a webhook or email subscription on target.up / target.down events instead`);
    else if (d.key in CHECKERS) checkers.push(d);
    else if (d.key === "smtp_alert") ctx.smtpAlert(d, vs.name, rs.name);
    else ctx.note(d.at, `real_server ${d.key}: not carried over`);
  }
  // Several checkers must all pass, as in keepalived: the server is down when any one fails.
  const names = [...new Set(checkers.map((d) => checker(d, rs, timing, node, ctx)))];
  if (names.length === 1) rs.check = names[0];
  else if (names.length > 1) rs.checks = names;
  return rs;
}

/** A real server's checker becomes a Vigil check run by the directors' agents. */
function checker(s: Stmt, rs: RealServerInput, inherited: Written, node: string, ctx: LvsContext): string {
  const type = CHECKERS[s.key] ?? "tcp";
  const given: Written = { ...inherited };
  const check: Omit<CheckDraft, "name" | "agents"> = { type, interval: 0, rise: 1, fall: 1 };
  for (const d of s.block ?? []) {
    if (timingWord(d, given)) continue;
    switch (d.key) {
      case "connect_port":
        check.connectPort = num(d);
        break;
      case "misc_path":
        check.exec = exec(d.args);
        break;
      case "helo_name":
        check.helo = d.args[0] ?? "";
        break;
      case "url":
        for (const u of d.block ?? []) {
          if (u.key === "path") check.path = u.args[0] ?? "/";
          else if (u.key === "status_code") check.expectStatus = [num(u)];
          else if (u.key === "digest") check.digest = u.args[0] ?? "";
          else ctx.note(u.at, `url ${u.key}: not carried over`);
        }
        break;
      default:
        ctx.note(d.at, `${s.key} ${d.key}: not carried over`);
    }
  }
  const { miscTimeout, timeout, ...rest } = given;
  const kind = s.key as TimedKind;
  const own = kind === "MISC_CHECK" ? miscTimeout : timeout;
  const { timing, changes } = vigilTiming(kind, own === undefined ? rest : { ...rest, timeout: own });
  for (const change of changes) ctx.note(s.at, `${s.key}: ${change}`);
  Object.assign(check, timing);
  const what =
    type === "script" ? (check.exec?.path.split("/").pop() ?? "script") : String(check.connectPort ?? rs.port);
  return ctx.check(check, `${type}-${what}`, node);
}

/** The same virtual_server on a later director: every setting and real server compared. */
export function sameService(kept: LocalService, local: LocalService, book: Notebook): void {
  const service = `virtual_server ${kept.fwmark !== undefined ? `fwmark ${kept.fwmark}` : `${kept.address} ${kept.port}`}`;
  const fields = [
    "scheduler",
    "forwarding",
    "protocol",
    "persistence",
    "sorryServer",
    "minHealthy",
    "inhibitOnFailure",
  ] as const;
  const said = (vs: LocalService, f: (typeof fields)[number]) =>
    vs[f] === undefined ? "(not set)" : typeof vs[f] === "object" ? JSON.stringify(vs[f]) : String(vs[f]);
  for (const f of fields) {
    book.first(`${service} ${f}`, said(kept, f), fieldAt(kept, f));
    book.agree(`${service} ${f}`, said(local, f), fieldAt(local, f));
  }
  const byName = new Map(local.realServers.map((rs) => [rs.name, rs]));
  for (const rs of kept.realServers) {
    const other = byName.get(rs.name);
    if (!other) {
      book.note(local.at, `${service}: real_server ${rs.address} ${rs.port} is only at ${where(rs.at)}; kept`);
      continue;
    }
    const checks = (x: ServerDraft) => checksOf(x).join(", ") || "(none)";
    for (const [f, value] of [
      ["weight", (x: ServerDraft) => String(x.weight ?? 1)],
      ["checks", checks],
    ] as const) {
      book.first(`${service} real_server ${rs.name} ${f}`, value(rs), rs.at);
      book.agree(`${service} real_server ${rs.name} ${f}`, value(other), other.at);
    }
  }
  const keptNames = new Set(kept.realServers.map((rs) => rs.name));
  for (const rs of local.realServers)
    if (!keptNames.has(rs.name)) {
      book.note(rs.at, `${service}: real_server ${rs.address} ${rs.port} is only in this file; added`);
      kept.realServers.push(rs);
    }
}

function fieldAt(vs: LocalService, field: string): Where {
  const words: Record<string, string[]> = {
    scheduler: ["lb_algo", "lvs_sched"],
    forwarding: ["lb_kind", "lvs_method"],
    protocol: ["protocol"],
    persistence: ["persistence_timeout", "persistence_granularity"],
    sorryServer: ["sorry_server"],
    minHealthy: ["quorum"],
    inhibitOnFailure: ["inhibit_on_failure"],
  };
  for (const w of words[field] ?? []) if (vs.fields[w]) return vs.fields[w];
  return vs.at;
}
