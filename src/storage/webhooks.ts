/** Webhook subscriptions in D1, and the deliveries the API lists, shows, re-sends and tests. */
import { and, desc, eq } from "drizzle-orm";
import type { EmailSettings } from "../core/email-subscription.js";
import type { DeliveryStatus } from "../core/vocabulary.js";
import type { WebhookInput } from "../core/webhook.js";
import type { EventPayload } from "../core/webhook-render.js";
import type { Db } from "./db.js";
import type { DeliveryRow, WebhookRow } from "./deliveries.js";
import { newDeliveryId } from "./deliveries.js";
import * as t from "./schema.js";

/** A subscription's settings as stored (its input without the secret; null where a format has none). */
export type WebhookColumns = Omit<WebhookInput, "secret" | "routingKey" | "smtpPassword" | "email"> & {
  routingKey: string | null;
  email: EmailSettings | null;
  smtpPassword: string | null;
};

export async function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return db.select().from(t.webhooks).orderBy(t.webhooks.name);
}

export async function webhookByName(db: Db, name: string): Promise<WebhookRow | null> {
  const [row] = await db.select().from(t.webhooks).where(eq(t.webhooks.name, name));
  return row ?? null;
}

export async function insertWebhook(db: Db, columns: WebhookColumns, secrets: string[]): Promise<WebhookRow> {
  const [row] = await db
    .insert(t.webhooks)
    .values({ id: crypto.randomUUID(), ...columns, secrets })
    .returning();
  return row as WebhookRow;
}

export async function updateWebhook(
  db: Db,
  id: string,
  set: Partial<WebhookColumns> & { secrets?: string[] },
): Promise<WebhookRow> {
  const [row] = await db.update(t.webhooks).set(set).where(eq(t.webhooks.id, id)).returning();
  return row as WebhookRow;
}

export async function deleteWebhook(db: Db, id: string): Promise<void> {
  await db.delete(t.webhooks).where(eq(t.webhooks.id, id));
}

export async function listDeliveries(
  db: Db,
  webhookId: string,
  query: { status?: DeliveryStatus | undefined; limit: number },
): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(t.deliveries)
    .where(and(eq(t.deliveries.webhookId, webhookId), query.status ? eq(t.deliveries.status, query.status) : undefined))
    .orderBy(desc(t.deliveries.createdAt))
    .limit(query.limit);
}

export async function findDelivery(db: Db, webhookId: string, id: string): Promise<DeliveryRow | null> {
  const [row] = await db
    .select()
    .from(t.deliveries)
    .where(and(eq(t.deliveries.webhookId, webhookId), eq(t.deliveries.id, id)));
  return row ?? null;
}

export async function deliveryAttempts(db: Db, deliveryId: string) {
  const rows = await db
    .select()
    .from(t.deliveryAttempts)
    .where(eq(t.deliveryAttempts.deliveryId, deliveryId))
    .orderBy(t.deliveryAttempts.n);
  return rows.map(({ deliveryId: _, ...a }) => a);
}

/** Opens a delivery again: pending now, with a new retry window. */
export async function reopenDelivery(db: Db, id: string): Promise<DeliveryRow> {
  const [row] = await db
    .update(t.deliveries)
    .set({ status: "pending", nextAt: new Date().toISOString(), firstAttemptAt: null, lastError: null })
    .where(eq(t.deliveries.id, id))
    .returning();
  return row as DeliveryRow;
}

/** A delivery of `event` to one subscription, due now. */
export async function insertPendingDelivery(db: Db, webhookId: string, event: EventPayload): Promise<DeliveryRow> {
  const [row] = await db
    .insert(t.deliveries)
    .values({
      id: newDeliveryId(),
      webhookId,
      eventId: event.id,
      eventType: event.type,
      subject: event.subject,
      event: { ...event },
      status: "pending",
      nextAt: event.at,
    })
    .returning();
  return row as DeliveryRow;
}
