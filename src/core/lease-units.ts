/**
 * Lease units: what one lease covers. A VIP group on its own is one unit; the VIP groups of a
 * sync group are one unit named after the sync group, so they always move together (keepalived's
 * vrrp_sync_group). And who may hold each unit now: the candidates the lease reducer chooses from.
 */
import type { ClusterDocument } from "./cluster.js";
import type { LeaseUnitSpec } from "./command.js";
import { type Candidate, effectivePriority, type LeaseConfig } from "./lease.js";
import { majorityConfig } from "./majority.js";
import type { Node } from "./node.js";
import { trackedTargetId } from "./targets.js";
import type { VipGroup } from "./vip-group.js";
import { DEFAULT_PEER_PORT } from "./vocabulary.js";
import type { VoteState } from "./vote.js";

export interface LeaseUnit {
  name: string;
  groups: VipGroup[];
  /** Nodes that are members of every group of the unit, with each group's base priority. */
  members: { node: string; priorities: number[] }[];
  config: LeaseConfig;
  spec: LeaseUnitSpec;
}

export function leaseUnits(doc: ClusterDocument): LeaseUnit[] {
  const byName = new Map(doc.vipGroups.map((g) => [g.name, g]));
  const synced = new Set(doc.syncGroups.flatMap((s) => s.vipGroups));
  const nodes = new Map(doc.nodes.map((n) => [n.name, n]));
  const units: LeaseUnit[] = [];
  for (const sync of doc.syncGroups) {
    const groups = sync.vipGroups.flatMap((name) => byName.get(name) ?? []);
    if (groups.length > 0) units.push(unitOf(sync.name, groups, [...groups.map((g) => g.notify), sync.notify], nodes));
  }
  for (const group of doc.vipGroups) {
    if (!synced.has(group.name)) units.push(unitOf(group.name, [group], [group.notify], nodes));
  }
  return units;
}

function unitOf(
  name: string,
  groups: VipGroup[],
  notify: LeaseUnitSpec["notify"],
  nodes: ReadonlyMap<string, Node>,
): LeaseUnit {
  const [first, ...rest] = groups as [VipGroup, ...VipGroup[]];
  const names = first.members.map((m) => m.node).filter((n) => rest.every((g) => g.members.some((m) => m.node === n)));
  const ttlMs = Math.round(Math.min(...groups.map((g) => g.leaseTtl)) * 1000);
  const members = names.map((node) => ({
    node,
    priorities: groups.map((g) => g.members.find((m) => m.node === node)?.priority ?? 0),
  }));
  // The safest policy any of the groups asks for: release, then quorum; hold only if all say so.
  const policies = groups.map((g) => g.onCoordinatorLoss);
  const policy = policies.includes("release") ? "release" : policies.includes("quorum") ? "quorum" : "hold";
  const lvsSync = groups.find((g) => g.lvsSync)?.lvsSync;
  return {
    name,
    groups,
    members,
    config: {
      ...majorityConfig(ttlMs),
      preempt: groups.every((g) => g.preempt),
      // A node that comes back must stay eligible for one TTL before it preempts: a healed
      // link may still be draining TCP retransmissions, and the holder should not step down
      // for a node that cannot take over at once.
      preemptDelayMs: Math.max(ttlMs, ...groups.map((g) => g.preemptDelay * 1000)),
    },
    spec: {
      name,
      vips: groups.flatMap((g) => g.vips),
      garp: first.garp,
      leaseMs: ttlMs,
      onCoordinatorLoss: policy,
      members: members.map((m) => ({
        node: m.node,
        address: nodes.get(m.node)?.address ?? "0.0.0.0",
        peerPort: nodes.get(m.node)?.peerPort ?? DEFAULT_PEER_PORT,
        publicKey: null,
        priority: m.priorities.reduce((a, b) => a + b, 0),
      })),
      track: [],
      notify,
      // One group of a unit at most sets it (the cluster document is refused otherwise).
      ...(lvsSync ? { lvsSync } : {}),
    },
  };
}

/**
 * The unit as one member's agent gets it: its peers' enrolled keys, and what the member tracks
 * itself (the targets of its own checks), so it can judge its eligibility without the coordinator.
 */
export function specFor(unit: LeaseUnit, node: string, keys: ReadonlyMap<string, string>): LeaseUnitSpec {
  return {
    ...unit.spec,
    members: unit.spec.members.map((m) => ({ ...m, publicKey: keys.get(m.node) ?? null })),
    track: unit.groups.flatMap((group) =>
      trackedOf(group).map((t) => ({ target: trackedTargetId(node, t.target), weight: t.weight })),
    ),
  };
}

/** What the coordinator knows about a node when it picks holders. */
export interface NodeFacts {
  /** Its agent is connected and has asked for this unit's lease within one TTL. */
  live: boolean;
  /** An operator drained it. */
  drained: boolean;
}

export interface CandidateView extends Candidate {
  /** Why the node may not hold the unit now; empty when eligible. */
  reasons: string[];
}

/** What a VIP group tracks on each member: its checks and its interfaces, with their weights. */
function trackedOf(group: VipGroup): { target: string; weight: number; what: string }[] {
  return [
    ...group.track.map((t) => ({ target: t.check, weight: t.weight, what: `tracked check ${t.check}` })),
    ...group.trackInterfaces.map((t) => ({
      target: `interface.${t.interface}`,
      weight: t.weight,
      what: `interface ${t.interface}`,
    })),
  ];
}

/**
 * keepalived's FAULT state: what the node tracks with weight 0 in any of the unit's groups
 * and is down now (empty when the node is not in fault).
 */
export function faultsOf(unit: LeaseUnit, node: string, verdict: (target: string) => VoteState): string[] {
  return unit.groups.flatMap((group) =>
    trackedOf(group)
      .filter((t) => t.weight === 0 && verdict(trackedTargetId(node, t.target)) === "down")
      .map((t) => t.what),
  );
}

/**
 * Each member's eligibility and effective priority: live, not drained, no tracked check or
 * interface with weight 0 down, and their weights applied to each group's priority. Across a
 * sync group's groups the priorities add up, so the order is the same as in each group alone
 * when they agree.
 */
export function candidates(
  unit: LeaseUnit,
  facts: (node: string) => NodeFacts,
  verdict: (target: string) => VoteState,
): CandidateView[] {
  return unit.members.map(({ node, priorities }) => {
    const { live, drained } = facts(node);
    const reasons: string[] = [];
    if (!live) reasons.push("agent not connected or not asking for the lease");
    if (drained) reasons.push("drained");
    let priority = 0;
    for (const [i, group] of unit.groups.entries()) {
      const tracks = trackedOf(group).map((t) => {
        const state = verdict(trackedTargetId(node, t.target));
        // unknown neither faults a node nor earns a bonus: only a verdict moves the priority.
        const up = t.weight > 0 ? state === "up" || state === "degraded" : state !== "down";
        if (t.weight === 0 && !up) reasons.push(`${t.what} is down`);
        return { weight: t.weight, up };
      });
      priority += effectivePriority(priorities[i] ?? 0, tracks).priority;
    }
    return { node, eligible: reasons.length === 0, priority, reasons };
  });
}
