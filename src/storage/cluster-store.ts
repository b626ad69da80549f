/**
 * Reads and writes whole clusters. Every configuration write, from one node's PUT to a
 * whole document, goes through `writeCluster`: diff, then one D1 batch (a transaction)
 * that also claims the next revision number, so a concurrent writer loses cleanly.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { Check } from "../core/check.js";
import type { ClusterDocument } from "../core/cluster.js";
import { type Change, type ResourceKind, resources } from "../core/diff.js";
import type { Node } from "../core/node.js";
import type { SyncGroup, VipGroup } from "../core/vip-group.js";
import type { RealServer, VirtualService } from "../core/virtual-service.js";
import { deleteMany, runBatch, type Statement, upsertMany } from "./bulk.js";
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
  const statements: Statement[] = [];
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
  for (const run of runs(changes)) statements.push(...runStatements(name, run, items));
  try {
    await runBatch(db, statements);
  } catch (err) {
    if (/UNIQUE constraint failed: (config_revisions|clusters)/.test(String((err as Error).cause ?? err))) {
      throw new RevisionConflict(`cluster ${name} changed while this request was applied`);
    }
    throw err;
  }
  return revision;
}

/** Consecutive changes of one kind, all upserts or all deletes: one multi-row statement each (per slice). */
interface Run {
  kind: Exclude<ResourceKind, "cluster">;
  deletes: boolean;
  names: string[];
}

function runs(changes: Change[]): Run[] {
  const out: Run[] = [];
  for (const change of changes) {
    if (change.kind === "cluster") continue;
    const deletes = change.op === "delete";
    const last = out.at(-1);
    if (last && last.kind === change.kind && last.deletes === deletes) last.names.push(change.name);
    else out.push({ kind: change.kind, deletes, names: [change.name] });
  }
  return out;
}

/** Each kind's table, the columns that name a row within a cluster, and its row as drizzle's insert takes it. */
const TABLES = {
  node: {
    table: t.nodes,
    cluster: t.nodes.cluster,
    key: [t.nodes.name],
    row: (c: string, item: object) => nodeRow(c, item as Node),
  },
  check: {
    table: t.checks,
    cluster: t.checks.cluster,
    key: [t.checks.name],
    row: (c: string, item: object) => checkRow(c, item as Check),
  },
  vipGroup: {
    table: t.vipGroups,
    cluster: t.vipGroups.cluster,
    key: [t.vipGroups.name],
    row: (c: string, item: object) => vipGroupRow(c, item as VipGroup),
  },
  syncGroup: {
    table: t.syncGroups,
    cluster: t.syncGroups.cluster,
    key: [t.syncGroups.name],
    row: (c: string, item: object) => syncGroupRow(c, item as SyncGroup),
  },
  virtualService: {
    table: t.virtualServices,
    cluster: t.virtualServices.cluster,
    key: [t.virtualServices.name],
    row: (c: string, item: object) => virtualServiceRow(c, item as Omit<VirtualService, "realServers">),
  },
  realServer: {
    table: t.realServers,
    cluster: t.realServers.cluster,
    key: [t.realServers.virtualService, t.realServers.name],
    row: (c: string, item: object) => {
      const { service, ...rs } = item as RealServer & { service: string };
      return realServerRow(c, service, rs);
    },
  },
} as const;

function runStatements(cluster: string, run: Run, items: ReturnType<typeof resources>) {
  const { table, cluster: clusterColumn, key, row } = TABLES[run.kind];
  if (run.deletes) {
    const keys = run.names.map((n) => (run.kind === "realServer" ? n.split("/") : [n]));
    const statements = deleteMany(table, eq(clusterColumn, cluster), key, keys);
    // A deleted node's unused enrollment tokens go with it: a node made again under the name starts afresh.
    if (run.kind === "node")
      statements.push(
        ...deleteMany(t.enrollmentTokens, eq(t.enrollmentTokens.cluster, cluster), [t.enrollmentTokens.node], keys),
      );
    return statements;
  }
  const rows = run.names.map((n) => {
    const item = items.get(run.kind)?.get(n);
    if (item === undefined) throw new Error(`no ${run.kind} ${n} in the document`);
    return row(cluster, item);
  });
  return upsertMany(table, [clusterColumn, ...key], rows);
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
