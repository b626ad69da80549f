/**
 * The closed word lists of Vigil. Each tuple feeds the zod enum (validation and
 * OpenAPI), the drizzle column enum and the TypeScript type, so the three never drift.
 */

/** IPVS schedulers, as `ipvsadm -s` names them. */
export const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

/** IPVS forwarding methods: masquerading (-m), direct routing (-g), tunnelling (-i). */
export const FORWARDING_METHODS = ["nat", "dr", "tun"] as const;
export type ForwardingMethod = (typeof FORWARDING_METHODS)[number];

export const PROTOCOLS = ["tcp", "udp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** What programs a virtual service on the director. */
export const DRIVERS = ["ipvs", "haproxy"] as const;
export type Driver = (typeof DRIVERS)[number];

/** Durable Object location hints; one prober per cluster and region. */
/**
 * What an agent does with VIP and IPVS changes: applies them; shows them only (no root needed);
 * or applies VIPs and shows IPVS changes (a director whose kernel has no IPVS).
 */
export const HOST_ACTIONS = ["apply", "show", "show-backends"] as const;
export type HostActions = (typeof HOST_ACTIONS)[number];

export const REGIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type Region = (typeof REGIONS)[number];

/**
 * What the directors do with a VIP group when they cannot reach the coordinator.
 * `quorum` (the default): the members and the coordinator vote, and a majority of promises
 * holds the VIPs, so the holder keeps them while it reaches its peer or the coordinator, and
 * never two holders. `release`: the coordinator alone grants, and the VIPs drop at lease
 * expiry without it. `hold`: as release, but the holder keeps them until the coordinator is
 * back: unsafe, a partition can make two holders.
 */
export const COORDINATOR_LOSS_POLICIES = ["quorum", "release", "hold"] as const;
export type CoordinatorLossPolicy = (typeof COORDINATOR_LOSS_POLICIES)[number];

/** keepalived's notify_master / notify_backup / notify_fault / notify_stop. */
export const NOTIFY_STATES = ["master", "backup", "fault", "stop"] as const;
export type NotifyState = (typeof NOTIFY_STATES)[number];

/** How a subscription's events are sent: a JSON POST in one of five shapes, or a mail through the operator's relay. */
export const WEBHOOK_FORMATS = ["standard", "slack", "discord", "pagerduty", "teams", "email"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** An email subscription's use of STARTTLS on an smtp:// relay. */
export const STARTTLS_MODES = ["required", "opportunistic", "off"] as const;
export type StartTlsMode = (typeof STARTTLS_MODES)[number];

export const EVENT_TYPES = [
  "target.down",
  "target.up",
  "target.degraded",
  "quorum.lost",
  "quorum.regained",
  "vip.moved",
  "lease.expired",
  "agent.offline",
  "agent.online",
  "command.failed",
  /** An agent refused a script check or hook that its own allowlist does not name. */
  "program.refused",
  /** A virtual service has fewer healthy real servers than its minHealthy (keepalived's quorum). */
  "service.below_minimum",
  "service.restored",
  "webhook.failing",
  /** Sent by `POST /v1/webhooks/{name}/test` only. */
  "webhook.test",
  /** One summary of the notifications a subscription's hourly cap held back. */
  "webhook.summary",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Ordered from least to most severe. */
export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TOKEN_ROLES = ["admin", "read"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** What became of one event sent to one webhook subscription. */
export const DELIVERY_STATUSES = ["pending", "held", "delivered", "failed", "suppressed", "cancelled"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Deliveries that count against a subscription's hourly cap. */
export const CAPPED_DELIVERY_STATUSES = ["pending", "held", "delivered", "failed"] as const satisfies DeliveryStatus[];
/** Deliveries still to be attempted. */
export const OPEN_DELIVERY_STATUSES = ["pending", "held"] as const satisfies DeliveryStatus[];

/** The UDP port agents listen on for their peer directors' lease messages, unless a node says otherwise. */
export const DEFAULT_PEER_PORT = 7441;
