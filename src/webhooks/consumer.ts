/** The webhook queue's consumer, and the sweep that re-queues what a lost message left behind. */
import { lostWork } from "../storage/deliveries.js";
import type { WebhookBindings } from "./bindings.js";
import { deliver } from "./deliver.js";
import { dispatchEvents } from "./dispatch.js";
import { enqueueDelivery, type WebhookMessage } from "./messages.js";

/** Events are fanned out in order (a down before its up); deliveries are attempted concurrently. */
export async function consume(batch: MessageBatch<WebhookMessage>, env: WebhookBindings): Promise<void> {
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

export async function sweep(env: WebhookBindings): Promise<{ events: number; deliveries: number }> {
  const lost = await lostWork(env.DB, Date.now() - LOST_AFTER_MS);
  await dispatchEvents(env, lost.events);
  for (const id of lost.deliveries) await enqueueDelivery(env.WEBHOOKS, id);
  return { events: lost.events.length, deliveries: lost.deliveries.length };
}
