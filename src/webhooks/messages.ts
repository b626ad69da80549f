/** What travels on the webhook queue: events to fan out, and deliveries to attempt. */
import { chunks } from "../core/collections.js";

export type WebhookMessage = { kind: "events"; ids: string[] } | { kind: "delivery"; id: string };

/** Queues an attempt of a delivery, after `delayS` seconds. */
export async function enqueueDelivery(queue: Queue<WebhookMessage>, id: string, delayS = 0): Promise<void> {
  await queue.send({ kind: "delivery", id }, { delaySeconds: clampDelay(delayS) });
}

/** Events per queue message: a burst of thousands travels as many small messages, each well under the size limit. */
export const EVENTS_PER_MESSAGE = 50;

export async function enqueueEvents(queue: Queue<WebhookMessage>, ids: string[]): Promise<void> {
  const messages = chunks(ids, EVENTS_PER_MESSAGE).map((slice) => ({ body: { kind: "events" as const, ids: slice } }));
  for (const batch of chunks(messages, MESSAGES_PER_SEND)) await queue.sendBatch(batch);
}

/** The platform's limit of messages in one sendBatch call. */
const MESSAGES_PER_SEND = 100;

export interface Queued {
  id: string;
  delayS: number;
}

/** Queues many attempts, up to 100 messages per call. */
export async function enqueueDeliveries(queue: Queue<WebhookMessage>, items: Queued[]): Promise<void> {
  for (const slice of chunks(items, MESSAGES_PER_SEND)) {
    await queue.sendBatch(
      slice.map(({ id, delayS }) => ({ body: { kind: "delivery" as const, id }, delaySeconds: clampDelay(delayS) })),
    );
  }
}

/** Queue delays are whole seconds, at most 12 hours; longer waits are re-queued when they end. */
function clampDelay(delayS: number): number {
  return Math.max(0, Math.min(43_200, Math.ceil(delayS)));
}
