/** What travels on the webhook queue: events to fan out, and deliveries to attempt. */
import type { Env } from "../env.js";

export type WebhookMessage = { kind: "events"; ids: string[] } | { kind: "delivery"; id: string };

/** Queues an attempt of a delivery, after `delayS` seconds. */
export async function enqueueDelivery(env: Env, id: string, delayS = 0): Promise<void> {
  await env.WEBHOOKS.send({ kind: "delivery", id }, { delaySeconds: clampDelay(delayS) });
}

export async function enqueueEvents(env: Env, ids: string[]): Promise<void> {
  await env.WEBHOOKS.send({ kind: "events", ids });
}

export interface Queued {
  id: string;
  delayS: number;
}

/** Queues many attempts, up to 100 messages per call. */
export async function enqueueDeliveries(env: Env, items: Queued[]): Promise<void> {
  for (let i = 0; i < items.length; i += 100) {
    await env.WEBHOOKS.sendBatch(
      items
        .slice(i, i + 100)
        .map(({ id, delayS }) => ({ body: { kind: "delivery" as const, id }, delaySeconds: clampDelay(delayS) })),
    );
  }
}

/** Queue delays are whole seconds, at most 12 hours; longer waits are re-queued when they end. */
function clampDelay(delayS: number): number {
  return Math.max(0, Math.min(43_200, Math.ceil(delayS)));
}
