/**
 * Each receiver's body for one event, whole: what Slack, Discord, PagerDuty and Teams get, field
 * by field, with the escaping and the fallbacks (an empty detail, an event with no headline).
 */
import { describe, expect, it } from "vitest";
import { closes, type EventPayload, opensIncident, render, summary } from "../../src/core/webhook-render.js";

const moved: EventPayload = {
  id: "evt_9",
  cluster: "edge",
  type: "vip.moved",
  severity: "warning",
  subject: "VI_1",
  details: { from: "lb1", to: "lb<2>&", afterMs: 1400, note: "" },
  at: "2026-11-22T06:00:00.000Z",
};
const facts = [
  ["Cluster", "edge"],
  ["Subject", "VI_1"],
  ["Event", "vip.moved"],
  ["Severity", "warning"],
  ["At", "2026-11-22T06:00:00.000Z"],
  ["from", "lb1"],
  ["to", "lb<2>&"],
  ["afterMs", "1400"],
  ["note", ""],
];

describe("webhook bodies", () => {
  it("Slack: the summary in bold, escaped, and up to ten facts", () => {
    expect(render("slack", moved)).toEqual({
      text: "[edge] VI_1 moved",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "*[edge] VI_1 moved*" } },
        {
          type: "context",
          elements: facts.map(([k, v]) => ({ type: "mrkdwn", text: `${k}: ${k === "to" ? "lb&lt;2&gt;&amp;" : v}` })),
        },
      ],
    });
    const long = render("slack", {
      ...moved,
      details: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v".repeat(300)])),
    });
    const elements = (long as { blocks: [unknown, { elements: { text: string }[] }] }).blocks[1].elements;
    expect(elements).toHaveLength(10);
    expect(elements[9]?.text).toBe(`k4: ${"v".repeat(200)}`);
  });

  it("Discord: one embed with the headline, the severity's colour, and every fact inline ('-' for an empty one)", () => {
    expect(render("discord", moved)).toEqual({
      content: "[edge] VI_1 moved",
      embeds: [
        {
          title: "VI_1 moved",
          description: "vip.moved in cluster edge",
          color: 0xdaa038,
          timestamp: "2026-11-22T06:00:00.000Z",
          fields: facts.map(([name, value]) => ({ name, value: value || "-", inline: true })),
        },
      ],
    });
  });

  it("PagerDuty: an event that opens no incident triggers under its own id, at its severity", () => {
    expect(render("pagerduty", moved, { routingKey: "r".repeat(32) })).toEqual({
      routing_key: "r".repeat(32),
      event_action: "trigger",
      dedup_key: "vigil/edge/evt_9",
      payload: {
        summary: "[edge] VI_1 moved",
        source: "vigil/edge",
        severity: "warning",
        timestamp: "2026-11-22T06:00:00.000Z",
        component: "VI_1",
        group: "edge",
        class: "vip.moved",
        custom_details: moved.details,
      },
    });
    const down = { ...moved, type: "agent.offline", severity: "critical", subject: "lb1" } as const;
    expect(render("pagerduty", down)).toMatchObject({
      routing_key: "",
      dedup_key: "vigil/edge/lb1/agent",
      payload: { severity: "critical" },
    });
    expect(render("pagerduty", { ...down, type: "agent.online", severity: "info" })).toEqual({
      routing_key: "",
      event_action: "resolve",
      dedup_key: "vigil/edge/lb1/agent",
    });
    expect(render("pagerduty", { ...moved, severity: "info" })).toMatchObject({ payload: { severity: "info" } });
  });

  it("Teams: an Adaptive Card with the summary and every fact", () => {
    expect(render("teams", moved)).toEqual({
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
              { type: "TextBlock", text: "[edge] VI_1 moved", weight: "Bolder", size: "Medium", wrap: true },
              { type: "FactSet", facts: facts.map(([title, value]) => ({ title, value })) },
            ],
          },
        },
      ],
    });
  });

  it("names an event it has no headline for by its type", () => {
    const odd = { ...moved, type: "webhook.test" } as const;
    expect(summary(odd)).toBe("[edge] VI_1 test notification from Vigil");
    expect(summary({ ...moved, type: "brand.new" as never })).toBe("[edge] VI_1 brand.new");
    expect(render("discord", { ...moved, type: "brand.new" as never })).toMatchObject({
      embeds: [{ title: "VI_1 brand.new" }],
    });
  });

  it.each([
    ["target.down", true, []],
    ["target.degraded", true, []],
    ["quorum.lost", true, []],
    ["agent.offline", true, []],
    ["service.below_minimum", true, []],
    ["target.up", false, ["target.down", "target.degraded"]],
    ["service.restored", false, ["service.below_minimum"]],
    ["vip.moved", false, []],
  ] as const)("%s opens an incident: %s; closes %j", (type, opens, closed) => {
    expect(opensIncident(type)).toBe(opens);
    expect(closes(type)).toEqual(closed);
  });
});
