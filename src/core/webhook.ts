/** Webhook subscriptions: where events are delivered, in which format, filtered how. */
import { z } from "zod";
import { Ident, intRange, seconds } from "./primitives.js";
import { EVENT_TYPES, SEVERITIES, WEBHOOK_FORMATS } from "./vocabulary.js";

/** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 random bytes. */
export const WebhookSecret = z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, {
  error: "expected a secret like whsec_ followed by base64 of 24-64 bytes",
});

export const WebhookFilter = z.strictObject({
  /** Event types to send; empty sends all. */
  events: z.array(z.enum(EVENT_TYPES)).default([]),
  /** Cluster names; empty sends events of every cluster. */
  clusters: z.array(Ident).default([]),
  /** Target names (real servers, VIP groups, nodes); empty sends all. */
  targets: z.array(z.string().min(1).max(200)).default([]),
  minSeverity: z.enum(SEVERITIES).default("info"),
});

const WebhookFields = {
  name: Ident,
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }).max(2048),
  format: z.enum(WEBHOOK_FORMATS).default("standard"),
  filter: WebhookFilter.default({ events: [], clusters: [], targets: [], minSeverity: "info" }),
  /** A down that recovers within this many seconds sends nothing. */
  holdDown: seconds(0, 3600).default(0),
  /** At most this many notifications per target per hour; 0 means no cap. */
  maxPerHour: intRange(0, 3600).default(0),
  enabled: z.boolean().default(true),
};

/** What an operator sends to create or replace a webhook; a secret is made if none is given. */
export const WebhookInput = z
  .strictObject({ ...WebhookFields, secret: WebhookSecret.optional() })
  .meta({ id: "WebhookInput" });
export type WebhookInput = z.infer<typeof WebhookInput>;

export const Webhook = z
  .object({
    ...WebhookFields,
    id: z.string(),
    /** The start of each active secret; the whole secret is shown only when it is made. */
    secretPrefixes: z.array(z.string()),
    createdAt: z.string(),
  })
  .meta({ id: "Webhook" });
export type Webhook = z.infer<typeof Webhook>;
