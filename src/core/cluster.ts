/**
 * The cluster document: a whole failover domain in one value, as `PUT .../config` takes it
 * and `GET .../config` returns it. `validateCluster` checks what one resource alone cannot:
 * unique names and references between resources.
 */
import * as z from "zod";
import { Check } from "./check.js";
import { duplicates } from "./collections.js";
import { type FieldIssue, fieldIssue } from "./errors.js";
import { Node } from "./node.js";
import { hostPart, Ident, Text } from "./primitives.js";
import { SyncGroup, VipGroup } from "./vip-group.js";
import { VirtualService } from "./virtual-service.js";

export const ClusterSettings = z
  .strictObject({
    name: Ident,
    description: Text.default(""),
  })
  .meta({ id: "Cluster" });
export type ClusterSettings = z.infer<typeof ClusterSettings>;

export const ClusterDocument = z
  .strictObject({
    cluster: ClusterSettings,
    nodes: z.array(Node).max(256).default([]),
    checks: z.array(Check).max(1000).default([]),
    vipGroups: z.array(VipGroup).max(256).default([]),
    syncGroups: z.array(SyncGroup).max(128).default([]),
    virtualServices: z.array(VirtualService).max(1000).default([]),
  })
  .meta({ id: "ClusterDocument", description: "A whole cluster: nodes, checks, VIP groups and virtual services." });
export type ClusterDocument = z.infer<typeof ClusterDocument>;

/** Names and references across a whole document; an empty list means it is consistent. */
export function validateCluster(doc: ClusterDocument): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const kind of ["nodes", "checks", "vipGroups", "syncGroups", "virtualServices"] as const) {
    for (const [name, at] of duplicates(doc[kind].map((item) => item.name))) {
      issues.push(fieldIssue("duplicate_name", [kind, at, "name"], `${name} is already used by another entry`));
    }
  }

  const nodes = new Set(doc.nodes.map((n) => n.name));
  const checks = new Set(doc.checks.map((c) => c.name));
  const groups = new Map(doc.vipGroups.map((g) => [g.name, g]));
  const refer = (known: Set<string> | Map<string, unknown>, kind: string, name: string, path: (string | number)[]) => {
    if (!known.has(name))
      issues.push(fieldIssue("unknown_reference", path, `no ${kind} named ${name} in this cluster`));
  };

  for (const [i, check] of doc.checks.entries()) {
    for (const [j, agent] of check.observers.agents.entries())
      refer(nodes, "node", agent, ["checks", i, "observers", "agents", j]);
  }
  for (const [i, group] of doc.vipGroups.entries()) {
    for (const [j, m] of group.members.entries()) refer(nodes, "node", m.node, ["vipGroups", i, "members", j, "node"]);
    for (const [j, t] of group.track.entries()) {
      refer(checks, "check", t.check, ["vipGroups", i, "track", j, "check"]);
      const check = doc.checks.find((c) => c.name === t.check);
      if (check?.type === "tcp" && check.connectPort === undefined) {
        issues.push(
          fieldIssue(
            "invalid_field",
            ["vipGroups", i, "track", j, "check"],
            `tracked check ${check.name} runs on each member's own address: give it a connectPort`,
          ),
        );
      }
    }
  }
  issues.push(...duplicateVips(doc), ...doubleSyncDaemons(doc));
  const syncedIn = new Map<string, string>();
  for (const [i, sync] of doc.syncGroups.entries()) {
    for (const [j, name] of sync.vipGroups.entries()) {
      refer(groups, "VIP group", name, ["syncGroups", i, "vipGroups", j]);
      const other = syncedIn.get(name);
      if (other !== undefined && other !== sync.name) {
        issues.push(
          fieldIssue("invalid_field", ["syncGroups", i, "vipGroups", j], `${name} is already in sync group ${other}`),
        );
      }
      syncedIn.set(name, sync.name);
    }
  }
  const endpoints = new Map<string, string>();
  for (const [i, vs] of doc.virtualServices.entries()) {
    const group = groups.get(vs.vipGroup);
    refer(groups, "VIP group", vs.vipGroup, ["virtualServices", i, "vipGroup"]);
    if (group && vs.address !== undefined && !group.vips.some((v) => hostPart(v.cidr) === hostPart(vs.address ?? ""))) {
      issues.push(
        fieldIssue(
          "unknown_reference",
          ["virtualServices", i, "address"],
          `${vs.address} is not a VIP of group ${group.name}`,
        ),
      );
    }
    const endpoint =
      vs.fwmark !== undefined ? `fwmark ${vs.fwmark}` : `${vs.protocol} ${hostPart(vs.address ?? "")}:${vs.port}`;
    const taken = endpoints.get(endpoint);
    if (taken !== undefined) {
      issues.push(
        fieldIssue(
          "duplicate_name",
          ["virtualServices", i, vs.fwmark !== undefined ? "fwmark" : "port"],
          `${endpoint} is already served by ${taken}`,
        ),
      );
    }
    endpoints.set(endpoint, vs.name);
    for (const [j, rs] of vs.realServers.entries()) {
      const at = ["virtualServices", i, "realServers", j];
      if (rs.check !== undefined) refer(checks, "check", rs.check, [...at, "check"]);
      for (const [k, check] of (rs.checks ?? []).entries()) refer(checks, "check", check, [...at, "checks", k]);
    }
  }
  return issues;
}

/**
 * A director runs one IPVS sync daemon of each role: a node may be a member of one VIP group
 * with lvsSync at most (keepalived's lvs_sync_daemon names one vrrp_instance, too).
 */
function doubleSyncDaemons(doc: ClusterDocument): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const syncing = new Map<string, string>();
  for (const [i, group] of doc.vipGroups.entries()) {
    if (!group.lvsSync) continue;
    const shared = group.members.find((m) => syncing.has(m.node));
    if (shared)
      issues.push(
        fieldIssue(
          "invalid_field",
          ["vipGroups", i, "lvsSync"],
          `node ${shared.node} already syncs connections for VIP group ${syncing.get(shared.node)}: a director runs one sync daemon, so one of its groups may set lvsSync`,
        ),
      );
    for (const m of group.members) if (!syncing.has(m.node)) syncing.set(m.node, group.name);
  }
  return issues;
}

/**
 * A VIP address (whatever its prefix length or spelling) belongs to one VIP group: each group
 * has its own lease, so the same address in two would let two directors hold it at once.
 */
function duplicateVips(doc: ClusterDocument): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const owner = new Map<string, string>();
  for (const [i, group] of doc.vipGroups.entries()) {
    for (const [j, vip] of group.vips.entries()) {
      const host = hostPart(vip.cidr);
      const other = owner.get(host);
      if (other !== undefined && other !== group.name)
        issues.push(
          fieldIssue(
            "duplicate_vip",
            ["vipGroups", i, "vips", j, "cidr"],
            `VIP ${host} is already in VIP group ${other}; it cannot be in ${group.name} too`,
          ),
        );
      else owner.set(host, group.name);
    }
  }
  return issues;
}

/** An empty document for a cluster: what a new cluster holds. */
export function emptyCluster(settings: ClusterSettings): ClusterDocument {
  return { cluster: settings, nodes: [], checks: [], vipGroups: [], syncGroups: [], virtualServices: [] };
}

/**
 * A cluster document as it may be written, defaults left out: what the importers build, and
 * what `ClusterDocument.parse` turns into a ClusterDocument.
 */
export type ClusterDocumentInput = z.input<typeof ClusterDocument>;
export type CheckInput = NonNullable<ClusterDocumentInput["checks"]>[number];
export type VipGroupInput = NonNullable<ClusterDocumentInput["vipGroups"]>[number];
export type SyncGroupInput = NonNullable<ClusterDocumentInput["syncGroups"]>[number];
export type VirtualServiceInput = NonNullable<ClusterDocumentInput["virtualServices"]>[number];
export type RealServerInput = NonNullable<VirtualServiceInput["realServers"]>[number];
