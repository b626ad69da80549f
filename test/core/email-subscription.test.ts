/** Email subscriptions as sent: the relay URL, the settings' defaults and refusals, and how a relay is reached. */
import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { relayOf } from "../../src/core/email-subscription.js";
import { WebhookInput } from "../../src/core/webhook.js";

const messages = (r: { success: boolean; error?: z.ZodError }) =>
  r.success ? [] : (r.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);
const EMAIL = { from: "vigil@example.net", to: ["ops@example.net"] };
const input = (over: Record<string, unknown>) =>
  WebhookInput.safeParse({ name: "mail", format: "email", url: "smtp://relay.example.net", email: EMAIL, ...over });

describe("an email subscription as sent", () => {
  it("fills STARTTLS required and keepalived's 30 s timeout", () => {
    expect(input({}).data).toMatchObject({
      format: "email",
      url: "smtp://relay.example.net",
      email: { ...EMAIL, starttls: "required", timeout: 30 },
    });
  });

  it("takes a user with a password, smtps, an IPv6 relay and many recipients", () => {
    for (const over of [
      { email: { ...EMAIL, username: "vigil" }, smtpPassword: "s3cret" },
      { url: "smtps://relay.example.net:465" },
      { url: "smtp://[2001:db8::25]:587" },
      { email: { ...EMAIL, to: Array.from({ length: 50 }, (_, i) => `ops${i}@example.net`) } },
    ])
      expect(messages(input(over)), JSON.stringify(over)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      "an http URL",
      { url: "https://relay.example.net" },
      ["url: the email format needs the relay as smtp://host:port or smtps://host:port"],
    ],
    [
      "port 25",
      { url: "smtp://relay.example.net:25" },
      [
        "url: port 25 is closed to Workers; use the relay's submission port: smtp://host:587 (STARTTLS) or smtps://host:465",
      ],
    ],
    [
      "a password in the URL",
      { url: "smtp://vigil:pw@relay.example.net:587" },
      ["url: put no user or password in the URL: give email.username, and the password as smtpPassword"],
    ],
    [
      "a path",
      { url: "smtp://relay.example.net:587/x" },
      ["url: expected only a host and a port, like smtp://relay.example.net:587"],
    ],
    [
      "no URL",
      { url: "relay.example.net" },
      ["url: expected an http:// or https:// URL (smtp:// or smtps:// for the email format)"],
    ],
    ["no email settings", { email: undefined }, ["email: the email format needs email.from and email.to"]],
    ["no recipient", { email: { ...EMAIL, to: [] } }, ["email.to: expected at least one recipient"]],
    [
      "a recipient with a header in it",
      { email: { ...EMAIL, to: ["ops@example.net\r\nBcc: x@evil.test"] } },
      ["email.to.0: expected an address like ops@example.net"],
    ],
    [
      "a display name",
      { email: { ...EMAIL, from: "Vigil <v@example.net>" } },
      ["email.from: expected an address like ops@example.net"],
    ],
    [
      "a bad STARTTLS mode",
      { email: { ...EMAIL, starttls: "maybe" } },
      ['email.starttls: Invalid option: expected one of "required"|"opportunistic"|"off"'],
    ],
    ["a timeout over two minutes", { email: { ...EMAIL, timeout: 300 } }, ["email.timeout: expected at most 120 s"]],
    [
      "a password without a user",
      { smtpPassword: "s3cret" },
      ["smtpPassword: give email.username too: the password is for AUTH as that user"],
    ],
    [
      "a signing secret",
      { secret: "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" },
      ["secret: a mail is not signed: leave the secret out for the email format"],
    ],
  ])("refuses %s, naming the field", (_name, over, want) => {
    expect(messages(input(over))).toEqual(want);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      "an smtp URL",
      { url: "smtp://relay.example.net:587", email: undefined },
      ["url: expected an http:// or https:// URL: smtp:// is for the email format"],
    ],
    [
      "email settings",
      { url: "https://hooks.example/x" },
      ["email: only the email format takes email settings (this is slack)"],
    ],
  ])("refuses for a webhook format %s", (_name, over, want) => {
    expect(messages(input({ format: "slack", ...over }))).toEqual(want);
  });
});

describe("relayOf", () => {
  it.each<[string, "required" | "opportunistic" | "off", ReturnType<typeof relayOf>]>([
    [
      "smtp://relay.example.net",
      "required",
      { host: "relay.example.net", port: 587, transport: "starttls", starttls: "required" },
    ],
    [
      "smtp://relay.example.net:2525",
      "opportunistic",
      { host: "relay.example.net", port: 2525, transport: "starttls", starttls: "opportunistic" },
    ],
    ["smtp://10.0.0.5:587", "off", { host: "10.0.0.5", port: 587, transport: "off", starttls: "off" }],
    [
      "smtps://relay.example.net",
      "required",
      { host: "relay.example.net", port: 465, transport: "implicit", starttls: "off" },
    ],
    [
      "smtp://[2001:db8::25]:587",
      "required",
      { host: "2001:db8::25", port: 587, transport: "starttls", starttls: "required" },
    ],
  ])("%s with STARTTLS %s", (url, starttls, want) => {
    expect(relayOf(url, starttls)).toEqual(want);
  });
});
