/** Webhook subscriptions as sent: defaults, bounds, the refusals with their words, and which events a filter lets through. */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  Delivery,
  DeliveryQuery,
  DeliveryWithAttempts,
  filterMatches,
  RotateSecretInput,
  Webhook,
  WebhookFilter,
  WebhookInput,
} from "../../src/core/webhook.js";

const URL_WORDS = "url: expected an http:// or https:// URL (smtp:// or smtps:// for the email format)";
const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const messages = (r: { success: boolean; error?: z.ZodError }) =>
  r.success ? [] : (r.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);
const input = (over: Record<string, unknown>) =>
  WebhookInput.safeParse({ name: "ops", url: "https://hooks.example/x", ...over });

describe("a webhook as sent", () => {
  it("fills what is left out: the standard format, no filter, no hold-down, no cap, enabled", () => {
    expect(WebhookInput.parse({ name: "ops", url: "https://hooks.example/x" })).toEqual({
      name: "ops",
      url: "https://hooks.example/x",
      format: "standard",
      filter: { events: [], clusters: [], targets: [], minSeverity: "info" },
      holdDown: 0,
      maxPerHour: 0,
      enabled: true,
    });
    expect(WebhookFilter.parse({})).toEqual({ events: [], clusters: [], targets: [], minSeverity: "info" });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a URL that is not http(s)", { url: "ftp://hooks.example/x" }, [URL_WORDS]],
    [
      "a URL over 2048 characters",
      { url: `https://hooks.example/${"x".repeat(2048)}` },
      ["url: expected a URL of at most 2048 characters"],
    ],
    [
      "a secret that is not whsec_",
      { secret: "s3cret" },
      ["secret: expected a secret like whsec_ followed by base64 of 24-64 bytes"],
    ],
    [
      "pagerduty without a key",
      { format: "pagerduty" },
      ["routingKey: the pagerduty format needs the service's integration key"],
    ],
    [
      "a routing key that is not 32 letters and digits",
      { format: "pagerduty", routingKey: "x".repeat(31) },
      ["routingKey: expected a PagerDuty integration key of 32 letters and digits"],
    ],
    ["a hold-down over an hour", { holdDown: 3601 }, ["holdDown: expected at most 3600 s"]],
    ["a cap over 3600 an hour", { maxPerHour: 3601 }, ["maxPerHour: expected an integer from 0 to 3600"]],
  ])("refuses %s", (_name, over, expected) => {
    expect(messages(input(over))).toEqual(expected);
  });

  it("takes a secret and a pagerduty key as they should be", () => {
    expect(input({ secret: SECRET }).success).toBe(true);
    expect(input({ format: "pagerduty", routingKey: "a".repeat(32) }).success).toBe(true);
    expect(input({ holdDown: 3600, maxPerHour: 3600 }).success).toBe(true);
  });

  it("bounds a deliveries query, and defaults a secret rotation to keeping the old secret a while", () => {
    expect(DeliveryQuery.parse({})).toEqual({ limit: 100 });
    expect(DeliveryQuery.parse({ limit: "500" })).toEqual({ limit: 500 });
    expect(DeliveryQuery.safeParse({ limit: 0 }).success).toBe(false);
    expect(DeliveryQuery.safeParse({ limit: 501 }).success).toBe(false);
    expect(RotateSecretInput.parse({})).toEqual({ retireOld: false });
  });

  it.each<[string, z.ZodType]>([
    ["WebhookInput", WebhookInput],
    ["Webhook", Webhook],
    ["Delivery", Delivery],
    ["DeliveryWithAttempts", DeliveryWithAttempts],
    ["RotateSecretInput", RotateSecretInput],
  ])("is named %s in the API document", (id, schema) => {
    expect(z.globalRegistry.get(schema)?.id).toBe(id);
  });
});

describe("a filter", () => {
  const event = { type: "target.down" as const, cluster: "c1", subject: "web/web1", severity: "warning" as const };
  const all = WebhookFilter.parse({});
  it.each<[string, Partial<typeof all>, boolean]>([
    ["empty: everything", {}, true],
    ["its event type", { events: ["target.down"] }, true],
    ["another event type", { events: ["target.up"] }, false],
    ["its cluster", { clusters: ["c1"] }, true],
    ["another cluster", { clusters: ["c2"] }, false],
    ["its target", { targets: ["web/web1"] }, true],
    ["another target", { targets: ["web/web2"] }, false],
    ["a minimum severity below", { minSeverity: "info" }, true],
    ["the same severity", { minSeverity: "warning" }, true],
    ["a minimum severity above", { minSeverity: "critical" }, false],
  ])("%s", (_name, over, pass) => {
    expect(filterMatches({ ...all, ...over }, event)).toBe(pass);
  });
});
