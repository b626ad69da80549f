/**
 * Fan-out: each event becomes one delivery per subscription whose filter lets it through,
 * after flap control. Deliveries are rows before they are queue messages, so a lost message
 * is found again by the sweep; the (webhook, event) key makes a repeated dispatch harmless.
 */
import { and, eq, gt, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { filterMatches } from "../core/webhook.js";
import type { EventPayload } from "../core/webhook-render.js";
import { closes, opensIncident } from "../core/webhook-render.js";
import type { Env } from "../env.js";
import { listChunks } from "../storage/d1-limits.js";
import * as t from "../storage/schema.js";
import { enqueueDeliveries, type Queued } from "./messages.js";

type Db = ReturnType<typeof drizzle<typeof t>>;
type WebhookRow = typeof t.webhooks.$inferSelect;

/** Fans out events, in slices that keep every `IN (...)` under D1's bound-parameter limit. */
export async function dispatchEvents(env: Env, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const db = drizzle(env.DB, { schema: t });
  const webhooks = await db.select().from(t.webhooks).where(eq(t.webhooks.enabled, true));
  for (const slice of listChunks(ids, 1)) await dispatchSlice(env, db, webhooks, slice);
}

async function dispatchSlice(env: Env, db: Db, webhooks: WebhookRow[], ids: string[]): Promise<void> {
  const events = await db.select().from(t.events).where(inArray(t.events.id, ids)).orderBy(t.events.at);
  const out: Queued[] = [];
  for (const row of events) {
    const event: EventPayload = {
      id: row.id,
      cluster: row.cluster,
      type: row.type,
      severity: row.severity,
      subject: row.subject,
      details: row.details,
      at: row.at,
    };
    for (const webhook of webhooks) {
      // A failing subscription's own alarm goes to the others.
      if (event.type === "webhook.failing" && event.subject === webhook.name) continue;
      if (!filterMatches(webhook.filter, event)) continue;
      await dispatchOne(env, db, webhook, event, out);
    }
  }
  await enqueueDeliveries(env.WEBHOOKS, out);
  await db
    .update(t.events)
    .set({ dispatchedAt: new Date().toISOString() })
    .where(
      inArray(
        t.events.id,
        events.map((e) => e.id),
      ),
    );
}

async function dispatchOne(env: Env, db: Db, webhook: WebhookRow, event: EventPayload, out: Queued[]): Promise<void> {
  const now = Date.now();
  const base = {
    webhookId: webhook.id,
    eventId: event.id,
    eventType: event.type,
    subject: event.subject,
    event: { ...event },
  };

  if (webhook.holdDown > 0 && closes(event.type).length > 0) {
    // A recovery within the hold-down cancels the held alarm, and is itself not sent.
    const held = await db
      .update(t.deliveries)
      .set({ status: "cancelled", lastError: "recovered within the hold-down" })
      .where(
        and(
          eq(t.deliveries.webhookId, webhook.id),
          eq(t.deliveries.subject, event.subject),
          eq(t.deliveries.status, "held"),
          inArray(t.deliveries.eventType, closes(event.type)),
        ),
      )
      .returning({ id: t.deliveries.id });
    if (held.length > 0) {
      await insert(db, { ...base, status: "cancelled", nextAt: iso(now), lastError: "recovery within the hold-down" });
      return;
    }
  }
  if (webhook.holdDown > 0 && opensIncident(event.type)) {
    const id = await insert(db, { ...base, status: "held", nextAt: iso(now + webhook.holdDown * 1000) });
    if (id) out.push({ id, delayS: webhook.holdDown });
    return;
  }
  if (webhook.maxPerHour > 0) {
    const capped = await insertUnderCap(env, webhook, base, now);
    if (capped?.status === "pending") out.push({ id: capped.id, delayS: 0 });
    if (capped?.status === "suppressed") {
      const [first] = await db
        .select({ createdAt: t.deliveries.createdAt })
        .from(t.deliveries)
        .where(
          and(
            eq(t.deliveries.webhookId, webhook.id),
            eq(t.deliveries.subject, event.subject),
            inArray(t.deliveries.status, COUNTED),
            gt(t.deliveries.createdAt, iso(now - 3600_000)),
          ),
        )
        .orderBy(t.deliveries.createdAt)
        .limit(1);
      await scheduleSummary(db, webhook, event, Date.parse(first?.createdAt ?? iso(now)) + 3600_000, out);
    }
    return;
  }
  const id = await insert(db, { ...base, status: "pending", nextAt: iso(now) });
  if (id) out.push({ id, delayS: 0 });
}

/** Deliveries that count against the hourly cap. */
const COUNTED = ["pending", "held", "delivered", "failed"] as const;

/**
 * Inserts a delivery as pending, or as suppressed when the last hour already holds the cap's
 * worth for this subject: one statement, so concurrent dispatchers cannot both slip under it.
 */
async function insertUnderCap(
  env: Env,
  webhook: WebhookRow,
  base: { webhookId: string; eventId: string; eventType: string; subject: string; event: EventPayload },
  now: number,
): Promise<{ id: string; status: "pending" | "suppressed" } | null> {
  const id = newDeliveryId();
  return env.DB.prepare(
    `INSERT INTO deliveries (id, webhook_id, event_id, event_type, subject, event, status, next_at, last_error)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, s.status, ?9, CASE s.status WHEN 'suppressed' THEN 'over the hourly cap' END
     FROM (SELECT CASE WHEN count(*) >= ?8 THEN 'suppressed' ELSE 'pending' END AS status
           FROM deliveries WHERE webhook_id = ?2 AND subject = ?5
           AND status IN ('pending', 'held', 'delivered', 'failed') AND created_at > ?7) AS s
     WHERE true
     ON CONFLICT (webhook_id, event_id) DO NOTHING
     RETURNING id, status`,
  )
    .bind(
      id,
      base.webhookId,
      base.eventId,
      base.eventType,
      base.subject,
      JSON.stringify(base.event),
      iso(now - 3600_000),
      webhook.maxPerHour,
      iso(now),
    )
    .first<{ id: string; status: "pending" | "suppressed" }>();
}

/** One summary per subscription and subject, sent when the hour that filled the cap is over. */
async function scheduleSummary(
  db: Db,
  webhook: WebhookRow,
  event: EventPayload,
  at: number,
  out: Queued[],
): Promise<void> {
  const window = new Date(at).toISOString();
  const id = await insert(db, {
    webhookId: webhook.id,
    eventId: `summary:${event.subject}:${window}`,
    eventType: "webhook.summary",
    subject: event.subject,
    event: {
      ...event,
      id: `summary:${event.subject}:${window}`,
      type: "webhook.summary",
      severity: "info",
      details: {},
    },
    status: "held",
    nextAt: window,
  });
  if (id) out.push({ id, delayS: (at - Date.now()) / 1000 });
}

/** Inserts a delivery unless one exists for the same (webhook, event); returns its id if new. */
async function insert(db: Db, row: Omit<typeof t.deliveries.$inferInsert, "id">): Promise<string | null> {
  const id = newDeliveryId();
  const inserted = await db
    .insert(t.deliveries)
    .values({ id, ...row })
    .onConflictDoNothing({ target: [t.deliveries.webhookId, t.deliveries.eventId] })
    .returning({ id: t.deliveries.id });
  return inserted[0]?.id ?? null;
}

/** Also the webhook-id header. */
export function newDeliveryId(): string {
  return `msg_${crypto.randomUUID().replace(/-/g, "")}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
