/**
 * API tokens, enrollment tokens and enrollment in D1. Tokens are stored as SHA-256 hashes
 * with a short prefix to recognise them by; the token itself is never stored.
 */
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import type { TokenRole } from "../core/vocabulary.js";
import type { Db } from "./db.js";
import * as t from "./schema.js";

export type ApiTokenRow = typeof t.apiTokens.$inferSelect;
export type EnrollmentTokenRow = typeof t.enrollmentTokens.$inferSelect;

export async function listApiTokens(db: Db): Promise<ApiTokenRow[]> {
  return db.select().from(t.apiTokens).orderBy(t.apiTokens.name);
}

export async function apiTokenBy(db: Db, by: { hash: string } | { id: string }): Promise<ApiTokenRow | null> {
  const where = "hash" in by ? eq(t.apiTokens.hash, by.hash) : eq(t.apiTokens.id, by.id);
  const [row] = await db.select().from(t.apiTokens).where(where);
  return row ?? null;
}

export async function apiTokenNameTaken(db: Db, name: string): Promise<boolean> {
  const [row] = await db.select({ id: t.apiTokens.id }).from(t.apiTokens).where(eq(t.apiTokens.name, name));
  return row !== undefined;
}

export async function insertApiToken(
  db: Db,
  token: { name: string; role: TokenRole; description?: string | undefined; hash: string; prefix: string },
): Promise<ApiTokenRow> {
  const [row] = await db
    .insert(t.apiTokens)
    .values({ id: crypto.randomUUID(), ...token })
    .returning();
  return row as ApiTokenRow;
}

/** Notes when a token was last used. */
export async function touchApiToken(db: Db, id: string, at: number): Promise<void> {
  await db
    .update(t.apiTokens)
    .set({ lastUsedAt: new Date(at).toISOString() })
    .where(eq(t.apiTokens.id, id));
}

/** True when there was such a token. */
export async function deleteApiToken(db: Db, id: string): Promise<boolean> {
  const gone = await db.delete(t.apiTokens).where(eq(t.apiTokens.id, id)).returning({ id: t.apiTokens.id });
  return gone.length > 0;
}

export async function listEnrollmentTokens(db: Db, cluster: string): Promise<EnrollmentTokenRow[]> {
  return db
    .select()
    .from(t.enrollmentTokens)
    .where(eq(t.enrollmentTokens.cluster, cluster))
    .orderBy(desc(t.enrollmentTokens.createdAt));
}

export async function insertEnrollmentToken(
  db: Db,
  token: { cluster: string; node: string; hash: string; prefix: string; expiresAt: string },
): Promise<EnrollmentTokenRow> {
  const [row] = await db
    .insert(t.enrollmentTokens)
    .values({ id: crypto.randomUUID(), ...token })
    .returning();
  return row as EnrollmentTokenRow;
}

/** True when there was such a token. */
export async function deleteEnrollmentToken(db: Db, cluster: string, id: string): Promise<boolean> {
  const gone = await db
    .delete(t.enrollmentTokens)
    .where(and(eq(t.enrollmentTokens.cluster, cluster), eq(t.enrollmentTokens.id, id)))
    .returning({ id: t.enrollmentTokens.id });
  return gone.length > 0;
}

export async function enrollmentTokenByHash(db: Db, hash: string): Promise<EnrollmentTokenRow | null> {
  const [row] = await db.select().from(t.enrollmentTokens).where(eq(t.enrollmentTokens.hash, hash));
  return row ?? null;
}

/**
 * Spends the token and stores the node's key in one batch, each under its condition again
 * (token unused and unexpired, node not enrolled), so two agents racing with one token
 * cannot both win. False when another enrollment got there first.
 */
export async function enroll(
  db: Db,
  token: EnrollmentTokenRow,
  node: { name: string; publicKey: string },
  now: string,
): Promise<boolean> {
  const [used, enrolled] = await db.batch([
    db
      .update(t.enrollmentTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(t.enrollmentTokens.id, token.id),
          isNull(t.enrollmentTokens.usedAt),
          gt(t.enrollmentTokens.expiresAt, now),
        ),
      )
      .returning({ id: t.enrollmentTokens.id }),
    db
      .update(t.nodes)
      .set({ agentPublicKey: node.publicKey, enrolledAt: now })
      .where(and(eq(t.nodes.cluster, token.cluster), eq(t.nodes.name, node.name), isNull(t.nodes.agentPublicKey)))
      .returning({ name: t.nodes.name }),
  ]);
  return used.length > 0 && enrolled.length > 0;
}

/** Forgets a node's agent key; false when there is no such node. */
export async function resetEnrollment(db: Db, cluster: string, node: string): Promise<boolean> {
  const reset = await db
    .update(t.nodes)
    .set({ agentPublicKey: null, enrolledAt: null, online: false })
    .where(and(eq(t.nodes.cluster, cluster), eq(t.nodes.name, node)))
    .returning({ name: t.nodes.name });
  return reset.length > 0;
}
