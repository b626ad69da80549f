/**
 * Fan-out: each event becomes one delivery per subscription whose filter lets it through,
 * after flap control. Deliveries are rows before they are queue messages, so a lost message
 * is found again by the sweep; the (webhook, event) key makes a repeated dispatch harmless.
 */
import { filterMatches } from "../core/webhook.js";
import type { EventPayload } from "../core/webhook-render.js";
import { closes, opensIncident } from "../core/webhook-render.js";
import { listChunks } from "../storage/d1-limits.js";
import {
  cancelHeld,
  enabledWebhooks,
  eventPayloads,
  insertDelivery,
  insertUnderCap,
  markDispatched,
  oldestCounted,
  type WebhookRow,
} from "../storage/deliveries.js";
import type { WebhookBindings } from "./bindings.js";
import { enqueueDeliveries, type Queued } from "./messages.js";

/** Fans out events, in slices that keep every `IN (...)` under D1's bound-parameter limit. */
export async function dispatchEvents(env: WebhookBindings, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const webhooks = await enabledWebhooks(env.DB);
  for (const slice of listChunks(ids, 1)) {
    const events = await eventPayloads(env.DB, slice);
    const out: Queued[] = [];
    for (const event of events) {
      for (const webhook of webhooks) {
        // A failing subscription's own alarm goes to the others.
        if (event.type === "webhook.failing" && event.subject === webhook.name) continue;
        if (!filterMatches(webhook.filter, event)) continue;
        await dispatchOne(env.DB, webhook, event, out);
      }
    }
    await enqueueDeliveries(env.WEBHOOKS, out);
    await markDispatched(
      env.DB,
      events.map((e) => e.id),
    );
  }
}

async function dispatchOne(d1: D1Database, webhook: WebhookRow, event: EventPayload, out: Queued[]): Promise<void> {
  const now = Date.now();
  const base = {
    webhookId: webhook.id,
    eventId: event.id,
    eventType: event.type,
    subject: event.subject,
    event: { ...event },
  };
  // A recovery within the hold-down cancels the held alarm, and is itself not sent.
  if (webhook.holdDown > 0 && closes(event.type).length > 0) {
    if (await cancelHeld(d1, webhook.id, event.subject, closes(event.type))) {
      await insertDelivery(d1, {
        ...base,
        status: "cancelled",
        nextAt: iso(now),
        lastError: "recovery within the hold-down",
      });
      return;
    }
  }
  if (webhook.holdDown > 0 && opensIncident(event.type)) {
    const id = await insertDelivery(d1, { ...base, status: "held", nextAt: iso(now + webhook.holdDown * 1000) });
    if (id) out.push({ id, delayS: webhook.holdDown });
    return;
  }
  if (webhook.maxPerHour > 0) {
    const capped = await insertUnderCap(d1, base, webhook.maxPerHour, now);
    if (capped?.status === "pending") out.push({ id: capped.id, delayS: 0 });
    if (capped?.status === "suppressed") {
      const hourFilledAt = await oldestCounted(d1, webhook.id, event.subject, now);
      await scheduleSummary(d1, webhook, event, hourFilledAt + 3600_000, out);
    }
    return;
  }
  const id = await insertDelivery(d1, { ...base, status: "pending", nextAt: iso(now) });
  if (id) out.push({ id, delayS: 0 });
}

/** One summary per subscription and subject, sent when the hour that filled the cap is over. */
async function scheduleSummary(
  d1: D1Database,
  webhook: WebhookRow,
  event: EventPayload,
  at: number,
  out: Queued[],
): Promise<void> {
  const window = iso(at);
  const id = await insertDelivery(d1, {
    webhookId: webhook.id,
    eventId: `summary:${event.subject}:${window}`,
    eventType: "webhook.summary",
    subject: event.subject,
    event: {
      ...event,
      id: `summary:${event.subject}:${window}`,
      type: "webhook.summary",
      severity: "info",
      details: {},
    },
    status: "held",
    nextAt: window,
  });
  if (id) out.push({ id, delayS: (at - Date.now()) / 1000 });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
