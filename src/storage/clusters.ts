/** Cluster rows and their configuration history, as the API lists them. */
import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "./db.js";
import * as t from "./schema.js";

export type ClusterRow = typeof t.clusters.$inferSelect;

export async function listClusterRows(db: Db): Promise<ClusterRow[]> {
  return db.select().from(t.clusters).orderBy(t.clusters.name);
}

export async function findClusterRow(db: Db, name: string): Promise<ClusterRow | null> {
  const [row] = await db.select().from(t.clusters).where(eq(t.clusters.name, name));
  return row ?? null;
}

/** Configuration revisions, newest first, those before `before` when given. */
export async function listRevisions(db: Db, cluster: string, page: { before?: number | undefined; limit: number }) {
  return db
    .select({
      revision: t.configRevisions.revision,
      actor: t.configRevisions.actor,
      at: t.configRevisions.at,
      changes: t.configRevisions.changes,
    })
    .from(t.configRevisions)
    .where(
      and(
        eq(t.configRevisions.cluster, cluster),
        page.before !== undefined ? lt(t.configRevisions.revision, page.before) : undefined,
      ),
    )
    .orderBy(desc(t.configRevisions.revision))
    .limit(page.limit);
}

/** A node's enrolled key: null when the node does not exist, `{ key: null }` when it is not enrolled. */
export async function findNodeKey(db: Db, cluster: string, node: string): Promise<{ key: string | null } | null> {
  const [row] = await db
    .select({ key: t.nodes.agentPublicKey })
    .from(t.nodes)
    .where(and(eq(t.nodes.cluster, cluster), eq(t.nodes.name, node)));
  return row ?? null;
}
