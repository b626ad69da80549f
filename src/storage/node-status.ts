/** The running state of nodes: enrollment and agent presence, written by the system, never by config. */
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { NodeStatus } from "../core/node.js";
import type { HostActions } from "../core/vocabulary.js";
import type { Db } from "./cluster-store.js";
import * as t from "./schema.js";

export async function readNodeStatus(db: Db, cluster: string): Promise<Map<string, NodeStatus>> {
  const rows = await db.select().from(t.nodes).where(eq(t.nodes.cluster, cluster));
  return new Map(
    rows.map((r) => [
      r.name,
      {
        enrolled: r.agentPublicKey !== null,
        enrolledAt: r.enrolledAt,
        agentPublicKey: r.agentPublicKey,
        online: r.online,
        lastSeenAt: r.lastSeenAt,
        clockOffsetMs: r.clockOffsetMs,
        hostActions: r.hostActions,
      },
    ]),
  );
}

/** A node's enrolled public key, or null when it is not enrolled (or does not exist). */
export async function agentPublicKey(d1: D1Database, cluster: string, node: string): Promise<string | null> {
  const [row] = await drizzle(d1, { schema: t })
    .select({ key: t.nodes.agentPublicKey })
    .from(t.nodes)
    .where(and(eq(t.nodes.cluster, cluster), eq(t.nodes.name, node)));
  return row?.key ?? null;
}

/** Every enrolled node's agent key in a cluster, by node. */
export async function agentPublicKeys(d1: D1Database, cluster: string): Promise<Map<string, string>> {
  const rows = await drizzle(d1, { schema: t })
    .select({ name: t.nodes.name, key: t.nodes.agentPublicKey })
    .from(t.nodes)
    .where(eq(t.nodes.cluster, cluster));
  return new Map(rows.flatMap((r) => (r.key ? [[r.name, r.key] as const] : [])));
}

/** Records that a node's agent came online or went away; `clockOffsetMs` is its clock less ours. */
export async function recordPresence(
  d1: D1Database,
  cluster: string,
  node: string,
  presence: { online: boolean; at: number; clockOffsetMs?: number; hostActions?: HostActions },
): Promise<void> {
  const { online, at, clockOffsetMs, hostActions } = presence;
  await drizzle(d1, { schema: t })
    .update(t.nodes)
    .set({
      online,
      lastSeenAt: new Date(at).toISOString(),
      ...(clockOffsetMs === undefined ? {} : { clockOffsetMs }),
      ...(hostActions === undefined ? {} : { hostActions }),
    })
    .where(and(eq(t.nodes.cluster, cluster), eq(t.nodes.name, node)));
}
