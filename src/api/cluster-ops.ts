/**
 * The one write path for cluster configuration: take the stored document, change it,
 * validate the whole result, diff, write in one batch. Single-resource routes and
 * `PUT .../config` both end here, so they cannot disagree about what is valid.
 */

import type { Context } from "hono";
import safeRegex from "safe-regex2";
import { ClusterDocument, validateCluster } from "../core/cluster.js";
import { type Change, diffClusters } from "../core/diff.js";
import type { FieldIssue } from "../core/errors.js";
import { fieldIssue } from "../core/errors.js";
import { hostPart } from "../core/primitives.js";
import { regionShards } from "../core/probe-shards.js";
import { targetsOf } from "../core/targets.js";
import type { Region } from "../core/vocabulary.js";
import type { Env } from "../env.js";
import { hostRefusal, privateTargetsAllowed } from "../outbound-policy.js";
import {
  clustersSharingNodes,
  type Db,
  RevisionConflict,
  readCluster,
  type StoredCluster,
  writeCluster,
} from "../storage/cluster-store.js";
import type { AppEnv } from "./context.js";
import { ApiError, zodIssues } from "./errors.js";

export async function loadCluster(db: Db, name: string): Promise<StoredCluster> {
  const stored = await readCluster(db, name);
  if (!stored) throw new ApiError("not_found", `no cluster named ${name}`);
  return stored;
}

export interface CommitResult {
  changes: Change[];
  revision: number;
}

/**
 * Validates `after` as a whole and writes what differs from `stored`.
 * `focus` is where the resource of a single-resource request sits in the document: issues
 * under it are reported relative to the request body.
 */
export async function commit(
  c: Context<AppEnv>,
  stored: StoredCluster | null,
  after: unknown,
  options: { dryRun?: boolean; focus?: (string | number)[] } = {},
): Promise<CommitResult & { doc: ClusterDocument }> {
  const parsed = ClusterDocument.safeParse(after);
  const issues: FieldIssue[] = parsed.success ? validateCluster(parsed.data) : zodIssues(parsed.error);
  if (issues.length > 0 || !parsed.success) throw ApiError.fromIssues(rebase(issues, options.focus));
  const doc = parsed.data;
  const costly = costlyPatterns(doc);
  if (costly.length > 0) throw ApiError.fromIssues(rebase(costly, options.focus));
  const unreachable = privateTargetsAllowed(c.env) ? [] : privateRegionTargets(doc);
  if (unreachable.length > 0) throw ApiError.fromIssues(rebase(unreachable, options.focus));
  const shared = await vipsSharedWithOtherClusters(c.get("db"), doc);
  if (shared.length > 0) throw ApiError.fromIssues(rebase(shared, options.focus));
  const changes = diffClusters(stored?.doc ?? null, doc);
  const base = stored?.revision ?? null;
  if (options.dryRun || (changes.length === 0 && base !== null)) return { doc, changes, revision: base ?? 0 };
  let revision: number;
  try {
    revision = await writeCluster(c.get("db"), doc, changes, base, c.get("principal").name);
  } catch (err) {
    if (err instanceof RevisionConflict) throw new ApiError("conflict", `${err.message}; read it again and retry`);
    throw err;
  }
  c.executionCtx.waitUntil(announce(c.env, doc.cluster.name, [stored?.doc, doc]));
  return { doc, changes, revision };
}

/**
 * A body pattern with nested repetition (`^(a+)+$`) can take exponential time on a body a
 * hostile server crafts, stalling whoever runs the check; safe-regex2 finds them.
 */
function costlyPatterns(doc: ClusterDocument): FieldIssue[] {
  return doc.checks.flatMap((check, i) =>
    "bodyRegex" in check && check.bodyRegex !== undefined && !safeRegex(check.bodyRegex)
      ? [
          fieldIssue(
            "invalid_field",
            ["checks", i, "bodyRegex"],
            "nested repetition can take exponential time on a crafted body; write it without a repeated group that itself repeats",
          ),
        ]
      : [],
  );
}

/**
 * Edge regions probe from the internet: a deployed control plane refuses a check with region
 * observers on a target at a private, loopback or link-local address (agents on the LAN probe those).
 */
function privateRegionTargets(doc: ClusterDocument): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const target of targetsOf(doc)) {
    if (!target.observers.some((o) => o.startsWith("region:"))) continue;
    const refused = hostRefusal(target.address);
    const at = doc.checks.findIndex((c) => c.name === target.check.name);
    if (refused && !issues.some((i) => i.path[1] === at))
      issues.push(
        fieldIssue(
          "invalid_field",
          ["checks", at, "observers", "regions"],
          `${target.id}: ${refused}, which edge regions cannot probe; let agents on its network observe it instead`,
        ),
      );
  }
  return issues;
}

/**
 * A VIP of this document that a cluster sharing a node with it (the same name at the same
 * address) also has, where that node is a member of both groups: that director would take
 * part in two leases for one address.
 */
async function vipsSharedWithOtherClusters(db: Db, doc: ClusterDocument): Promise<FieldIssue[]> {
  if (doc.vipGroups.length === 0) return [];
  const issues: FieldIssue[] = [];
  for (const other of await clustersSharingNodes(db, doc.cluster.name, doc.nodes)) {
    const stored = await readCluster(db, other);
    if (!stored) continue;
    const address = new Map(stored.doc.nodes.map((n) => [n.name, n.address]));
    const shared = new Set(doc.nodes.filter((n) => address.get(n.name) === n.address).map((n) => n.name));
    const theirs = new Map(
      stored.doc.vipGroups.flatMap((g) =>
        g.vips.map((v) => [hostPart(v.cidr), { group: g.name, members: g.members.map((m) => m.node) }] as const),
      ),
    );
    for (const [i, group] of doc.vipGroups.entries())
      for (const [j, vip] of group.vips.entries()) {
        const owner = theirs.get(hostPart(vip.cidr));
        const both = group.members.find((m) => shared.has(m.node) && owner?.members.includes(m.node));
        if (owner && both)
          issues.push(
            fieldIssue(
              "duplicate_vip",
              ["vipGroups", i, "vips", j, "cidr"],
              `VIP ${hostPart(vip.cidr)} is already in VIP group ${owner.group} of cluster ${other}, where node ${both.node} is a member too; it cannot be in ${group.name} as well`,
            ),
          );
      }
  }
  return issues;
}

/**
 * Tells the cluster's coordinator and every prober shard of every region named before or after
 * a change to re-read the configuration (a shard whose region is no longer named, or past the
 * region's shard count, stops).
 */
export async function announce(env: Env, cluster: string, docs: (ClusterDocument | undefined)[]): Promise<void> {
  const shards = new Map<Region, number>();
  for (const doc of docs)
    for (const [region, count] of doc ? regionShards(doc) : [])
      shards.set(region, Math.max(shards.get(region) ?? 0, count));
  const calls: Promise<unknown>[] = [env.COORDINATOR.getByName(cluster).configChanged()];
  for (const [region, count] of shards)
    for (let shard = 0; shard < count; shard++)
      calls.push(proberFor(env, cluster, region, shard).configure(cluster, region, shard));
  const results = await Promise.allSettled(calls);
  for (const r of results)
    if (r.status === "rejected") console.error(`announcing a change of ${cluster} failed`, r.reason);
}

/** A region's prober shard; shard 0 keeps the name a region's one prober had before there were shards. */
export function proberFor(env: Env, cluster: string, region: Region, shard = 0) {
  const name = shard === 0 ? `${cluster}:${region}` : `${cluster}:${region}:${shard}`;
  return env.PROBER.get(env.PROBER.idFromName(name), { locationHint: region });
}

function rebase(issues: FieldIssue[], focus: (string | number)[] | undefined): FieldIssue[] {
  if (!focus) return issues;
  return issues.map((issue) => {
    const inside = focus.every((key, i) => issue.path[i] === key);
    return inside ? fieldIssue(issue.code, issue.path.slice(focus.length), issue.message) : issue;
  });
}
