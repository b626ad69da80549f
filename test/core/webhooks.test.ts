import { Webhook as Oracle } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { type EventPayload, render } from "../../src/core/webhook-render.js";
import { afterDelivery, httpOutcome, mailOutcome, retryAfterSeconds } from "../../src/core/webhook-retry.js";
import { signatureHeaders } from "../../src/core/webhook-sign.js";
import { DiscordMessage, PagerDutyEvent, SlackMessage, TeamsMessage } from "./webhook-shapes.js";

const SECRET = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;
const OLD = `whsec_${Buffer.from("fedcba9876543210fedcba9876543210").toString("base64")}`;
const down: EventPayload = {
  id: "evt_1",
  cluster: "classic-lvs",
  type: "target.down",
  severity: "critical",
  subject: "web/web1",
  details: { from: "up", to: "down", down: 2, fresh: 3 },
  at: "2026-11-22T06:00:00.000Z",
};
const up: EventPayload = {
  ...down,
  id: "evt_2",
  type: "target.up",
  severity: "info",
  details: { from: "down", to: "up" },
};

describe("signatureHeaders", () => {
  it("is verified by the standardwebhooks package, with either secret during a rotation", async () => {
    const body = JSON.stringify(render("standard", down));
    const now = Math.floor(Date.now() / 1000);
    const headers = await signatureHeaders([SECRET, OLD], "msg_abc", now, body);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [SECRET, OLD])
      expect(new Oracle(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    const other = `whsec_${Buffer.from("x".repeat(32)).toString("base64")}`;
    expect(() => new Oracle(other).verify(body, { ...headers })).toThrow();
    expect(() => new Oracle(SECRET).verify(`${body} `, { ...headers })).toThrow();
  });
});

describe("render", () => {
  it("follows Standard Webhooks' type/timestamp/data envelope", () => {
    expect(render("standard", down)).toEqual({ type: "target.down", timestamp: down.at, data: down });
  });

  it.each([
    ["slack", SlackMessage],
    ["discord", DiscordMessage],
    ["teams", TeamsMessage],
  ] as const)("%s bodies match the documented shape", (format, schema) => {
    for (const e of [down, up]) schema.parse(render(format, e));
  });

  it("PagerDuty triggers on down and resolves on up with the same dedup key", () => {
    const routingKey = "0123456789abcdef0123456789abcdef";
    const trigger = PagerDutyEvent.parse(render("pagerduty", down, { routingKey }));
    const resolve = PagerDutyEvent.parse(render("pagerduty", up, { routingKey }));
    expect(trigger.event_action).toBe("trigger");
    expect(resolve.event_action).toBe("resolve");
    expect(resolve.dedup_key).toBe(trigger.dedup_key);
    expect(trigger.event_action === "trigger" && trigger.payload.severity).toBe("critical");
  });

  it("keeps Discord's limits with a very long subject", () => {
    DiscordMessage.parse(
      render("discord", { ...down, subject: "s".repeat(5000), details: { note: "n".repeat(5000) } }),
    );
  });
});

describe("afterDelivery", () => {
  const t0 = 1_000_000;
  it.each<[string, number | null, number | null, number, string, number | null]>([
    ["2xx is done", 204, null, 1, "done", null],
    ["400 fails at once", 400, null, 1, "fail", null],
    ["404 fails at once", 404, null, 1, "fail", null],
    ["500 is retried after the base delay", 500, null, 1, "retry", 10],
    ["the third 500 waits four times as long", 503, null, 3, "retry", 40],
    ["a timeout is retried", null, null, 1, "retry", 10],
    ["408 is retried", 408, null, 2, "retry", 20],
    ["429 waits as long as Retry-After says", 429, 7, 1, "retry", 7],
    ["backoff is capped at an hour", 500, null, 30, "retry", 3600],
  ])("%s", (_name, status, retryAfterS, attempts, action, delayS) => {
    const decision = afterDelivery(httpOutcome(status, retryAfterS), attempts, t0, t0, 10, 0.999999);
    expect(decision.action).toBe(action);
    if (delayS !== null) expect(decision).toMatchObject({ delayS });
  });

  it("jitters between half and all of the backoff", () => {
    expect(afterDelivery(httpOutcome(500, null), 2, t0, t0, 10, 0)).toEqual({
      action: "retry",
      delayS: 10,
    });
  });

  it.each<[string, number | null, number | null, object]>([
    ["200 is done", 200, null, { action: "done" }],
    ["299 is done", 299, null, { action: "done" }],
    ["300 fails", 300, null, { action: "fail", reason: "the receiver answered 300; not retried" }],
    ["199 fails", 199, null, { action: "fail", reason: "the receiver answered 199; not retried" }],
    ["429 without Retry-After backs off", 429, null, { action: "retry", delayS: 10 }],
    ["429 waits at least a second", 429, 0.2, { action: "retry", delayS: 1 }],
    ["a 503's Retry-After is not honoured", 503, 7, { action: "retry", delayS: 10 }],
  ])("%s, whole", (_name, status, retryAfterS, want) => {
    expect(afterDelivery(httpOutcome(status, retryAfterS), 1, t0, t0, 10, 0.999999)).toEqual(want);
  });

  it.each<[string, Parameters<typeof mailOutcome>[0], object]>([
    ["a mail the relay took is done", { sent: true, code: 250, refused: [] }, { action: "done" }],
    [
      "a 5xx is final",
      { sent: false, step: "RCPT TO", code: 550, error: "550 no such user", permanent: true },
      { action: "fail", reason: "the relay answered 550 at RCPT TO; not retried" },
    ],
    [
      "a refusal of ours (no STARTTLS) is final",
      { sent: false, step: "STARTTLS", code: null, error: "no STARTTLS", permanent: true },
      { action: "fail", reason: "the relay refused at STARTTLS; not retried" },
    ],
    [
      "a 4xx is retried",
      { sent: false, step: "RCPT TO", code: 451, error: "451 later", permanent: false },
      { action: "retry", delayS: 10 },
    ],
    [
      "a connection lost mid-DATA is retried",
      { sent: false, step: "message", code: null, error: "connection lost", permanent: false },
      { action: "retry", delayS: 10 },
    ],
  ])("mail: %s", (_name, out, want) => {
    expect(afterDelivery(mailOutcome(out), 1, t0, t0, 10, 0.999999)).toEqual(want);
  });

  it("retries up to the last moment of the 24 hours, and says why it gives up after", () => {
    const edge = t0 + 24 * 3600 * 1000 - 10_000;
    expect(afterDelivery(httpOutcome(500, null), 1, t0, edge, 10, 0.999999)).toEqual({
      action: "retry",
      delayS: 10,
    });
    expect(afterDelivery(httpOutcome(500, null), 1, t0, edge + 1, 10, 0.999999)).toEqual({
      action: "fail",
      reason: "gave up after 24 hours of failed attempts",
    });
  });

  it("gives up once the next attempt would fall past 24 hours", () => {
    const late = t0 + 24 * 3600 * 1000 - 5_000;
    expect(afterDelivery(httpOutcome(500, null), 9, t0, late, 10, 0.5).action).toBe("fail");
  });

  it("reads Retry-After as seconds or as a date", () => {
    expect(retryAfterSeconds("120", 0)).toBe(120);
    expect(retryAfterSeconds("Thu, 01 Jan 1970 00:00:30 GMT", 0)).toBe(30);
    expect(retryAfterSeconds("soon", 0)).toBeNull();
    expect(retryAfterSeconds(null, 0)).toBeNull();
    expect(retryAfterSeconds(" 120 ", 0)).toBe(120);
    expect(retryAfterSeconds("120s", 0)).toBeNull();
    expect(retryAfterSeconds("a12", 0)).toBeNull();
    expect(retryAfterSeconds("Thu, 01 Jan 1970 00:00:30 GMT", 10_000)).toBe(20);
    expect(retryAfterSeconds("Thu, 01 Jan 1970 00:00:30 GMT", 60_000)).toBe(0);
  });

  it.each<[string, number | null]>([
    ["Thursday, 01-Jan-70 00:00:30 GMT", 30],
    ["Thu Jan  1 00:00:30 1970", 30],
    ["in 120", null],
    ["120 seconds", null],
    ["2026-12-05T10:00:00Z", null],
    ["Thu, 01 Jan 1970 00:00:30", null],
    ["Xyz, 01 Jan 1970 00:00:30 GMT", null],
  ])("reads the Retry-After %j as %j", (header, seconds) => {
    expect(retryAfterSeconds(header, 0)).toBe(seconds);
  });
});
