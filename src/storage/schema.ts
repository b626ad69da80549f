/**
 * The D1 tables, the only source of the schema: `npm run db:generate` writes
 * `migrations/` from this file. Enum columns take their words from src/core/vocabulary.ts.
 * Scalars are columns; lists and nested settings are JSON in the shapes of the zod schemas.
 */
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Observers, Quorum } from "../core/check.js";
import { CHECK_TYPES } from "../core/checks/index.js";
import type { EmailSettings } from "../core/email-subscription.js";
import type { Exec } from "../core/primitives.js";
import type { VipGroup } from "../core/vip-group.js";
import type { VirtualService } from "../core/virtual-service.js";
import {
  COORDINATOR_LOSS_POLICIES,
  DELIVERY_STATUSES,
  DRIVERS,
  EVENT_TYPES,
  FORWARDING_METHODS,
  HOST_ACTIONS,
  PROTOCOLS,
  SCHEDULERS,
  SEVERITIES,
  TOKEN_ROLES,
  WEBHOOK_FORMATS,
} from "../core/vocabulary.js";
import type { WebhookInput } from "../core/webhook.js";

/** SQLite's current time in the same ISO form as Date.toISOString(). */
export const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
const clusterRef = () =>
  text("cluster")
    .notNull()
    .references(() => clusters.name, { onDelete: "cascade" });

export const clusters = sqliteTable("clusters", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  /** Bumped by every config change; see config_revisions. */
  revision: integer("revision").notNull().default(0),
  createdAt: text("created_at").notNull().default(now),
  updatedAt: text("updated_at").notNull().default(now),
});

/** One row per applied change set, so two concurrent writers cannot both win. */
export const configRevisions = sqliteTable(
  "config_revisions",
  {
    cluster: clusterRef(),
    revision: integer("revision").notNull(),
    actor: text("actor").notNull(),
    changes: text("changes", { mode: "json" }).notNull().$type<unknown[]>(),
    at: text("at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.revision] })],
);

export const nodes = sqliteTable(
  "nodes",
  {
    cluster: clusterRef(),
    name: text("name").notNull(),
    address: text("address").notNull(),
    peerPort: integer("peer_port").notNull().default(7441),
    labels: text("labels", { mode: "json" }).notNull().$type<Record<string, string>>(),
    agentPublicKey: text("agent_public_key"),
    enrolledAt: text("enrolled_at"),
    online: integer("online", { mode: "boolean" }).notNull().default(false),
    lastSeenAt: text("last_seen_at"),
    /** How far the agent's clock was ahead of the coordinator's at its last hello (negative: behind). */
    clockOffsetMs: integer("clock_offset_ms"),
    hostActions: text("host_actions", { enum: HOST_ACTIONS }).notNull().default("apply"),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.name] })],
);

export const checks = sqliteTable(
  "checks",
  {
    cluster: clusterRef(),
    name: text("name").notNull(),
    type: text("type", { enum: CHECK_TYPES }).notNull(),
    interval: real("interval").notNull(),
    timeout: real("timeout").notNull(),
    retries: integer("retries").notNull(),
    delayBeforeRetry: real("delay_before_retry").notNull(),
    rise: integer("rise").notNull(),
    fall: integer("fall").notNull(),
    observers: text("observers", { mode: "json" }).notNull().$type<Observers>(),
    quorum: text("quorum", { mode: "json" }).notNull().$type<Quorum>(),
    /** The type-specific parameters (path, expectStatus, tls, exec, ...). */
    params: text("params", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.name] })],
);

export const vipGroups = sqliteTable(
  "vip_groups",
  {
    cluster: clusterRef(),
    name: text("name").notNull(),
    vips: text("vips", { mode: "json" }).notNull().$type<VipGroup["vips"]>(),
    members: text("members", { mode: "json" }).notNull().$type<VipGroup["members"]>(),
    preempt: integer("preempt", { mode: "boolean" }).notNull(),
    preemptDelay: real("preempt_delay").notNull(),
    leaseTtl: real("lease_ttl").notNull(),
    garp: text("garp", { mode: "json" }).notNull().$type<VipGroup["garp"]>(),
    onCoordinatorLoss: text("on_coordinator_loss", { enum: COORDINATOR_LOSS_POLICIES }).notNull(),
    notify: text("notify", { mode: "json" }).notNull().$type<Partial<Record<string, Exec>>>(),
    track: text("track", { mode: "json" }).notNull().$type<VipGroup["track"]>(),
    trackInterfaces: text("track_interfaces", { mode: "json" }).notNull().$type<VipGroup["trackInterfaces"]>(),
    /** The IPVS connection sync settings; null when the group does not sync connections. */
    lvsSync: text("lvs_sync", { mode: "json" }).$type<NonNullable<VipGroup["lvsSync"]>>(),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.name] })],
);

export const syncGroups = sqliteTable(
  "sync_groups",
  {
    cluster: clusterRef(),
    name: text("name").notNull(),
    vipGroups: text("vip_groups", { mode: "json" }).notNull().$type<string[]>(),
    notify: text("notify", { mode: "json" }).notNull().$type<Partial<Record<string, Exec>>>(),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.name] })],
);

export const virtualServices = sqliteTable(
  "virtual_services",
  {
    cluster: clusterRef(),
    name: text("name").notNull(),
    vipGroup: text("vip_group").notNull(),
    address: text("address"),
    port: integer("port"),
    protocol: text("protocol", { enum: PROTOCOLS }).notNull(),
    fwmark: integer("fwmark"),
    scheduler: text("scheduler", { enum: SCHEDULERS }).notNull(),
    forwarding: text("forwarding", { enum: FORWARDING_METHODS }).notNull(),
    persistence: text("persistence", { mode: "json" }).$type<VirtualService["persistence"]>(),
    driver: text("driver", { enum: DRIVERS }).notNull(),
    haproxyBackend: text("haproxy_backend"),
    sorryServer: text("sorry_server", { mode: "json" }).$type<VirtualService["sorryServer"]>(),
    inhibitOnFailure: integer("inhibit_on_failure", { mode: "boolean" }).notNull(),
    minHealthy: integer("min_healthy").notNull(),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.name] })],
);

export const realServers = sqliteTable(
  "real_servers",
  {
    cluster: text("cluster").notNull(),
    virtualService: text("virtual_service").notNull(),
    name: text("name").notNull(),
    address: text("address").notNull(),
    port: integer("port").notNull(),
    weight: integer("weight").notNull(),
    check: text("check"),
    /** Several checks that must all pass; null when the server has one (`check`) or none. */
    checks: text("checks", { mode: "json" }).$type<string[]>(),
  },
  (t) => [
    primaryKey({ columns: [t.cluster, t.virtualService, t.name] }),
    foreignKey({
      columns: [t.cluster, t.virtualService],
      foreignColumns: [virtualServices.cluster, virtualServices.name],
    }).onDelete("cascade"),
  ],
);

export const webhooks = sqliteTable("webhooks", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  url: text("url").notNull(),
  format: text("format", { enum: WEBHOOK_FORMATS }).notNull(),
  /** Active signing secrets, newest first; several during a rotation. */
  secrets: text("secrets", { mode: "json" }).notNull().$type<string[]>(),
  filter: text("filter", { mode: "json" }).notNull().$type<WebhookInput["filter"]>(),
  holdDown: real("hold_down").notNull(),
  maxPerHour: integer("max_per_hour").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  /** PagerDuty's integration key, for the pagerduty format. */
  routingKey: text("routing_key"),
  /** Recipients, sender and relay settings, for the email format. */
  email: text("email", { mode: "json" }).$type<EmailSettings>(),
  /** The relay's password for email.username (write-only through the API). */
  smtpPassword: text("smtp_password"),
  /** Deliveries that failed in a row; reset by any success. */
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  /** When the current run of failures raised webhook.failing, if it has. */
  failingSince: text("failing_since"),
  createdAt: text("created_at").notNull().default(now),
});

/**
 * One event to one subscription. The id is the `webhook-id` every attempt carries. The event
 * is kept as sent, so a delivery outlives its event and a test event needs no cluster.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    eventType: text("event_type", { enum: EVENT_TYPES }).notNull(),
    subject: text("subject").notNull(),
    event: text("event", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: text("created_at").notNull().default(now),
    /** When the next attempt is due (held and pending deliveries). */
    nextAt: text("next_at").notNull(),
    firstAttemptAt: text("first_attempt_at"),
    deliveredAt: text("delivered_at"),
    lastError: text("last_error"),
  },
  (t) => [
    uniqueIndex("deliveries_webhook_event").on(t.webhookId, t.eventId),
    index("deliveries_webhook_subject").on(t.webhookId, t.subject, t.createdAt),
    index("deliveries_status_next").on(t.status, t.nextAt),
  ],
);

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    n: integer("n").notNull(),
    at: text("at").notNull(),
    /** HTTP status, or null when there was no answer. */
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.n] })],
);

export const apiTokens = sqliteTable("api_tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  role: text("role", { enum: TOKEN_ROLES }).notNull(),
  description: text("description").notNull().default(""),
  /** SHA-256 of the token, hex; the token itself is never stored. */
  hash: text("hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  createdAt: text("created_at").notNull().default(now),
  lastUsedAt: text("last_used_at"),
});

/**
 * Dashboard sessions. The cookie holds a random secret; only its hash is here, with the API
 * token it was opened with. Sign-out deletes the row, and revoking the token ends the session.
 */
export const uiSessions = sqliteTable("ui_sessions", {
  hash: text("hash").primaryKey(),
  /** The API token's id, or "bootstrap" for VIGIL_ADMIN_TOKEN. */
  tokenId: text("token_id").notNull(),
  createdAt: text("created_at").notNull().default(now),
  expiresAt: text("expires_at").notNull(),
});

export const enrollmentTokens = sqliteTable(
  "enrollment_tokens",
  {
    id: text("id").primaryKey(),
    cluster: clusterRef(),
    node: text("node").notNull(),
    hash: text("hash").notNull(),
    prefix: text("prefix").notNull(),
    createdAt: text("created_at").notNull().default(now),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
  },
  (t) => [uniqueIndex("enrollment_tokens_hash").on(t.hash)],
);

export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    cluster: clusterRef(),
    type: text("type", { enum: EVENT_TYPES }).notNull(),
    severity: text("severity", { enum: SEVERITIES }).notNull(),
    subject: text("subject").notNull(),
    details: text("details", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    at: text("at").notNull().default(now),
    /** When the event was handed to the webhook subscriptions; null until then. */
    dispatchedAt: text("dispatched_at"),
  },
  (t) => [index("events_cluster_at").on(t.cluster, t.at), index("events_undispatched").on(t.dispatchedAt)],
);
