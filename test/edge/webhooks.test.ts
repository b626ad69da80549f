/**
 * Webhook delivery end to end in workerd: events go through the queue to receivers on
 * loopback (test/edge/servers.ts), which answer as each test needs.
 */
import { env } from "cloudflare:workers";
import { Webhook as Oracle } from "standardwebhooks";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { EventType, Severity } from "../../src/core/vocabulary.js";
import { DiscordMessage, PagerDutyEvent, SlackMessage, TeamsMessage } from "../core/webhook-shapes.js";
import { api } from "../worker/http.js";
import { emit as emitIn } from "./emit.js";
import type { Received } from "./servers.js";

const ports = inject("ports");
const CLUSTER = "hooks";
const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const hook = (path: string) => `http://127.0.0.1:${ports.hooks}${path}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let counter = 0;

async function received(path: string): Promise<Received[]> {
  return (await fetch(hook(`/hook-log?path=${path}`))).json();
}

/** Waits until `done(requests)` holds for the path's requests. */
async function waitFor(path: string, done: (r: Received[]) => boolean, limitMs = 8_000): Promise<Received[]> {
  const begun = Date.now();
  for (;;) {
    const requests = await received(path);
    if (done(requests)) return requests;
    if (Date.now() - begun > limitMs)
      throw new Error(
        `${path}: not done within ${limitMs} ms: ${JSON.stringify(requests.map((r) => [r.id, r.status]))}`,
      );
    await sleep(100);
  }
}

async function subscribe(body: Record<string, unknown>): Promise<string> {
  const reply = await api("POST", "/v1/webhooks", {
    body: { secret: SECRET, ...body, name: body.name ?? `w${++counter}` },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.name;
}

const emit = (type: EventType, subject: string, severity?: Severity) => emitIn(CLUSTER, type, subject, severity);

const eventIdOf = (r: Received) => JSON.parse(r.body).data?.id as string;

beforeAll(async () => {
  expect((await api("POST", "/v1/clusters", { body: { name: CLUSTER } })).status).toBe(201);
});

describe("webhook delivery", () => {
  it("signs per Standard Webhooks, verified by the standardwebhooks package", async () => {
    await subscribe({ url: hook("/hook/ok"), filter: { targets: ["sig/1"] } });
    const id = await emit("target.down", "sig/1");
    const [request] = await waitFor("/hook/ok", (r) => r.some((x) => eventIdOf(x) === id));
    const got = (await received("/hook/ok")).find((x) => eventIdOf(x) === id) as Received;
    const payload = new Oracle(SECRET).verify(got.body, got.headers) as { type: string; data: { subject: string } };
    expect(payload).toMatchObject({ type: "target.down", data: { subject: "sig/1", cluster: CLUSTER } });
    expect(got.headers["webhook-id"]).toMatch(/^msg_/);
    expect(got.headers["user-agent"]).toMatch(/^vigil-webhooks\//);
    expect(request).toBeDefined();
  });

  it.each([
    ["/hook/500-then-ok", [500, 500, 200]],
    ["/hook/timeout-then-ok", [0, 200]],
    ["/hook/429-then-ok", [429, 200]],
  ])("retries %s with the same webhook-id until it is accepted", async (path, statuses) => {
    const subject = `retry${path}`;
    const name = await subscribe({ url: hook(path), filter: { targets: [subject] } });
    const id = await emit("target.down", subject);
    const mine = (r: Received[]) => r.filter((x) => eventIdOf(x) === id);
    const requests = mine(await waitFor(path, (r) => mine(r).some((x) => x.status === 200), 12_000));
    expect(requests.map((r) => r.status)).toEqual(statuses);
    expect(new Set(requests.map((r) => r.id)).size).toBe(1);
    if (path === "/hook/429-then-ok")
      expect((requests[1] as Received).at - (requests[0] as Received).at).toBeGreaterThanOrEqual(1_900);
    const [delivery] = (await api("GET", `/v1/webhooks/${name}/deliveries`)).body;
    expect(delivery).toMatchObject({ id: requests[0]?.id, status: "delivered", attempts: statuses.length });
    const log = (await api("GET", `/v1/webhooks/${name}/deliveries/${delivery.id}`)).body.attemptLog;
    expect(log.map((a: { status: number | null }) => a.status)).toEqual(
      path === "/hook/timeout-then-ok" ? [null, 200] : statuses,
    );
    if (path === "/hook/timeout-then-ok") expect(log[0].error).toBe("timeout after 1 s");
  });

  it("does not retry a 400 and marks the delivery failed", async () => {
    const name = await subscribe({ url: hook("/hook/400"), filter: { targets: ["bad-request"] } });
    await emit("target.down", "bad-request");
    await waitFor("/hook/400", (r) => r.length >= 1);
    // Failed is final: nothing is scheduled after it.
    await expect
      .poll(async () => (await api("GET", `/v1/webhooks/${name}/deliveries`)).body[0]?.status, { timeout: 15_000 })
      .toBe("failed");
    expect(await received("/hook/400")).toHaveLength(1);
    const [delivery] = (await api("GET", `/v1/webhooks/${name}/deliveries`)).body;
    expect(delivery).toMatchObject({ status: "failed", attempts: 1 });
    expect(delivery.lastError).toContain("not retried");
  });

  it("delivers every event to a receiver that was down for a while, and tells the other subscriptions", async () => {
    await fetch(hook("/hook-control?down=1"));
    const name = await subscribe({ url: hook("/hook/down"), filter: { clusters: [CLUSTER], targets: ["outage/1"] } });
    await subscribe({ url: hook("/hook/ok"), filter: { events: ["webhook.failing"] } });
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await emit(i % 2 ? "target.up" : "target.down", "outage/1"));
    await waitFor("/hook/ok", (r) =>
      r.some((x) => JSON.parse(x.body).type === "webhook.failing" && JSON.parse(x.body).data.subject === name),
    );
    // Every event was tried while the receiver was down before it comes back.
    await waitFor("/hook/down", (r) => new Set(r.filter((x) => x.status === 503).map(eventIdOf)).size === 10, 15_000);
    await fetch(hook("/hook-control?down=0"));
    const requests = await waitFor(
      "/hook/down",
      (r) => new Set(r.filter((x) => x.status === 200).map(eventIdOf)).size === 10,
      15_000,
    );
    const ok = requests.filter((r) => r.status === 200);
    expect(new Set(ok.map(eventIdOf))).toEqual(new Set(ids));
    // Each event kept its webhook-id across attempts.
    for (const id of ids) expect(new Set(requests.filter((r) => eventIdOf(r) === id).map((r) => r.id)).size).toBe(1);
    expect((await api("GET", `/v1/webhooks/${name}`)).body).toMatchObject({
      consecutiveFailures: 0,
      failingSince: null,
    });
  });

  it("sends nothing for a target flapping inside the hold-down, and one alert when it stays down", async () => {
    const name = await subscribe({ url: hook("/hook/ok"), holdDown: 2, filter: { targets: ["flappy/1", "steady/1"] } });
    for (let i = 0; i < 10; i++) {
      await emit("target.down", "flappy/1");
      await emit("target.up", "flappy/1", "info");
    }
    await emit("target.down", "steady/1");
    // Wait until every one of the 21 deliveries is decided (none pending or held).
    await expect
      .poll(
        async () => {
          const all = (await api("GET", `/v1/webhooks/${name}/deliveries?limit=50`)).body as { status: string }[];
          return all.length === 21 && all.every((d) => !["pending", "held"].includes(d.status));
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    const bodies = (await received("/hook/ok"))
      .map((r) => JSON.parse(r.body).data)
      .filter((d) => d?.subject === "flappy/1" || d?.subject === "steady/1");
    expect(bodies.map((d) => `${d.subject} ${d.type}`)).toEqual(["steady/1 target.down"]);
  });

  it("caps notifications per target per hour and schedules one summary", async () => {
    const name = await subscribe({ url: hook("/hook/ok"), maxPerHour: 2, filter: { targets: ["noisy/1"] } });
    for (let i = 0; i < 5; i++) await emit("target.degraded", "noisy/1", "warning");
    const list = async () => (await api("GET", `/v1/webhooks/${name}/deliveries?limit=20`)).body;
    // Wait until all five are decided: sent or suppressed, and the summary held.
    await expect
      .poll(
        async () =>
          (await list()).filter((d: { status: string }) => ["delivered", "suppressed"].includes(d.status)).length,
        { timeout: 15_000, interval: 100 },
      )
      .toBe(5);
    const deliveries = await list();
    const count = (status: string) => deliveries.filter((d: { status: string }) => d.status === status).length;
    expect(count("delivered")).toBe(2);
    expect(count("suppressed")).toBe(3);
    const summary = deliveries.find((d: { eventType: string }) => d.eventType === "webhook.summary");
    expect(summary).toMatchObject({ status: "held" });
    expect(Date.parse(summary.nextAt) - Date.now()).toBeGreaterThan(3_500_000);
    // When the hour is over (brought forward here), one summary says what was held back.
    await env.DB.prepare("UPDATE deliveries SET next_at = ? WHERE id = ?")
      .bind(new Date().toISOString(), summary.id)
      .run();
    await env.WEBHOOKS.send({ kind: "delivery", id: summary.id });
    const [sent] = (await waitFor("/hook/ok", (r) => r.some((x) => x.id === summary.id))).filter(
      (x) => x.id === summary.id,
    );
    expect(JSON.parse((sent as Received).body)).toMatchObject({
      type: "webhook.summary",
      data: { subject: "noisy/1", details: { suppressed: 3, byType: { "target.degraded": 3 } } },
    });
  });

  it.each([
    ["slack", SlackMessage],
    ["discord", DiscordMessage],
    ["teams", TeamsMessage],
    ["pagerduty", PagerDutyEvent],
  ] as const)("sends %s bodies in the documented shape", async (format, schema) => {
    const subject = `format/${format}`;
    await subscribe({
      url: hook("/hook/ok"),
      format,
      filter: { targets: [subject] },
      routingKey: format === "pagerduty" ? "0123456789abcdef0123456789abcdef" : undefined,
    });
    await emit("target.down", subject);
    await emit("target.up", subject, "info");
    const mine = (r: Received) => r.body.includes(subject);
    const requests = await waitFor("/hook/ok", (r) => r.filter(mine).length >= 2);
    for (const r of requests.filter(mine)) schema.parse(JSON.parse(r.body));
    if (format === "pagerduty") {
      const [trigger, resolve] = requests.filter(mine).map((r) => JSON.parse(r.body));
      expect([trigger.event_action, resolve.event_action]).toEqual(["trigger", "resolve"]);
      expect(resolve.dedup_key).toBe(trigger.dedup_key);
    }
  });
});

describe("webhook API", () => {
  it("sends a test event, rotates the secret (both verify meanwhile) and redelivers with the same id", async () => {
    const name = await subscribe({ url: hook("/hook/ok"), filter: { targets: ["none"] } });
    const test = await api("POST", `/v1/webhooks/${name}/test`);
    expect(test.status).toBe(202);
    const [first] = await waitFor("/hook/ok", (r) => r.some((x) => x.id === test.body.id));
    expect(first).toBeDefined();
    const rotated = await api("POST", `/v1/webhooks/${name}/rotate-secret`, { body: {} });
    expect(rotated.body.secretPrefixes).toHaveLength(2);
    const again = await api("POST", `/v1/webhooks/${name}/deliveries/${test.body.id}/redeliver`);
    expect(again.status).toBe(202);
    const requests = await waitFor("/hook/ok", (r) => r.filter((x) => x.id === test.body.id).length === 2);
    const second = requests.filter((x) => x.id === test.body.id)[1] as Received;
    expect(JSON.parse(second.body).type).toBe("webhook.test");
    for (const secret of [SECRET, rotated.body.secret])
      expect(() => new Oracle(secret).verify(second.body, second.headers)).not.toThrow();
  });

  it.each([
    ["a URL that is not http(s)", { url: "ftp://example.test/hook" }, "url"],
    ["a URL pointing at the control plane", { url: "http://vigil.test/v1/health" }, "url"],
    ["a URL longer than 2048 characters", { url: `https://example.test/${"a".repeat(2100)}` }, "url"],
    ["pagerduty without an integration key", { url: "https://example.test/x", format: "pagerduty" }, "routingKey"],
  ])("refuses %s", async (_name, body, field) => {
    const reply = await api("POST", "/v1/webhooks", { body: { name: "refused", ...body } });
    expect(reply.status).toBe(400);
    expect(reply.body.error.issues[0].field).toBe(field);
  });
});
