/** What travels on the webhook queue: events to fan out, and deliveries to attempt. */
import type { Env } from "../env.js";

export type WebhookMessage = { kind: "events"; ids: string[] } | { kind: "delivery"; id: string };

/** Queues an attempt of a delivery, after `delayS` seconds. */
export async function enqueueDelivery(env: Env, id: string, delayS = 0): Promise<void> {
  await env.WEBHOOKS.send({ kind: "delivery", id }, { delaySeconds: Math.max(0, Math.min(43_200, Math.ceil(delayS))) });
}

export async function enqueueEvents(env: Env, ids: string[]): Promise<void> {
  await env.WEBHOOKS.send({ kind: "events", ids });
}
