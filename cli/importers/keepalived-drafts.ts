/**
 * What the keepalived importer gathers while it reads the directors' files, before it becomes
 * a cluster document: groups, checks and services as typed drafts, and the small readers of
 * keepalived's words.
 */
import type { CheckInput, RealServerInput, VipGroupInput, VirtualServiceInput } from "../../src/core/cluster.js";
import type { Exec } from "../../src/core/primitives.js";
import type { ForwardingMethod, NOTIFY_STATES } from "../../src/core/vocabulary.js";
import type { Stmt, Where } from "./keepalived-syntax.js";

export type Notify = Partial<Record<(typeof NOTIFY_STATES)[number], Exec>>;

export interface Group {
  name: string;
  vips: VipGroupInput["vips"];
  members: { node: string; priority: number }[];
  preempt: boolean;
  preemptDelay: number;
  /** keepalived pairs keep serving by majority when the control plane is away. */
  onCoordinatorLoss: "quorum";
  leaseTtl?: number;
  garp?: { count?: number; refresh?: number };
  notify: Notify;
  track: { check: string; weight: number }[];
  trackInterfaces: { interface: string; weight: number }[];
  lvsSync?: { interface: string; syncId: number };
  /** virtual_router_id: keepalived's sync id when lvs_sync_daemon gives none. */
  vrid?: number;
  at: Where;
}

/** One director's lvs_sync_daemon (global_defs) or lvs_sync_daemon_interface (vrrp_instance). */
export interface SyncDaemonDraft {
  group: string;
  interface: string;
  id?: number;
  at: Where;
}

/** The check types keepalived's checkers and vrrp_script become. */
export type ImportedType = "tcp" | "http" | "https" | "smtp" | "script";

/** A check being gathered from one or more directors; `toCheck` makes it a document's check. */
export interface CheckDraft {
  name: string;
  type: ImportedType;
  agents: string[];
  interval: number;
  timeout?: number;
  retries?: number;
  delayBeforeRetry?: number;
  rise: number;
  fall: number;
  exec?: Exec;
  connectPort?: number;
  helo?: string;
  path?: string;
  expectStatus?: number[];
  digest?: string;
  /** vrrp_script's weight, for the track_script entries that do not give their own. */
  weight?: number;
  /** The settings as JSON: real servers' checks with the same settings are one check. */
  key?: string;
}

export type ServiceDraft = Omit<VirtualServiceInput, "vipGroup" | "realServers"> & {
  realServers: RealServerInput[];
  at: Where;
};

const NAME = /[^A-Za-z0-9_.-]/g;
export const ident = (text: string) =>
  text
    .replace(NAME, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64) || "x";
export const num = (s: Stmt, i = 0) => Number(s.args[i]);
export const FORWARDING: Record<string, ForwardingMethod> = { NAT: "nat", DR: "dr", TUN: "tun" };
export const NOTIFY: Record<string, (typeof NOTIFY_STATES)[number]> = {
  notify_master: "master",
  notify_backup: "backup",
  notify_fault: "fault",
  notify_stop: "stop",
};

/** `"/path/to/script arg1 arg2"` as argv. */
export function exec(words: string[]): { path: string; args: string[] } {
  const argv = words.join(" ").trim().split(/\s+/);
  return { path: argv[0] ?? "", args: argv.slice(1) };
}

export const isOneOf = <T extends string>(list: readonly T[], value: string): value is T => list.includes(value as T);

/** A gathered check as the document's check of its type. */
export function toCheck(d: CheckDraft): CheckInput {
  const { name, interval, timeout, retries, delayBeforeRetry, rise, fall } = d;
  const base = {
    name,
    interval,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(delayBeforeRetry !== undefined ? { delayBeforeRetry } : {}),
    rise,
    fall,
    observers: { agents: d.agents },
  };
  const port = d.connectPort !== undefined ? { connectPort: d.connectPort } : {};
  switch (d.type) {
    case "script":
      return { ...base, type: "script", exec: d.exec ?? { path: "", args: [] } };
    case "tcp":
      return { ...base, type: "tcp", ...port };
    case "smtp":
      return { ...base, type: "smtp", ...port, ...(d.helo !== undefined ? { helo: d.helo } : {}) };
    case "http":
    case "https":
      return {
        ...base,
        type: d.type,
        ...port,
        ...(d.path !== undefined ? { path: d.path } : {}),
        ...(d.expectStatus !== undefined ? { expectStatus: d.expectStatus } : {}),
        ...(d.digest !== undefined ? { digest: d.digest } : {}),
      };
  }
}
