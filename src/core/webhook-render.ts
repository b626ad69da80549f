/**
 * Event bodies in each receiver's format: Standard Webhooks JSON, Slack incoming webhooks,
 * Discord, PagerDuty Events API v2 and Microsoft Teams (Adaptive Card). Pure, so the shapes
 * are checked in tests against each service's documented schema.
 */
import type { Event } from "./event.js";
import type { EventType, Severity, WebhookFormat } from "./vocabulary.js";

/** What webhooks carry of an event: the event itself. */
export type EventPayload = Event;

const HEADLINE: Partial<Record<EventType, string>> = {
  "target.down": "is down",
  "target.up": "is up again",
  "target.degraded": "is degraded",
  "quorum.lost": "has lost quorum: too few observers agree",
  "quorum.regained": "has quorum again",
  "vip.moved": "moved",
  "lease.expired": "lease expired",
  "agent.offline": "agent is offline",
  "agent.online": "agent is online",
  "command.failed": "command failed",
  "program.refused": "a director refused a program its allowlist does not name",
  "service.below_minimum": "has fewer healthy real servers than its minimum",
  "service.restored": "has enough healthy real servers again",
  "webhook.failing": "webhook deliveries are failing",
  "webhook.test": "test notification from Vigil",
  "webhook.summary": "notifications were held back by the hourly cap",
};

/** One line an operator reads first. */
export function summary(e: EventPayload): string {
  return `[${e.cluster}] ${e.subject} ${HEADLINE[e.type] ?? e.type}`;
}

/**
 * Events that open an incident, and the event that closes it. PagerDuty triggers and resolves
 * on them with one dedup key; hold-down holds the opening event back.
 */
export const RECOVERY_OF: Partial<Record<EventType, EventType>> = {
  "target.down": "target.up",
  "target.degraded": "target.up",
  "quorum.lost": "quorum.regained",
  "agent.offline": "agent.online",
  "service.below_minimum": "service.restored",
};

export function opensIncident(type: EventType): boolean {
  return RECOVERY_OF[type] !== undefined;
}

/** The incident types a recovery event closes. */
export function closes(type: EventType): EventType[] {
  return (Object.entries(RECOVERY_OF) as [EventType, EventType][])
    .filter(([, up]) => up === type)
    .map(([down]) => down);
}

const COLOR: Record<Severity, number> = { info: 0x2eb886, warning: 0xdaa038, critical: 0xd00000 };

function facts(e: EventPayload): [string, string][] {
  return [
    ["Cluster", e.cluster],
    ["Subject", e.subject],
    ["Event", e.type],
    ["Severity", e.severity],
    ["At", e.at],
    ...Object.entries(e.details).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  ];
}

export function render(format: WebhookFormat, e: EventPayload, options: { routingKey?: string } = {}): unknown {
  switch (format) {
    case "standard":
      return { type: e.type, timestamp: e.at, data: e };
    case "slack":
      return {
        text: summary(e),
        blocks: [
          { type: "section", text: { type: "mrkdwn", text: `*${escapeSlack(summary(e))}*` } },
          {
            type: "context",
            elements: facts(e)
              .slice(0, 10)
              .map(([k, v]) => ({ type: "mrkdwn", text: `${k}: ${escapeSlack(v).slice(0, 200)}` })),
          },
        ],
      };
    case "discord":
      return {
        content: summary(e).slice(0, 2000),
        embeds: [
          {
            title: `${e.subject} ${HEADLINE[e.type] ?? e.type}`.slice(0, 256),
            description: `${e.type} in cluster ${e.cluster}`.slice(0, 4096),
            color: COLOR[e.severity],
            timestamp: e.at,
            fields: facts(e)
              .slice(0, 25)
              .map(([name, value]) => ({ name: name.slice(0, 256), value: value.slice(0, 1024) || "-", inline: true })),
          },
        ],
      };
    case "pagerduty": {
      const incident = RECOVERY_OF[e.type] !== undefined ? e.type : closes(e.type)[0];
      const dedup_key = incident
        ? `vigil/${e.cluster}/${e.subject}/${incidentFamily(incident)}`
        : `vigil/${e.cluster}/${e.id}`;
      if (closes(e.type).length > 0)
        return { routing_key: options.routingKey ?? "", event_action: "resolve", dedup_key };
      return {
        routing_key: options.routingKey ?? "",
        event_action: "trigger",
        dedup_key,
        payload: {
          summary: summary(e).slice(0, 1024),
          source: `vigil/${e.cluster}`,
          severity: e.severity === "critical" ? "critical" : e.severity === "warning" ? "warning" : "info",
          timestamp: e.at,
          component: e.subject,
          group: e.cluster,
          class: e.type,
          custom_details: e.details,
        },
      };
    }
    case "teams":
      return {
        type: "message",
        attachments: [
          {
            contentType: "application/vnd.microsoft.card.adaptive",
            contentUrl: null,
            content: {
              $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
              type: "AdaptiveCard",
              version: "1.4",
              body: [
                { type: "TextBlock", text: summary(e), weight: "Bolder", size: "Medium", wrap: true },
                { type: "FactSet", facts: facts(e).map(([title, value]) => ({ title, value })) },
              ],
            },
          },
        ],
      };
  }
}

/** down/up share a key, so the resolve closes the trigger. */
function incidentFamily(type: EventType): string {
  return type.split(".")[0] ?? type;
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
