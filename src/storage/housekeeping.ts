/** The cron's tidying: expired enrollment tokens and dashboard sessions, and the list of clusters to wake. */
import { and, isNull, lt } from "drizzle-orm";
import type { Db } from "./db.js";
import * as t from "./schema.js";

/** Deletes unused enrollment tokens that expired before `before` (kept until then so operators can see why one failed). */
export async function deleteExpiredEnrollmentTokens(db: Db, before: number): Promise<void> {
  await db
    .delete(t.enrollmentTokens)
    .where(and(isNull(t.enrollmentTokens.usedAt), lt(t.enrollmentTokens.expiresAt, new Date(before).toISOString())));
}

export async function clusterNames(db: Db): Promise<string[]> {
  return (await db.select({ name: t.clusters.name }).from(t.clusters)).map((r) => r.name);
}
