/**
 * One delivery attempt: render the event in the subscription's format, sign it, POST it,
 * log the attempt, and decide (src/core/webhook-retry.ts) whether it is done, failed for
 * good, or queued again with backoff. Every attempt carries the same webhook-id.
 */
import { and, eq, gt, gte, inArray, isNull, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type EventPayload, RECOVERY_OF, render } from "../core/webhook-render.js";
import { afterDelivery, retryAfterSeconds } from "../core/webhook-retry.js";
import { signatureHeaders } from "../core/webhook-sign.js";
import type { Env } from "../env.js";
import { privateTargetsAllowed, urlRefusal } from "../outbound-policy.js";
import * as t from "../storage/schema.js";
import { VERSION } from "../version.js";
import { enqueueDelivery, enqueueEvents } from "./messages.js";
import { settings } from "./settings.js";

type Db = ReturnType<typeof drizzle<typeof t>>;

export async function deliver(env: Env, id: string): Promise<void> {
  const db = drizzle(env.DB, { schema: t });
  const [row] = await db
    .select()
    .from(t.deliveries)
    .innerJoin(t.webhooks, eq(t.deliveries.webhookId, t.webhooks.id))
    .where(eq(t.deliveries.id, id));
  if (!row) return;
  const { deliveries: delivery, webhooks: webhook } = row;
  if (delivery.status !== "pending" && delivery.status !== "held") return;
  const now = Date.now();
  const dueIn = Date.parse(delivery.nextAt) - now;
  if (dueIn > 1000) {
    // Queued early (a redelivery, or a message that outran its delay): wait for the due time.
    await enqueueDelivery(env.WEBHOOKS, id, dueIn / 1000);
    return;
  }
  let event = delivery.event as unknown as EventPayload;
  if (delivery.status === "held" && (await recovered(db, event))) {
    await db
      .update(t.deliveries)
      .set({ status: "cancelled", lastError: "recovered within the hold-down" })
      .where(eq(t.deliveries.id, id));
    return;
  }
  if (delivery.eventType === "webhook.summary") event = await summarize(db, webhook.id, event, delivery.createdAt);

  // Claim this attempt before anything is sent: of two copies of a message, one sends and the other stops here.
  const firstAttemptAt = delivery.firstAttemptAt ?? new Date(now).toISOString();
  const [claimed] = await db
    .update(t.deliveries)
    .set({ attempts: delivery.attempts + 1, firstAttemptAt })
    .where(
      and(
        eq(t.deliveries.id, id),
        eq(t.deliveries.attempts, delivery.attempts),
        inArray(t.deliveries.status, ["pending", "held"]),
      ),
    )
    .returning({ attempts: t.deliveries.attempts });
  if (!claimed) return;
  const attempts = claimed.attempts;

  const body = JSON.stringify(render(webhook.format, event, { routingKey: webhook.routingKey ?? undefined }));
  const signed = await signatureHeaders(webhook.secrets, delivery.id, Math.floor(now / 1000), body);
  const { timeoutS, retryBaseS, failingAfter } = settings(env);
  const started = Date.now();
  let status: number | null = null;
  let retryAfterS: number | null = null;
  let error: string | null = null;
  const refused = privateTargetsAllowed(env) ? null : urlRefusal(webhook.url);
  if (refused) {
    // Nothing is sent; it would not be allowed on a retry either.
    await db.batch([
      db.insert(t.deliveryAttempts).values({
        deliveryId: id,
        n: attempts,
        at: new Date(now).toISOString(),
        status: null,
        latencyMs: 0,
        error: `not sent: ${refused}`,
      }),
      db
        .update(t.deliveries)
        .set({ status: "failed", lastError: `not sent: ${refused}` })
        .where(eq(t.deliveries.id, id)),
    ]);
    return;
  }
  try {
    const response = await fetch(webhook.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": `vigil-webhooks/${VERSION}`, ...signed },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutS * 1000),
    });
    status = response.status;
    retryAfterS = retryAfterSeconds(response.headers.get("retry-after"), Date.now());
    await response.body?.cancel();
    if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    error = /abort|timeout/i.test(`${(err as Error)?.name} ${message}`)
      ? `timeout after ${timeoutS} s`
      : message.slice(0, 200);
  }
  const latencyMs = Date.now() - started;
  const attempt = db
    .insert(t.deliveryAttempts)
    .values({ deliveryId: id, n: attempts, at: new Date(now).toISOString(), status, latencyMs, error });

  const decision = afterDelivery(
    { status, retryAfterS },
    attempts,
    Date.parse(firstAttemptAt),
    Date.now(),
    retryBaseS,
    Math.random(),
  );
  // The attempt's row and the delivery's new state are written together.
  if (decision.action === "done") {
    await db.batch([
      attempt,
      db
        .update(t.deliveries)
        .set({ lastError: error, status: "delivered", deliveredAt: new Date().toISOString() })
        .where(eq(t.deliveries.id, id)),
      db.update(t.webhooks).set({ consecutiveFailures: 0, failingSince: null }).where(eq(t.webhooks.id, webhook.id)),
    ]);
    return;
  }
  if (decision.action === "retry") {
    const nextAt = new Date(Date.now() + decision.delayS * 1000).toISOString();
    await db.batch([
      attempt,
      db.update(t.deliveries).set({ lastError: error, status: "pending", nextAt }).where(eq(t.deliveries.id, id)),
    ]);
    await enqueueDelivery(env.WEBHOOKS, id, decision.delayS);
  } else {
    await db.batch([
      attempt,
      db
        .update(t.deliveries)
        .set({ status: "failed", lastError: `${error ?? ""}; ${decision.reason}` })
        .where(eq(t.deliveries.id, id)),
    ]);
  }
  await countFailure(env, db, webhook, event, failingAfter);
}

/**
 * After `failingAfter` failed attempts in a row, one webhook.failing event for the other
 * subscriptions. The count is incremented in SQL and the failing mark set only where it was
 * not, so concurrent attempts neither lose a count nor raise the event twice.
 */
async function countFailure(
  env: Env,
  db: Db,
  webhook: typeof t.webhooks.$inferSelect,
  event: EventPayload,
  failingAfter: number,
): Promise<void> {
  await db
    .update(t.webhooks)
    .set({ consecutiveFailures: sql`${t.webhooks.consecutiveFailures} + 1` })
    .where(eq(t.webhooks.id, webhook.id));
  const [marked] = await db
    .update(t.webhooks)
    .set({ failingSince: new Date().toISOString() })
    .where(
      and(
        eq(t.webhooks.id, webhook.id),
        isNull(t.webhooks.failingSince),
        gte(t.webhooks.consecutiveFailures, failingAfter),
      ),
    )
    .returning({ failures: t.webhooks.consecutiveFailures });
  if (!marked) return;
  await recordFailing(env, db, webhook, event.cluster, { failedAttempts: marked.failures });
}

/** A webhook.failing event about `webhook`, for the other subscriptions (and the dashboard's timeline). */
export async function recordFailing(
  env: Env,
  db: Db,
  webhook: typeof t.webhooks.$inferSelect,
  clusterName: string,
  details: Record<string, unknown>,
): Promise<void> {
  const [cluster] = await db.select({ name: t.clusters.name }).from(t.clusters).where(eq(t.clusters.name, clusterName));
  // Test events belong to no cluster; there is nowhere to record this one.
  if (!cluster) return;
  const id = crypto.randomUUID();
  await db.insert(t.events).values({
    id,
    cluster: cluster.name,
    type: "webhook.failing",
    severity: "warning",
    subject: webhook.name,
    details: { webhook: webhook.name, ...details },
  });
  await enqueueEvents(env.WEBHOOKS, [id]);
}

/** Whether the incident this event opened has closed since (the recovery may have been dispatched first). */
async function recovered(db: Db, event: EventPayload): Promise<boolean> {
  const recovery = RECOVERY_OF[event.type];
  if (!recovery || !event.cluster) return false;
  const [later] = await db
    .select({ id: t.events.id })
    .from(t.events)
    .where(
      and(
        eq(t.events.cluster, event.cluster),
        eq(t.events.subject, event.subject),
        eq(t.events.type, recovery),
        gt(t.events.at, event.at),
      ),
    )
    .limit(1);
  return later !== undefined;
}

/** The summary event: how many notifications the cap held back for this subject. */
async function summarize(db: Db, webhookId: string, event: EventPayload, since: string): Promise<EventPayload> {
  const held = await db
    .select({ type: t.deliveries.eventType })
    .from(t.deliveries)
    .where(
      and(
        eq(t.deliveries.webhookId, webhookId),
        eq(t.deliveries.subject, event.subject),
        eq(t.deliveries.status, "suppressed"),
        gt(t.deliveries.createdAt, new Date(Date.parse(since) - 3600_000).toISOString()),
      ),
    );
  const byType: Record<string, number> = {};
  for (const h of held) byType[h.type] = (byType[h.type] ?? 0) + 1;
  return { ...event, at: new Date().toISOString(), details: { suppressed: held.length, byType } };
}
