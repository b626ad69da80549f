/** Reading a cluster's configuration from the Durable Objects, which hold a raw D1 binding. */
import { drizzle } from "drizzle-orm/d1";
import type { ClusterDocument } from "../core/cluster.js";
import { readCluster } from "./cluster-store.js";
import * as schema from "./schema.js";

/** The cluster's document, or null when the cluster no longer exists. */
export async function readClusterDocument(db: D1Database, cluster: string): Promise<ClusterDocument | null> {
  return (await readCluster(drizzle(db, { schema }), cluster))?.doc ?? null;
}
