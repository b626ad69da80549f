/**
 * The webhook queue's dead letters: messages that failed every retry. A delivery's message
 * marks the delivery failed and raises `webhook.failing` for its subscription (once until it
 * delivers again), so the timeline and the other subscriptions show it; an events message is
 * dispatched once more, and what still fails stays undispatched in D1 for the cron's sweep.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Env } from "../env.js";
import * as t from "../storage/schema.js";
import { recordFailing } from "./deliver.js";
import { dispatchEvents } from "./dispatch.js";
import type { WebhookMessage } from "./messages.js";

export const DEAD_LETTER_QUEUE = "vigil-webhooks-dead";

const GAVE_UP = "the webhook queue gave up on this delivery after its retries";

export async function drainDeadLetters(batch: MessageBatch<WebhookMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = message.body;
    try {
      if (body.kind === "events") await dispatchEvents(env, body.ids);
      else await giveUp(env, body.id);
    } catch (err) {
      console.error(`webhook dead letters: ${body.kind} could not be settled; the cron's sweep takes it`, err);
    }
    message.ack();
  }
}

async function giveUp(env: Env, id: string): Promise<void> {
  const db = drizzle(env.DB, { schema: t });
  const [row] = await db
    .update(t.deliveries)
    .set({ status: "failed", lastError: GAVE_UP })
    .where(and(eq(t.deliveries.id, id), inArray(t.deliveries.status, ["pending", "held"])))
    .returning({ webhookId: t.deliveries.webhookId, event: t.deliveries.event });
  if (!row) return;
  const [webhook] = await db
    .update(t.webhooks)
    .set({ failingSince: new Date().toISOString() })
    .where(and(eq(t.webhooks.id, row.webhookId), isNull(t.webhooks.failingSince)))
    .returning();
  if (!webhook) return;
  const cluster = (row.event as { cluster?: string }).cluster ?? "";
  await recordFailing(env, db, webhook, cluster, { delivery: id, reason: GAVE_UP });
}
