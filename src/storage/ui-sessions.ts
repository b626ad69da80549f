/** Dashboard sessions in D1: made at sign-in, found on every page, deleted at sign-out or when expired. */
import { and, eq, gt, lt } from "drizzle-orm";
import type { Db } from "./cluster-store.js";
import * as t from "./schema.js";

export async function createSession(db: Db, hash: string, tokenId: string, lifetimeS: number): Promise<void> {
  await db
    .insert(t.uiSessions)
    .values({ hash, tokenId, expiresAt: new Date(Date.now() + lifetimeS * 1000).toISOString() });
}

/** The API token id of a live session, or null. */
export async function sessionTokenId(db: Db, hash: string): Promise<string | null> {
  const [row] = await db
    .select({ tokenId: t.uiSessions.tokenId })
    .from(t.uiSessions)
    .where(and(eq(t.uiSessions.hash, hash), gt(t.uiSessions.expiresAt, new Date().toISOString())));
  return row?.tokenId ?? null;
}

export async function deleteSession(db: Db, hash: string): Promise<void> {
  await db.delete(t.uiSessions).where(eq(t.uiSessions.hash, hash));
}

export async function deleteExpiredSessions(db: Db): Promise<void> {
  await db.delete(t.uiSessions).where(lt(t.uiSessions.expiresAt, new Date().toISOString()));
}
