/** The webhook queue's consumer, and the sweep that re-queues what a lost message left behind. */
import { and, inArray, isNull, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Env } from "../env.js";
import * as t from "../storage/schema.js";
import { deliver } from "./deliver.js";
import { dispatchEvents } from "./dispatch.js";
import { enqueueDelivery, type WebhookMessage } from "./messages.js";

/** Events are fanned out in order (a down before its up); deliveries are attempted concurrently. */
export async function consume(batch: MessageBatch<WebhookMessage>, env: Env): Promise<void> {
  const handle = async (message: Message<WebhookMessage>) => {
    try {
      const body = message.body;
      if (body.kind === "events") await dispatchEvents(env, body.ids);
      else await deliver(env, body.id);
      message.ack();
    } catch (err) {
      console.error("webhook queue: a message failed; it will be retried", err);
      message.retry({ delaySeconds: 5 });
    }
  };
  for (const message of batch.messages) if (message.body.kind === "events") await handle(message);
  await Promise.all(batch.messages.filter((m) => m.body.kind === "delivery").map(handle));
}

/** Events older than this that were never dispatched, and deliveries this overdue, are queued again. */
const LOST_AFTER_MS = 60_000;

export async function sweep(env: Env): Promise<{ events: number; deliveries: number }> {
  const db = drizzle(env.DB, { schema: t });
  const cutoff = new Date(Date.now() - LOST_AFTER_MS).toISOString();
  const events = await db
    .select({ id: t.events.id })
    .from(t.events)
    .where(and(isNull(t.events.dispatchedAt), lt(t.events.at, cutoff)))
    .limit(500);
  if (events.length > 0)
    await dispatchEvents(
      env,
      events.map((e) => e.id),
    );
  const overdue = await db
    .select({ id: t.deliveries.id })
    .from(t.deliveries)
    .where(and(inArray(t.deliveries.status, ["pending", "held"]), lt(t.deliveries.nextAt, cutoff)))
    .limit(500);
  for (const d of overdue) await enqueueDelivery(env.WEBHOOKS, d.id);
  return { events: events.length, deliveries: overdue.length };
}
