/**
 * Webhooks under load and under a failed queue batch, in workerd with the real queue:
 * a burst of events larger than any batch the queue hands over is delivered whole, whether
 * it comes as the coordinator queues it or from the cron's sweep; copies of one delivery
 * send once; concurrent failures count every failure and raise webhook.failing once; and a
 * dead letter marks its delivery failed and raises webhook.failing.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import worker from "../../src/index.js";
import { newDeliveryId } from "../../src/storage/deliveries.js";
import { consume, sweep } from "../../src/webhooks/consumer.js";
import { DEAD_LETTER_QUEUE } from "../../src/webhooks/dead-letters.js";
import { deliver } from "../../src/webhooks/deliver.js";
import { enqueueEvents } from "../../src/webhooks/messages.js";
import { api } from "../worker/http.js";
import type { Received } from "./servers.js";

const ports = inject("ports");
const CLUSTER = "burst";
const hook = (path: string) => `http://127.0.0.1:${ports.hooks}${path}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** wrangler.toml's max_batch_size: the most messages the queue hands the consumer at once. */
const LARGEST_BATCH = 100;

async function received(path: string): Promise<Received[]> {
  return (await fetch(hook(`/hook-log?path=${path}`))).json();
}

const eventIdOf = (r: Received) => JSON.parse(r.body).data?.id as string;

async function subscribe(name: string, url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await api("POST", "/v1/webhooks", { body: { name, url, ...extra } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return (await api("GET", `/v1/webhooks/${name}`)).body.id;
}

/** Writes `count` events as the coordinator does, in D1 batches, `ageMs` in the past. */
async function writeEvents(subject: string, count: number, ageMs = 0): Promise<string[]> {
  const insert = env.DB.prepare(
    "INSERT INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, ?, 'target.down', 'critical', ?, '{}', ?)",
  );
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const at = new Date(Date.now() - ageMs).toISOString();
  for (let i = 0; i < ids.length; i += 50)
    await env.DB.batch(ids.slice(i, i + 50).map((id) => insert.bind(id, CLUSTER, subject, at)));
  return ids;
}

async function deliveredIds(path: string, want: number, limitMs: number): Promise<Set<string>> {
  const begun = Date.now();
  for (;;) {
    const ids = new Set((await received(path)).filter((r) => r.status === 200).map(eventIdOf));
    if (ids.size >= want || Date.now() - begun > limitMs) return ids;
    await sleep(200);
  }
}

/** A pending delivery row for `webhookId`, due now and queued nowhere. */
async function pendingDelivery(webhookId: string, subject: string): Promise<string> {
  const [eventId] = await writeEvents(subject, 1);
  const id = newDeliveryId();
  const event = { id: eventId, cluster: CLUSTER, type: "target.down", severity: "critical", subject, details: {} };
  await env.DB.prepare(
    "INSERT INTO deliveries (id, webhook_id, event_id, event_type, subject, event, status, next_at) VALUES (?, ?, ?, 'target.down', ?, ?, 'pending', ?)",
  )
    .bind(
      id,
      webhookId,
      eventId,
      subject,
      JSON.stringify({ ...event, at: new Date().toISOString() }),
      new Date().toISOString(),
    )
    .run();
  return id;
}

beforeAll(async () => {
  expect((await api("POST", "/v1/clusters", { body: { name: CLUSTER } })).status).toBe(201);
});

describe("a burst of alerts", () => {
  it(`delivers every event of a burst larger than the queue's largest batch (${LARGEST_BATCH})`, async () => {
    const count = LARGEST_BATCH * 2 + 50;
    await subscribe("burst-queued", hook("/hook/burst-queued"), { filter: { targets: ["burst/queued"] } });
    const ids = await writeEvents("burst/queued", count);
    await enqueueEvents(env.WEBHOOKS, ids);
    expect(await deliveredIds("/hook/burst-queued", count, 60_000)).toEqual(new Set(ids));
  }, 90_000);

  it("delivers a burst the cron's sweep finds undispatched, and marks every event dispatched", async () => {
    const count = LARGEST_BATCH * 2 + 50;
    await subscribe("burst-swept", hook("/hook/burst-swept"), { filter: { targets: ["burst/swept"] } });
    const ids = await writeEvents("burst/swept", count, 120_000);
    expect((await sweep(env)).events).toBeGreaterThanOrEqual(count);
    expect(await deliveredIds("/hook/burst-swept", count, 60_000)).toEqual(new Set(ids));
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE subject = 'burst/swept' AND dispatched_at IS NULL",
    ).first<{ n: number }>();
    expect(left?.n).toBe(0);
  }, 90_000);

  it("takes one queue message holding more events than D1 binds in one statement", async () => {
    const count = 150;
    await subscribe("burst-one", hook("/hook/burst-one"), { filter: { targets: ["burst/one"] } });
    const ids = await writeEvents("burst/one", count);
    const batch = createMessageBatch("vigil-webhooks", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { kind: "events", ids } },
    ]);
    const ctx = createExecutionContext();
    await consume(batch as never, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m1"]);
    expect(await deliveredIds("/hook/burst-one", count, 60_000)).toEqual(new Set(ids));
  }, 90_000);
});

describe("a failed queue batch", () => {
  it("sends a delivery once however many copies of its message run at once", async () => {
    const webhookId = await subscribe("copies", hook("/hook/copies"), { filter: { targets: ["nothing"] } });
    const id = await pendingDelivery(webhookId, "copies/1");
    await Promise.all([deliver(env, id), deliver(env, id), deliver(env, id)]);
    expect((await received("/hook/copies")).filter((r) => r.id === id)).toHaveLength(1);
    const attempts = await env.DB.prepare("SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(attempts?.n).toBe(1);
  });

  it("counts every one of concurrent failures and raises webhook.failing once", async () => {
    const webhookId = await subscribe("flaky", hook("/hook/500"), { filter: { targets: ["nothing"] } });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await pendingDelivery(webhookId, `flaky/${i}`));
    await Promise.all(ids.map((id) => deliver(env, id)));
    expect((await api("GET", "/v1/webhooks/flaky")).body).toMatchObject({
      consecutiveFailures: 6,
      failingSince: expect.any(String),
    });
    const failing = await env.DB.prepare(
      "SELECT details FROM events WHERE type = 'webhook.failing' AND subject = 'flaky'",
    ).all<{ details: string }>();
    expect(failing.results).toHaveLength(1);
    expect(failing.results[0]?.details).not.toContain("127.0.0.1");
  });

  it("drains a dead letter: its delivery is failed and its subscription raises webhook.failing once", async () => {
    const webhookId = await subscribe("dead", hook("/hook/ok"), { filter: { targets: ["nothing"] } });
    const first = await pendingDelivery(webhookId, "dead/1");
    const second = await pendingDelivery(webhookId, "dead/2");
    const batch = createMessageBatch(DEAD_LETTER_QUEUE, [
      { id: "d1", timestamp: new Date(), attempts: 1, body: { kind: "delivery", id: first } },
      { id: "d2", timestamp: new Date(), attempts: 1, body: { kind: "delivery", id: second } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch as never, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["d1", "d2"]);
    const deliveries = (await api("GET", "/v1/webhooks/dead/deliveries")).body as {
      id: string;
      status: string;
      lastError: string;
    }[];
    for (const id of [first, second])
      expect(deliveries.find((d) => d.id === id)).toMatchObject({
        status: "failed",
        lastError: "the webhook queue gave up on this delivery after its retries",
      });
    const failing = (await api("GET", `/v1/clusters/${CLUSTER}/events?type=webhook.failing&subject=dead`)).body;
    expect(failing).toHaveLength(1);
    expect(failing[0].details).toMatchObject({ webhook: "dead", delivery: first });
  });
});
