/** Events in D1: written by the coordinator's outbox, listed by the API, fanned out by webhooks. */
import { and, desc, eq, gte, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { EventQuery } from "../core/event.js";
import type { EventDraft } from "../core/verdict-events.js";
import type { Db } from "./cluster-store.js";
import * as t from "./schema.js";

/** An event as the outbox holds it: a draft with its id and time. */
export interface EventRow extends EventDraft {
  id: string;
  at: string;
}

/**
 * Writes events of one cluster in one batch; an event already written is left alone, so a
 * retried flush does not duplicate it. "cluster-gone" when the cluster was deleted (events
 * reference their cluster, so they have nowhere to go).
 */
export async function insertEvents(d1: D1Database, cluster: string, rows: EventRow[]): Promise<"ok" | "cluster-gone"> {
  if (rows.length === 0) return "ok";
  const db = drizzle(d1, { schema: t });
  const [first, ...rest] = rows.map((e) =>
    db
      .insert(t.events)
      .values({
        id: e.id,
        cluster,
        type: e.type,
        severity: e.severity,
        subject: e.subject,
        details: e.details,
        at: e.at,
      })
      .onConflictDoNothing(),
  );
  try {
    await db.batch([first as NonNullable<typeof first>, ...rest]);
    return "ok";
  } catch (err) {
    if (/FOREIGN KEY/.test(String((err as Error).cause ?? err))) return "cluster-gone";
    throw err;
  }
}

/** A cluster's events, newest first, filtered as the query says. */
export async function listEvents(db: Db, cluster: string, query: EventQuery) {
  return db
    .select()
    .from(t.events)
    .where(
      and(
        eq(t.events.cluster, cluster),
        query.type ? eq(t.events.type, query.type) : undefined,
        query.subject ? eq(t.events.subject, query.subject) : undefined,
        query.target ? eq(t.events.subject, query.target) : undefined,
        query.after ? gte(t.events.at, new Date(query.after).toISOString()) : undefined,
        query.before ? lt(t.events.at, new Date(query.before).toISOString()) : undefined,
      ),
    )
    .orderBy(desc(t.events.at), desc(t.events.id))
    .limit(query.limit);
}

export async function getEvent(db: Db, cluster: string, id: string) {
  const [row] = await db
    .select()
    .from(t.events)
    .where(and(eq(t.events.cluster, cluster), eq(t.events.id, id)));
  return row ?? null;
}
