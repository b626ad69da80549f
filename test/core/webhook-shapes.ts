/**
 * The receivers' documented payload shapes, as zod schemas, to check our bodies against:
 * Slack incoming webhooks (text + Block Kit), Discord execute-webhook (content + embeds with
 * their length limits), PagerDuty Events API v2, and a Teams Adaptive Card message.
 */
import * as z from "zod";

const SlackText = z.object({ type: z.enum(["mrkdwn", "plain_text"]), text: z.string().min(1).max(3000) });
export const SlackMessage = z.object({
  text: z.string().min(1).max(40_000),
  blocks: z
    .array(
      z.discriminatedUnion("type", [
        z.object({ type: z.literal("section"), text: SlackText }),
        z.object({ type: z.literal("context"), elements: z.array(SlackText).min(1).max(10) }),
      ]),
    )
    .max(50),
});

export const DiscordMessage = z.object({
  content: z.string().max(2000),
  embeds: z
    .array(
      z.object({
        title: z.string().max(256),
        description: z.string().max(4096),
        color: z.number().int().min(0).max(0xffffff),
        timestamp: z.iso.datetime(),
        fields: z
          .array(
            z.object({ name: z.string().min(1).max(256), value: z.string().min(1).max(1024), inline: z.boolean() }),
          )
          .max(25),
      }),
    )
    .max(10),
});

export const PagerDutyEvent = z.discriminatedUnion("event_action", [
  z.object({
    routing_key: z.string().length(32),
    event_action: z.literal("trigger"),
    dedup_key: z.string().min(1).max(255),
    payload: z.object({
      summary: z.string().min(1).max(1024),
      source: z.string().min(1),
      severity: z.enum(["critical", "error", "warning", "info"]),
      timestamp: z.iso.datetime().optional(),
      component: z.string().optional(),
      group: z.string().optional(),
      class: z.string().optional(),
      custom_details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
  z.strictObject({
    routing_key: z.string().length(32),
    event_action: z.literal("resolve"),
    dedup_key: z.string().min(1).max(255),
  }),
]);

export const TeamsMessage = z.object({
  type: z.literal("message"),
  attachments: z
    .array(
      z.object({
        contentType: z.literal("application/vnd.microsoft.card.adaptive"),
        content: z.object({
          type: z.literal("AdaptiveCard"),
          version: z.string().regex(/^1\.\d$/),
          body: z.array(z.object({ type: z.string() }).passthrough()).min(1),
        }),
      }),
    )
    .length(1),
});
