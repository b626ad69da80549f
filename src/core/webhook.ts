/** Webhook subscriptions: where events are delivered, in which format, filtered how. */
import * as z from "zod";
import { Ident, intRange, seconds } from "./primitives.js";
import { DELIVERY_STATUSES, EVENT_TYPES, SEVERITIES, WEBHOOK_FORMATS } from "./vocabulary.js";

/** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 random bytes. */
export const WebhookSecret = z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, {
  error: "expected a secret like whsec_ followed by base64 of 24-64 bytes",
});

export const WebhookFilter = z.strictObject({
  /** Event types to send; empty sends all. */
  events: z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length).default([]),
  /** Cluster names; empty sends events of every cluster. */
  clusters: z.array(Ident).max(256).default([]),
  /** Target names (real servers, VIP groups, nodes); empty sends all. */
  targets: z.array(z.string().min(1).max(200)).max(1000).default([]),
  minSeverity: z.enum(SEVERITIES).default("info"),
});

const WebhookFields = {
  name: Ident,
  url: z
    .url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
    .max(2048, { error: "expected a URL of at most 2048 characters" }),
  format: z.enum(WEBHOOK_FORMATS).default("standard"),
  filter: WebhookFilter.default({ events: [], clusters: [], targets: [], minSeverity: "info" }),
  /** A down that recovers within this many seconds sends nothing. */
  holdDown: seconds(0, 3600).default(0),
  /** At most this many notifications per target per hour; 0 means no cap. */
  maxPerHour: intRange(0, 3600).default(0),
  enabled: z.boolean().default(true),
};

/** PagerDuty's 32-character integration (routing) key. */
const RoutingKey = z
  .string()
  .regex(/^[A-Za-z0-9]{32}$/, { error: "expected a PagerDuty integration key of 32 letters and digits" });

/** What an operator sends to create or replace a webhook; a secret is made if none is given. */
export const WebhookInput = z
  .strictObject({ ...WebhookFields, secret: WebhookSecret.optional(), routingKey: RoutingKey.optional() })
  .superRefine((w, ctx) => {
    if (w.format === "pagerduty" && w.routingKey === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["routingKey"],
        message: "the pagerduty format needs the service's integration key",
      });
    }
  })
  .meta({ id: "WebhookInput" });
export type WebhookInput = z.infer<typeof WebhookInput>;

export const Webhook = z
  .object({
    ...WebhookFields,
    id: z.string(),
    /** The start of each active secret; the whole secret is shown only when it is made. */
    secretPrefixes: z.array(z.string()),
    hasRoutingKey: z.boolean(),
    consecutiveFailures: z.number().int(),
    failingSince: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "Webhook" });
export type Webhook = z.infer<typeof Webhook>;

export const DeliveryStatus = z.enum(DELIVERY_STATUSES);

export const DeliveryAttempt = z.object({
  n: z.number().int(),
  at: z.string(),
  /** HTTP status, or null when there was no answer. */
  status: z.number().int().nullable(),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
});

export const Delivery = z
  .object({
    /** Also the `webhook-id` header of every attempt. */
    id: z.string(),
    eventId: z.string(),
    eventType: z.enum(EVENT_TYPES),
    subject: z.string(),
    status: DeliveryStatus,
    attempts: z.number().int(),
    createdAt: z.string(),
    nextAt: z.string(),
    deliveredAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: "Delivery" });

export const DeliveryWithAttempts = Delivery.extend({ attemptLog: z.array(DeliveryAttempt) }).meta({
  id: "DeliveryWithAttempts",
});

export const DeliveryQuery = z.strictObject({
  status: DeliveryStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const RotateSecretInput = z
  .strictObject({
    /** The new secret; one is made if none is given. */
    secret: WebhookSecret.optional(),
    /** Drop the older secrets now instead of signing with both during the switch. */
    retireOld: z.boolean().default(false),
  })
  .meta({ id: "RotateSecretInput" });

const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<
  (typeof SEVERITIES)[number],
  number
>;

/** Whether a subscription's filter lets an event through. */
export function filterMatches(
  filter: z.infer<typeof WebhookFilter>,
  e: { type: (typeof EVENT_TYPES)[number]; cluster: string; subject: string; severity: (typeof SEVERITIES)[number] },
): boolean {
  return (
    (filter.events.length === 0 || filter.events.includes(e.type)) &&
    (filter.clusters.length === 0 || filter.clusters.includes(e.cluster)) &&
    (filter.targets.length === 0 || filter.targets.includes(e.subject)) &&
    SEVERITY_RANK[e.severity] >= SEVERITY_RANK[filter.minSeverity]
  );
}
