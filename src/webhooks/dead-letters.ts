/**
 * The webhook queue's dead letters: messages that failed every retry. A delivery's message
 * marks the delivery failed and raises `webhook.failing` for its subscription (once until it
 * delivers again), so the timeline and the other subscriptions show it; an events message is
 * dispatched once more, and what still fails stays undispatched in D1 for the cron's sweep.
 */
import { failDelivery, markFailing } from "../storage/deliveries.js";
import type { WebhookBindings } from "./bindings.js";
import { recordFailing } from "./deliver.js";
import { dispatchEvents } from "./dispatch.js";
import type { WebhookMessage } from "./messages.js";

export const DEAD_LETTER_QUEUE = "vigil-webhooks-dead";

const GAVE_UP = "the webhook queue gave up on this delivery after its retries";

export async function drainDeadLetters(batch: MessageBatch<WebhookMessage>, env: WebhookBindings): Promise<void> {
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

async function giveUp(env: WebhookBindings, id: string): Promise<void> {
  const failed = await failDelivery(env.DB, id, GAVE_UP);
  if (!failed) return;
  const webhook = await markFailing(env.DB, failed.webhookId);
  if (!webhook) return;
  const cluster = (failed.event as { cluster?: string }).cluster ?? "";
  await recordFailing(env, webhook.name, cluster, { delivery: id, reason: GAVE_UP });
}
