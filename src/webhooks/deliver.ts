/**
 * One delivery attempt: send the event (a signed POST, or a mail through the operator's
 * relay), log the attempt, and decide (src/core/webhook-retry.ts) whether it is done, failed
 * for good, or queued again with backoff. Every attempt carries the same webhook-id.
 */
import { type EventPayload, RECOVERY_OF } from "../core/webhook-render.js";
import { afterDelivery } from "../core/webhook-retry.js";
import { privateTargetsAllowed, urlRefusal } from "../outbound-policy.js";
import {
  type Attempt,
  cancelDelivery,
  claimAttempt,
  countFailure,
  deliveryWithWebhook,
  insertFailingEvent,
  recordAttempt,
  recoveredSince,
  suppressedTypes,
} from "../storage/deliveries.js";
import type { WebhookBindings } from "./bindings.js";
import { enqueueDelivery, enqueueEvents } from "./messages.js";
import { postEvent } from "./send-http.js";
import { mailEvent } from "./send-mail.js";
import { settings } from "./settings.js";

export async function deliver(env: WebhookBindings, id: string): Promise<void> {
  const found = await deliveryWithWebhook(env.DB, id);
  if (!found) return;
  const { delivery, webhook } = found;
  if (delivery.status !== "pending" && delivery.status !== "held") return;
  const now = Date.now();
  const dueIn = Date.parse(delivery.nextAt) - now;
  if (dueIn > 1000) {
    // Queued early (a redelivery, or a message that outran its delay): wait for the due time.
    await enqueueDelivery(env.WEBHOOKS, id, dueIn / 1000);
    return;
  }
  let event = delivery.event as unknown as EventPayload;
  if (delivery.status === "held" && (await recovered(env.DB, event))) {
    await cancelDelivery(env.DB, id, "recovered within the hold-down");
    return;
  }
  if (delivery.eventType === "webhook.summary") event = await summarize(env.DB, webhook.id, event, delivery.createdAt);

  // Claim this attempt before anything is sent: of two copies of a message, one sends and the other stops here.
  const firstAttemptAt = delivery.firstAttemptAt ?? new Date(now).toISOString();
  const n = await claimAttempt(env.DB, delivery, firstAttemptAt);
  if (n === null) return;
  const at = new Date(now).toISOString();
  const refused = privateTargetsAllowed(env) ? null : urlRefusal(webhook.url);
  if (refused) {
    // Nothing is sent; it would not be allowed on a retry either.
    const error = `not sent: ${refused}`;
    await recordAttempt(
      env.DB,
      delivery,
      { n, at, status: null, latencyMs: 0, error },
      { status: "failed", lastError: error },
    );
    return;
  }

  const { timeoutS, retryBaseS, failingAfter } = settings(env);
  const started = Date.now();
  const sent =
    webhook.format === "email"
      ? await mailEvent(webhook, event, delivery.id)
      : await postEvent(webhook, event, delivery.id, now, timeoutS);
  const { status, error } = sent;
  const attempt: Attempt = { n, at, status, latencyMs: Date.now() - started, error };
  const decision = afterDelivery(sent.outcome, n, Date.parse(firstAttemptAt), Date.now(), retryBaseS, Math.random());
  if (decision.action === "done") {
    await recordAttempt(env.DB, delivery, attempt, { status: "delivered" });
    return;
  }
  if (decision.action === "retry") {
    const nextAt = new Date(Date.now() + decision.delayS * 1000).toISOString();
    await recordAttempt(env.DB, delivery, attempt, { status: "pending", nextAt });
    await enqueueDelivery(env.WEBHOOKS, id, decision.delayS);
  } else {
    const lastError = `${error ?? ""}; ${decision.reason}`;
    await recordAttempt(env.DB, delivery, attempt, { status: "failed", lastError });
  }
  // After `failingAfter` failed attempts in a row, one webhook.failing event for the other subscriptions.
  const failures = await countFailure(env.DB, webhook.id, failingAfter);
  if (failures !== null) await recordFailing(env, webhook.name, event.cluster, { failedAttempts: failures });
}

/** A webhook.failing event about a subscription, for the other subscriptions (and the dashboard's timeline). */
export async function recordFailing(
  env: WebhookBindings,
  webhook: string,
  cluster: string,
  details: Record<string, unknown>,
): Promise<void> {
  // Test events belong to no cluster; there is nowhere to record this one.
  const id = await insertFailingEvent(env.DB, cluster, webhook, details);
  if (id) await enqueueEvents(env.WEBHOOKS, [id]);
}

/** Whether the incident this event opened has closed since (the recovery may have been dispatched first). */
async function recovered(d1: D1Database, event: EventPayload): Promise<boolean> {
  const recovery = RECOVERY_OF[event.type];
  if (!recovery || !event.cluster) return false;
  return recoveredSince(d1, event, recovery);
}

/** The summary event: how many notifications the cap held back for this subject. */
async function summarize(d1: D1Database, webhookId: string, event: EventPayload, since: string): Promise<EventPayload> {
  const held = await suppressedTypes(d1, webhookId, event.subject, Date.parse(since) - 3600_000);
  const byType: Record<string, number> = {};
  for (const type of held) byType[type] = (byType[type] ?? 0) + 1;
  return { ...event, at: new Date().toISOString(), details: { suppressed: held.length, byType } };
}
