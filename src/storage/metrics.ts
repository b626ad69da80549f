/** What /metrics reads from D1: clusters, their nodes' presence, and webhook deliveries by status. */
import { count, eq } from "drizzle-orm";
import type { Db } from "./db.js";
import * as t from "./schema.js";

export async function metricsRows(db: Db) {
  const clusters = await db.select({ name: t.clusters.name }).from(t.clusters).orderBy(t.clusters.name);
  const nodes = await db.select({ cluster: t.nodes.cluster, name: t.nodes.name, online: t.nodes.online }).from(t.nodes);
  const deliveries = await db
    .select({ webhook: t.webhooks.name, status: t.deliveries.status, count: count() })
    .from(t.deliveries)
    .innerJoin(t.webhooks, eq(t.webhooks.id, t.deliveries.webhookId))
    .groupBy(t.webhooks.name, t.deliveries.status);
  return { clusters: clusters.map((c) => c.name), nodes, deliveries };
}
