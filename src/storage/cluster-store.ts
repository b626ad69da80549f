/**
 * Reads and writes whole clusters. Every configuration write, from one node's PUT to a
 * whole document, goes through `writeCluster`: diff, then one D1 batch (a transaction)
 * that also claims the next revision number, so a concurrent writer loses cleanly.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { Check } from "../core/check.js";
import type { ClusterDocument } from "../core/cluster.js";
import { type Change, resources } from "../core/diff.js";
import type { Node } from "../core/node.js";
import type { SyncGroup, VipGroup } from "../core/vip-group.js";
import type { RealServer, VirtualService } from "../core/virtual-service.js";
import { listChunks } from "./d1-limits.js";
import type { Db } from "./db.js";
import {
  checkRow,
  documentFromRows,
  nodeRow,
  realServerRow,
  syncGroupRow,
  vipGroupRow,
  virtualServiceRow,
} from "./rows.js";
import * as t from "./schema.js";

export type { Db };

export interface StoredCluster {
  doc: ClusterDocument;
  revision: number;
}

export async function readCluster(db: Db, name: string): Promise<StoredCluster | null> {
  const [cluster, nodes, checks, vipGroups, syncGroups, virtualServices, realServers] = await db.batch([
    db.select().from(t.clusters).where(eq(t.clusters.name, name)),
    db.select().from(t.nodes).where(eq(t.nodes.cluster, name)),
    db.select().from(t.checks).where(eq(t.checks.cluster, name)),
    db.select().from(t.vipGroups).where(eq(t.vipGroups.cluster, name)),
    db.select().from(t.syncGroups).where(eq(t.syncGroups.cluster, name)),
    db.select().from(t.virtualServices).where(eq(t.virtualServices.cluster, name)),
    db.select().from(t.realServers).where(eq(t.realServers.cluster, name)),
  ]);
  const row = cluster[0];
  if (!row) return null;
  const doc = documentFromRows({ cluster: row, nodes, checks, vipGroups, syncGroups, virtualServices, realServers });
  return { doc, revision: row.revision };
}

/** Raised when another writer changed the cluster between our read and our write. */
export class RevisionConflict extends Error {}

/**
 * Writes `changes` (from diffClusters(before, after)) in one transaction. `base` is the
 * revision `before` was read at, or null to create the cluster.
 */
export async function writeCluster(
  db: Db,
  after: ClusterDocument,
  changes: Change[],
  base: number | null,
  actor: string,
): Promise<number> {
  const name = after.cluster.name;
  const revision = (base ?? 0) + 1;
  const items = resources(after);
  const statements = [];
  if (base === null) {
    statements.push(db.insert(t.clusters).values({ name, description: after.cluster.description }));
  }
  // The primary key (cluster, revision) admits one writer per base revision.
  statements.push(db.insert(t.configRevisions).values({ cluster: name, revision, actor, changes }));
  statements.push(
    db
      .update(t.clusters)
      .set({ revision, description: after.cluster.description, updatedAt: t.now })
      .where(eq(t.clusters.name, name)),
  );
  for (const change of changes) {
    if (change.kind === "cluster") continue;
    if (change.op !== "delete") {
      statements.push(upsertStatement(db, name, change, items.get(change.kind)?.get(change.name)));
      continue;
    }
    statements.push(deleteStatement(db, name, change));
    // A deleted node's unused enrollment tokens go with it: a node made again under the name starts afresh.
    if (change.kind === "node")
      statements.push(
        db
          .delete(t.enrollmentTokens)
          .where(and(eq(t.enrollmentTokens.cluster, name), eq(t.enrollmentTokens.node, change.name))),
      );
  }
  try {
    await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
  } catch (err) {
    if (/UNIQUE constraint failed: (config_revisions|clusters)/.test(String((err as Error).cause ?? err))) {
      throw new RevisionConflict(`cluster ${name} changed while this request was applied`);
    }
    throw err;
  }
  return revision;
}

function upsertStatement(db: Db, cluster: string, change: Change, item: object | undefined) {
  if (item === undefined) throw new Error(`no ${change.kind} ${change.name} in the document`);
  switch (change.kind) {
    case "node": {
      const row = nodeRow(cluster, item as Node);
      return db
        .insert(t.nodes)
        .values(row)
        .onConflictDoUpdate({ target: [t.nodes.cluster, t.nodes.name], set: row });
    }
    case "check": {
      const row = checkRow(cluster, item as Check);
      return db
        .insert(t.checks)
        .values(row)
        .onConflictDoUpdate({ target: [t.checks.cluster, t.checks.name], set: row });
    }
    case "vipGroup": {
      const row = vipGroupRow(cluster, item as VipGroup);
      return db
        .insert(t.vipGroups)
        .values(row)
        .onConflictDoUpdate({ target: [t.vipGroups.cluster, t.vipGroups.name], set: row });
    }
    case "syncGroup": {
      const row = syncGroupRow(cluster, item as SyncGroup);
      return db
        .insert(t.syncGroups)
        .values(row)
        .onConflictDoUpdate({ target: [t.syncGroups.cluster, t.syncGroups.name], set: row });
    }
    case "virtualService": {
      const row = virtualServiceRow(cluster, item as Omit<VirtualService, "realServers">);
      return db
        .insert(t.virtualServices)
        .values(row)
        .onConflictDoUpdate({ target: [t.virtualServices.cluster, t.virtualServices.name], set: row });
    }
    case "realServer": {
      const { service, ...rs } = item as RealServer & { service: string };
      const row = realServerRow(cluster, service, rs);
      return db
        .insert(t.realServers)
        .values(row)
        .onConflictDoUpdate({
          target: [t.realServers.cluster, t.realServers.virtualService, t.realServers.name],
          set: row,
        });
    }
    case "cluster":
      throw new Error("the cluster row is written separately");
  }
}

function deleteStatement(db: Db, cluster: string, change: Change) {
  switch (change.kind) {
    case "node":
      return db.delete(t.nodes).where(and(eq(t.nodes.cluster, cluster), eq(t.nodes.name, change.name)));
    case "check":
      return db.delete(t.checks).where(and(eq(t.checks.cluster, cluster), eq(t.checks.name, change.name)));
    case "vipGroup":
      return db.delete(t.vipGroups).where(and(eq(t.vipGroups.cluster, cluster), eq(t.vipGroups.name, change.name)));
    case "syncGroup":
      return db.delete(t.syncGroups).where(and(eq(t.syncGroups.cluster, cluster), eq(t.syncGroups.name, change.name)));
    case "virtualService":
      return db
        .delete(t.virtualServices)
        .where(and(eq(t.virtualServices.cluster, cluster), eq(t.virtualServices.name, change.name)));
    case "realServer": {
      const [service = "", name = ""] = change.name.split("/");
      return db
        .delete(t.realServers)
        .where(
          and(
            eq(t.realServers.cluster, cluster),
            eq(t.realServers.virtualService, service),
            eq(t.realServers.name, name),
          ),
        );
    }
    case "cluster":
      throw new Error("clusters are deleted with deleteCluster");
  }
}

export async function deleteCluster(db: Db, name: string): Promise<boolean> {
  const deleted = await db.delete(t.clusters).where(eq(t.clusters.name, name)).returning({ name: t.clusters.name });
  return deleted.length > 0;
}

/** Other clusters with one of `nodes` (the same name at the same address): the same director serves both. */
export async function clustersSharingNodes(db: Db, cluster: string, nodes: Node[]): Promise<string[]> {
  const wanted = new Set(nodes.map((n) => `${n.name} ${n.address}`));
  const found = new Set<string>();
  for (const slice of listChunks([...new Set(nodes.map((n) => n.address))], 1)) {
    const rows = await db
      .select({ cluster: t.nodes.cluster, name: t.nodes.name, address: t.nodes.address })
      .from(t.nodes)
      .where(and(ne(t.nodes.cluster, cluster), inArray(t.nodes.address, slice)));
    for (const row of rows) if (wanted.has(`${row.name} ${row.address}`)) found.add(row.cluster);
  }
  return [...found].sort();
}
