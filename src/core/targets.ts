/**
 * Targets: what is probed. Each real server with a check is one target, named
 * `service/server`, probed at the real server's address on the check's port (or its own); a
 * real server with several checks is one target per check, `service/server/check`.
 * Each check a VIP group tracks (keepalived's track_script) is one target per member,
 * named `node:<node>/<check>`, probed at the node's address by the node's own agent and by
 * the check's regions. Each tracked interface (track_interface) is `node:<node>/interface.<if>`,
 * its link state read by the node's own agent.
 */
import { Check } from "./check.js";
import type { ClusterDocument } from "./cluster.js";
import type { QuorumPolicy } from "./quorum.js";
import { serverTargets } from "./virtual-service.js";
import type { Region } from "./vocabulary.js";

export interface Target {
  id: string;
  check: Check;
  address: string;
  port: number;
  /** `region:<r>` and `agent:<node>` observers whose votes count. */
  observers: string[];
}

/** Observers send every current vote at least this often. */
export const HEARTBEAT_MS = 5_000;

/** The port a check uses when it names none and its target has none (a tracked check on a node). */
const DEFAULT_PORTS: Partial<Record<Check["type"], number>> = { http: 80, https: 443, tls: 443, smtp: 25 };

export function trackedTargetId(node: string, check: string): string {
  return `node:${node}/${check}`;
}

/** The check behind a tracked interface (keepalived's track_interface): the link is up, seen by the node's agent. */
export function interfaceCheck(iface: string, node: string): Check {
  return Check.parse({
    name: `interface.${iface}`,
    type: "interface",
    interface: iface,
    interval: 1,
    timeout: 0.5,
    retries: 0,
    rise: 1,
    fall: 1,
    observers: { agents: [node] },
  });
}

export function targetsOf(doc: ClusterDocument): Target[] {
  const checks = new Map(doc.checks.map((c) => [c.name, c]));
  const out: Target[] = [];
  for (const vs of doc.virtualServices) {
    for (const rs of vs.realServers) {
      for (const { check: name, target } of serverTargets(vs.name, rs)) {
        const check = checks.get(name);
        if (!check) continue;
        out.push({
          id: target,
          check,
          address: rs.address,
          port: portOf(check) ?? rs.port,
          observers: observersOf(check),
        });
      }
    }
  }
  const nodes = new Map(doc.nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  for (const group of doc.vipGroups) {
    for (const member of group.members) {
      const node = nodes.get(member.node);
      for (const tracked of group.track) {
        const check = checks.get(tracked.check);
        const id = trackedTargetId(member.node, tracked.check);
        if (!node || !check || seen.has(id)) continue;
        seen.add(id);
        out.push({
          id,
          check,
          address: node.address,
          port: portOf(check) ?? DEFAULT_PORTS[check.type] ?? 0,
          observers: [...check.observers.regions.map((r) => `region:${r}`), `agent:${member.node}`],
        });
      }
      for (const tracked of group.trackInterfaces) {
        const check = interfaceCheck(tracked.interface, member.node);
        const id = trackedTargetId(member.node, check.name);
        if (!node || seen.has(id)) continue;
        seen.add(id);
        out.push({ id, check, address: node.address, port: 0, observers: [`agent:${member.node}`] });
      }
    }
  }
  return out;
}

function portOf(check: Check): number | undefined {
  return "connectPort" in check ? check.connectPort : undefined;
}

/** The targets one edge region probes. */
export function regionTargets(doc: ClusterDocument, region: Region): Target[] {
  return targetsOf(doc).filter((t) => t.observers.includes(`region:${region}`));
}

/** The targets one node's agent probes. */
export function agentTargets(doc: ClusterDocument, node: string): Target[] {
  return targetsOf(doc).filter((t) => t.observers.includes(`agent:${node}`));
}

export function observersOf(check: Check): string[] {
  return [...check.observers.regions.map((r) => `region:${r}`), ...check.observers.agents.map((a) => `agent:${a}`)];
}

/** A vote not heard for three intervals (or three heartbeats, if longer) no longer counts. */
export function staleAfterMs(check: Check): number {
  return 3 * Math.max(check.interval * 1000, HEARTBEAT_MS);
}

export function policyFor(target: Target): QuorumPolicy {
  // Each observer once: the quorum counts them, for every vote evaluated.
  return {
    eligible: [...new Set(target.observers)],
    quorum: target.check.quorum,
    maxAgeMs: staleAfterMs(target.check),
  };
}
