/**
 * Webhook deliveries in D1: one row per (subscription, event), its attempts, and the
 * subscription's failure count. Every statement the webhook pipeline runs is here; the
 * decisions (filters, flap control, backoff) are in src/webhooks/ and src/core/.
 */
import { and, eq, gt, gte, inArray, isNull, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { CAPPED_DELIVERY_STATUSES, type EventType, OPEN_DELIVERY_STATUSES } from "../core/vocabulary.js";
import type { EventPayload } from "../core/webhook-render.js";
import { listChunks } from "./d1-limits.js";
import * as t from "./schema.js";

export type WebhookRow = typeof t.webhooks.$inferSelect;
export type DeliveryRow = typeof t.deliveries.$inferSelect;
export type NewDelivery = Omit<typeof t.deliveries.$inferInsert, "id">;

const db = (d1: D1Database) => drizzle(d1, { schema: t });
const iso = (ms: number) => new Date(ms).toISOString();

/** Also the webhook-id header. */
export function newDeliveryId(): string {
  return `msg_${crypto.randomUUID().replace(/-/g, "")}`;
}

export async function enabledWebhooks(d1: D1Database): Promise<WebhookRow[]> {
  return db(d1).select().from(t.webhooks).where(eq(t.webhooks.enabled, true));
}

/** Events by id, oldest first, as webhooks carry them. */
export async function eventPayloads(d1: D1Database, ids: string[]): Promise<EventPayload[]> {
  const out: EventPayload[] = [];
  for (const slice of listChunks(ids, 1)) {
    const rows = await db(d1).select().from(t.events).where(inArray(t.events.id, slice)).orderBy(t.events.at);
    for (const r of rows)
      out.push({
        id: r.id,
        cluster: r.cluster,
        type: r.type,
        severity: r.severity,
        subject: r.subject,
        details: r.details,
        at: r.at,
      });
  }
  return out;
}

export async function markDispatched(d1: D1Database, ids: string[]): Promise<void> {
  for (const slice of listChunks(ids, 1))
    await db(d1)
      .update(t.events)
      .set({ dispatchedAt: iso(Date.now()) })
      .where(inArray(t.events.id, slice));
}

/** Events never handed to webhooks that are older than `before`, and deliveries overdue since then. */
export async function lostWork(d1: D1Database, before: number): Promise<{ events: string[]; deliveries: string[] }> {
  const cutoff = iso(before);
  const events = await db(d1)
    .select({ id: t.events.id })
    .from(t.events)
    .where(and(isNull(t.events.dispatchedAt), lt(t.events.at, cutoff)))
    .limit(500);
  const deliveries = await db(d1)
    .select({ id: t.deliveries.id })
    .from(t.deliveries)
    .where(and(inArray(t.deliveries.status, [...OPEN_DELIVERY_STATUSES]), lt(t.deliveries.nextAt, cutoff)))
    .limit(500);
  return { events: events.map((e) => e.id), deliveries: deliveries.map((d) => d.id) };
}

/** Inserts a delivery unless one exists for the same (webhook, event); its id if new. */
export async function insertDelivery(d1: D1Database, row: NewDelivery): Promise<string | null> {
  const inserted = await db(d1)
    .insert(t.deliveries)
    .values({ id: newDeliveryId(), ...row })
    .onConflictDoNothing({ target: [t.deliveries.webhookId, t.deliveries.eventId] })
    .returning({ id: t.deliveries.id });
  return inserted[0]?.id ?? null;
}

/** Cancels a subscription's held alarms about `subject` of the given types; true if there was one. */
export async function cancelHeld(d1: D1Database, webhookId: string, subject: string, types: EventType[]) {
  const held = await db(d1)
    .update(t.deliveries)
    .set({ status: "cancelled", lastError: "recovered within the hold-down" })
    .where(
      and(
        eq(t.deliveries.webhookId, webhookId),
        eq(t.deliveries.subject, subject),
        eq(t.deliveries.status, "held"),
        inArray(t.deliveries.eventType, types),
      ),
    )
    .returning({ id: t.deliveries.id });
  return held.length > 0;
}

export async function cancelDelivery(d1: D1Database, id: string, why: string): Promise<void> {
  await db(d1).update(t.deliveries).set({ status: "cancelled", lastError: why }).where(eq(t.deliveries.id, id));
}

/**
 * Inserts a delivery as pending, or as suppressed when the last hour already holds `cap`
 * counted deliveries for this subject: one statement, so concurrent dispatchers cannot both
 * slip under it. Null when the (webhook, event) delivery exists already.
 */
export async function insertUnderCap(
  d1: D1Database,
  row: { webhookId: string; eventId: string; eventType: string; subject: string; event: EventPayload },
  cap: number,
  now: number,
): Promise<{ id: string; status: "pending" | "suppressed" } | null> {
  const counted = CAPPED_DELIVERY_STATUSES.map((s) => `'${s}'`).join(", ");
  return d1
    .prepare(
      `INSERT INTO deliveries (id, webhook_id, event_id, event_type, subject, event, status, next_at, last_error)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, s.status, ?9, CASE s.status WHEN 'suppressed' THEN 'over the hourly cap' END
     FROM (SELECT CASE WHEN count(*) >= ?8 THEN 'suppressed' ELSE 'pending' END AS status
           FROM deliveries WHERE webhook_id = ?2 AND subject = ?5
           AND status IN (${counted}) AND created_at > ?7) AS s
     WHERE true
     ON CONFLICT (webhook_id, event_id) DO NOTHING
     RETURNING id, status`,
    )
    .bind(
      newDeliveryId(),
      row.webhookId,
      row.eventId,
      row.eventType,
      row.subject,
      JSON.stringify(row.event),
      iso(now - 3600_000),
      cap,
      iso(now),
    )
    .first<{ id: string; status: "pending" | "suppressed" }>();
}

/** When the oldest delivery counted against the cap in the last hour was made. */
export async function oldestCounted(d1: D1Database, webhookId: string, subject: string, now: number) {
  const [first] = await db(d1)
    .select({ createdAt: t.deliveries.createdAt })
    .from(t.deliveries)
    .where(
      and(
        eq(t.deliveries.webhookId, webhookId),
        eq(t.deliveries.subject, subject),
        inArray(t.deliveries.status, [...CAPPED_DELIVERY_STATUSES]),
        gt(t.deliveries.createdAt, iso(now - 3600_000)),
      ),
    )
    .orderBy(t.deliveries.createdAt)
    .limit(1);
  return first ? Date.parse(first.createdAt) : now;
}

/** Event types of the deliveries the cap held back for `subject` since `since`. */
export async function suppressedTypes(d1: D1Database, webhookId: string, subject: string, since: number) {
  const rows = await db(d1)
    .select({ type: t.deliveries.eventType })
    .from(t.deliveries)
    .where(
      and(
        eq(t.deliveries.webhookId, webhookId),
        eq(t.deliveries.subject, subject),
        eq(t.deliveries.status, "suppressed"),
        gt(t.deliveries.createdAt, iso(since)),
      ),
    );
  return rows.map((r) => r.type);
}

export async function deliveryWithWebhook(
  d1: D1Database,
  id: string,
): Promise<{ delivery: DeliveryRow; webhook: WebhookRow } | null> {
  const [row] = await db(d1)
    .select()
    .from(t.deliveries)
    .innerJoin(t.webhooks, eq(t.deliveries.webhookId, t.webhooks.id))
    .where(eq(t.deliveries.id, id));
  return row ? { delivery: row.deliveries, webhook: row.webhooks } : null;
}

/**
 * Claims the next attempt of an open delivery: of two copies of a queue message, one gets
 * the attempt number and the other null.
 */
export async function claimAttempt(d1: D1Database, delivery: DeliveryRow, firstAttemptAt: string) {
  const [claimed] = await db(d1)
    .update(t.deliveries)
    .set({ attempts: delivery.attempts + 1, firstAttemptAt })
    .where(
      and(
        eq(t.deliveries.id, delivery.id),
        eq(t.deliveries.attempts, delivery.attempts),
        inArray(t.deliveries.status, [...OPEN_DELIVERY_STATUSES]),
      ),
    )
    .returning({ attempts: t.deliveries.attempts });
  return claimed?.attempts ?? null;
}

export interface Attempt {
  n: number;
  at: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

export type Outcome =
  | { status: "delivered" }
  | { status: "pending"; nextAt: string }
  | { status: "failed"; lastError: string };

/**
 * Writes one attempt and the delivery's new state together; a delivered one also clears its
 * subscription's failure count and failing mark.
 */
export async function recordAttempt(
  d1: D1Database,
  delivery: { id: string; webhookId: string },
  attempt: Attempt,
  outcome: Outcome,
): Promise<void> {
  const d = db(d1);
  const row = d.insert(t.deliveryAttempts).values({ deliveryId: delivery.id, ...attempt });
  const where = eq(t.deliveries.id, delivery.id);
  if (outcome.status === "delivered") {
    await d.batch([
      row,
      d
        .update(t.deliveries)
        .set({ lastError: attempt.error, status: "delivered", deliveredAt: iso(Date.now()) })
        .where(where),
      d
        .update(t.webhooks)
        .set({ consecutiveFailures: 0, failingSince: null })
        .where(eq(t.webhooks.id, delivery.webhookId)),
    ]);
  } else if (outcome.status === "pending") {
    await d.batch([
      row,
      d.update(t.deliveries).set({ lastError: attempt.error, status: "pending", nextAt: outcome.nextAt }).where(where),
    ]);
  } else {
    await d.batch([row, d.update(t.deliveries).set({ status: "failed", lastError: outcome.lastError }).where(where)]);
  }
}

/**
 * Counts one more failure in SQL and sets the failing mark where it was not and the count
 * reached `failingAfter`: concurrent attempts neither lose a count nor mark it twice. The
 * count when this call set the mark, else null.
 */
export async function countFailure(d1: D1Database, webhookId: string, failingAfter: number): Promise<number | null> {
  const d = db(d1);
  await d
    .update(t.webhooks)
    .set({ consecutiveFailures: sql`${t.webhooks.consecutiveFailures} + 1` })
    .where(eq(t.webhooks.id, webhookId));
  const [marked] = await d
    .update(t.webhooks)
    .set({ failingSince: iso(Date.now()) })
    .where(
      and(
        eq(t.webhooks.id, webhookId),
        isNull(t.webhooks.failingSince),
        gte(t.webhooks.consecutiveFailures, failingAfter),
      ),
    )
    .returning({ failures: t.webhooks.consecutiveFailures });
  return marked?.failures ?? null;
}

/** An open delivery given up on: marked failed. Its subscription and event, or null if it was not open. */
export async function failDelivery(d1: D1Database, id: string, why: string) {
  const [row] = await db(d1)
    .update(t.deliveries)
    .set({ status: "failed", lastError: why })
    .where(and(eq(t.deliveries.id, id), inArray(t.deliveries.status, [...OPEN_DELIVERY_STATUSES])))
    .returning({ webhookId: t.deliveries.webhookId, event: t.deliveries.event });
  return row ?? null;
}

/** Sets a subscription's failing mark if it was not set; the subscription when this call set it. */
export async function markFailing(d1: D1Database, webhookId: string): Promise<WebhookRow | null> {
  const [webhook] = await db(d1)
    .update(t.webhooks)
    .set({ failingSince: iso(Date.now()) })
    .where(and(eq(t.webhooks.id, webhookId), isNull(t.webhooks.failingSince)))
    .returning();
  return webhook ?? null;
}

/** Records a webhook.failing event in `cluster`; its id, or null when there is no such cluster (test events). */
export async function insertFailingEvent(
  d1: D1Database,
  cluster: string,
  webhook: string,
  details: Record<string, unknown>,
): Promise<string | null> {
  const d = db(d1);
  const [known] = await d.select({ name: t.clusters.name }).from(t.clusters).where(eq(t.clusters.name, cluster));
  if (!known) return null;
  const id = crypto.randomUUID();
  await d.insert(t.events).values({
    id,
    cluster,
    type: "webhook.failing",
    severity: "warning",
    subject: webhook,
    details: { webhook, ...details },
  });
  return id;
}

/** Whether an event of type `recovery` about the same subject came after `event`. */
export async function recoveredSince(d1: D1Database, event: EventPayload, recovery: EventType): Promise<boolean> {
  const [later] = await db(d1)
    .select({ id: t.events.id })
    .from(t.events)
    .where(
      and(
        eq(t.events.cluster, event.cluster),
        eq(t.events.subject, event.subject),
        eq(t.events.type, recovery),
        gt(t.events.at, event.at),
      ),
    )
    .limit(1);
  return later !== undefined;
}
