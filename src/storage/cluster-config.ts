/** Reading a cluster's configuration from the Durable Objects, which hold a raw D1 binding. */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { ClusterDocument } from "../core/cluster.js";
import { readCluster, type StoredCluster } from "./cluster-store.js";
import * as schema from "./schema.js";

/** The cluster's document, or null when the cluster no longer exists. */
export async function readClusterDocument(db: D1Database, cluster: string): Promise<ClusterDocument | null> {
  return (await readStoredCluster(db, cluster))?.doc ?? null;
}

/** The cluster's document and its revision, or null when the cluster no longer exists. */
export function readStoredCluster(db: D1Database, cluster: string): Promise<StoredCluster | null> {
  return readCluster(drizzle(db, { schema }), cluster);
}

/**
 * The cluster's revision alone (one row read, where the document is a row per resource), or
 * null when it no longer exists: what a periodic check reads to learn whether to read the rest.
 */
export async function readClusterRevision(db: D1Database, cluster: string): Promise<number | null> {
  const rows = await drizzle(db, { schema })
    .select({ revision: schema.clusters.revision })
    .from(schema.clusters)
    .where(eq(schema.clusters.name, cluster));
  return rows[0]?.revision ?? null;
}

/** Rows a whole document read reads: the cluster's and one per resource. */
export function documentRows(doc: ClusterDocument | null): number {
  if (!doc) return 1;
  const servers = doc.virtualServices.reduce((n, vs) => n + vs.realServers.length, 0);
  return (
    1 +
    doc.nodes.length +
    doc.checks.length +
    doc.vipGroups.length +
    doc.syncGroups.length +
    doc.virtualServices.length +
    servers
  );
}
