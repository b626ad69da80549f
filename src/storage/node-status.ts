/** The running state of nodes: enrollment and agent presence, written by the system, never by config. */
import { eq } from "drizzle-orm";
import type { NodeStatus } from "../core/node.js";
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
      },
    ]),
  );
}
