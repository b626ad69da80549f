/** Subscriptions, webhook or email: where events are delivered, in which format, filtered how. */
import * as z from "zod";
import { EmailSettings, relayUrlIssue } from "./email-subscription.js";
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
  /** The receiver; for the email format, the relay as smtp://host:port or smtps://host:port. */
  url: z
    .url({
      protocol: /^(https?|smtps?)$/,
      error: "expected an http:// or https:// URL (smtp:// or smtps:// for the email format)",
    })
    .max(2048, { error: "expected a URL of at most 2048 characters" }),
  format: z.enum(WEBHOOK_FORMATS).default("standard"),
  /** Recipients, sender and relay settings, for the email format only. */
  email: EmailSettings.optional(),
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

/** The relay's password for email.username: write-only, like a secret. */
const SmtpPassword = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^\p{Cc}]*$/u, { error: "expected a password without control characters" });

/**
 * What an operator sends to create or replace a subscription. A webhook gets a signing
 * secret (made if none is given); a mail is not signed, so the email format takes none.
 */
export const WebhookInput = z
  .strictObject({
    ...WebhookFields,
    secret: WebhookSecret.optional(),
    routingKey: RoutingKey.optional(),
    smtpPassword: SmtpPassword.optional(),
  })
  .superRefine((w, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (w.format === "pagerduty" && w.routingKey === undefined)
      issue("routingKey", "the pagerduty format needs the service's integration key");
    if (w.format === "email") {
      const relay = relayUrlIssue(w.url);
      if (relay) issue("url", relay);
      if (w.email === undefined) issue("email", "the email format needs email.from and email.to");
      if (w.secret !== undefined) issue("secret", "a mail is not signed: leave the secret out for the email format");
      if (w.smtpPassword !== undefined && w.email?.username === undefined)
        issue("smtpPassword", "give email.username too: the password is for AUTH as that user");
      return;
    }
    if (/^smtps?:/.test(w.url)) issue("url", "expected an http:// or https:// URL: smtp:// is for the email format");
    if (w.email !== undefined) issue("email", `only the email format takes email settings (this is ${w.format})`);
    if (w.smtpPassword !== undefined)
      issue("smtpPassword", `only the email format takes a relay password (this is ${w.format})`);
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
    /** Whether a relay password is stored (email); it is never shown. */
    hasSmtpPassword: z.boolean(),
    consecutiveFailures: z.number().int(),
    failingSince: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "Webhook" });
export type Webhook = z.infer<typeof Webhook>;

export const DeliveryStatus = z.enum(DELIVERY_STATUSES);

/** An attempt's answer as its protocol says it: `HTTP 503`, `SMTP 451`, or `no answer`. */
export function attemptAnswer(format: string, status: number | null): string {
  if (status === null) return "no answer";
  return `${format === "email" ? "SMTP" : "HTTP"} ${status}`;
}

export const DeliveryAttempt = z.object({
  n: z.number().int(),
  at: z.string(),
  /** HTTP status, or the relay's last SMTP reply code (email); null when there was no answer. */
  status: z.number().int().nullable(),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
});

export const Delivery = z
  .object({
    /** Also the `webhook-id` header of every attempt, and a mail's Message-ID. */
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
export type DeliveryWithAttempts = z.infer<typeof DeliveryWithAttempts>;

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
