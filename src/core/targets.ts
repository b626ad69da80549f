/**
 * Targets: what is probed. Each real server with a check is one target, named
 * `service/server`, probed at the real server's address on the check's port (or its own).
 */
import type { Check } from "./check.js";
import type { ClusterDocument } from "./cluster.js";
import type { QuorumPolicy } from "./quorum.js";
import type { Region } from "./vocabulary.js";

export interface Target {
  id: string;
  check: Check;
  address: string;
  port: number;
}

/** Observers send every current vote at least this often. */
export const HEARTBEAT_MS = 5_000;

export function targetsOf(doc: ClusterDocument): Target[] {
  const checks = new Map(doc.checks.map((c) => [c.name, c]));
  const out: Target[] = [];
  for (const vs of doc.virtualServices) {
    for (const rs of vs.realServers) {
      const check = rs.check === undefined ? undefined : checks.get(rs.check);
      if (!check) continue;
      const port = "connectPort" in check && check.connectPort !== undefined ? check.connectPort : rs.port;
      out.push({ id: `${vs.name}/${rs.name}`, check, address: rs.address, port });
    }
  }
  return out;
}

/** The targets one edge region probes. */
export function regionTargets(doc: ClusterDocument, region: Region): Target[] {
  return targetsOf(doc).filter((t) => t.check.observers.regions.includes(region));
}

export function observersOf(check: Check): string[] {
  return [...check.observers.regions.map((r) => `region:${r}`), ...check.observers.agents.map((a) => `agent:${a}`)];
}

/** A vote not heard for three intervals (or three heartbeats, if longer) no longer counts. */
export function staleAfterMs(check: Check): number {
  return 3 * Math.max(check.interval * 1000, HEARTBEAT_MS);
}

export function policyFor(check: Check): QuorumPolicy {
  return { eligible: observersOf(check), quorum: check.quorum, maxAgeMs: staleAfterMs(check) };
}
