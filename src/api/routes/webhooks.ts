/** Webhook subscriptions. The signing secret is shown in full only when it is made or given. */
import { and, desc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { z } from "zod";
import { fieldIssue } from "../../core/errors.js";
import type { TokenRole } from "../../core/vocabulary.js";
import {
  Delivery,
  DeliveryQuery,
  DeliveryWithAttempts,
  RotateSecretInput,
  Webhook,
  WebhookInput,
} from "../../core/webhook.js";
import { privateTargetsAllowed, urlRefusal } from "../../outbound-policy.js";
import type { Db } from "../../storage/cluster-store.js";
import * as t from "../../storage/schema.js";
import { newDeliveryId } from "../../webhooks/dispatch.js";
import { enqueueDelivery } from "../../webhooks/messages.js";
import { type AppEnv, param } from "../context.js";
import { ApiError, requireSameName } from "../errors.js";
import type { Router } from "../router.js";
import { newWebhookSecret } from "../secrets.js";

/** A webhook with its whole newest secret: answered once, when the secret is made. */
const WebhookWithSecret = Webhook.extend({ secret: z.string() }).meta({ id: "WebhookWithSecret" });

type WebhookRow = typeof t.webhooks.$inferSelect;

/**
 * A subscription as the API shows it. For a chat service the URL is the secret (whoever has a
 * Slack, Discord or Teams webhook URL can post to the channel), so a read token sees only its origin.
 */
function view({ secrets, routingKey, ...row }: WebhookRow, role: TokenRole) {
  return {
    ...row,
    url: role === "admin" ? row.url : `${new URL(row.url).origin}/`,
    secretPrefixes: secrets.map((s) => `${s.slice(0, 12)}…`),
    hasRoutingKey: routingKey !== null,
  };
}

const roleOf = (c: Context<AppEnv>) => c.get("principal").role;

/**
 * A subscription that posts to this control plane would feed its own queue; one that posts
 * inside the network (loopback, private, link-local) is refused by a deployed control plane.
 */
function refuseSelf(c: Context<AppEnv>, url: string): void {
  if (new URL(url).host === new URL(c.req.url).host) {
    throw ApiError.fromIssues([
      fieldIssue("invalid_field", ["url"], "points at this control plane; give the receiver's address"),
    ]);
  }
  const refused = privateTargetsAllowed(c.env) ? null : urlRefusal(url);
  if (refused)
    throw ApiError.fromIssues([
      fieldIssue("invalid_field", ["url"], `${refused}: the control plane sends webhooks to public addresses only`),
    ]);
}

function columns(body: WebhookInput) {
  const { secret: _, ...fields } = body;
  return { ...fields, routingKey: fields.routingKey ?? null };
}

export function registerWebhooks(router: Router): void {
  const base = "/v1/webhooks";
  const byName = async (db: Db, name: string) => {
    const [row] = await db.select().from(t.webhooks).where(eq(t.webhooks.name, name));
    if (!row) throw new ApiError("not_found", `no webhook named ${name}`);
    return row;
  };

  router.add(
    {
      method: "get",
      path: base,
      operationId: "listWebhooks",
      summary: "List webhooks",
      tag: "webhooks",
      role: "read",
      response: z.array(Webhook),
    },
    async (c) =>
      c.json((await c.get("db").select().from(t.webhooks).orderBy(t.webhooks.name)).map((row) => view(row, roleOf(c)))),
  );

  router.add(
    {
      method: "post",
      path: base,
      operationId: "createWebhook",
      summary: "Subscribe a URL to events; a secret is made unless one is given",
      tag: "webhooks",
      role: "admin",
      body: WebhookInput,
      response: WebhookWithSecret,
      status: 201,
      errors: ["already_exists"],
    },
    async (c, { body }) => {
      refuseSelf(c, body.url);
      const db = c.get("db");
      const [existing] = await db.select({ id: t.webhooks.id }).from(t.webhooks).where(eq(t.webhooks.name, body.name));
      if (existing) throw new ApiError("already_exists", `a webhook named ${body.name} already exists`);
      const secret = body.secret ?? newWebhookSecret();
      const [row] = await db
        .insert(t.webhooks)
        .values({ id: crypto.randomUUID(), ...columns(body), secrets: [secret] })
        .returning();
      return c.json({ ...view(row as WebhookRow, roleOf(c)), secret }, 201);
    },
  );

  router.add(
    {
      method: "get",
      path: `${base}/:name`,
      operationId: "getWebhook",
      summary: "Get a webhook",
      tag: "webhooks",
      role: "read",
      response: Webhook,
    },
    async (c) => c.json(view(await byName(c.get("db"), param(c, "name")), roleOf(c))),
  );

  router.add(
    {
      method: "put",
      path: `${base}/:name`,
      operationId: "replaceWebhook",
      summary: "Replace a webhook's settings; a given secret replaces all current secrets",
      tag: "webhooks",
      role: "admin",
      body: WebhookInput,
      bodyDefaults: (c) => ({ name: c.req.param("name") }),
      response: Webhook,
    },
    async (c, { body }) => {
      const db = c.get("db");
      const name = param(c, "name");
      requireSameName(name, body.name);
      refuseSelf(c, body.url);
      const row = await byName(db, name);
      const [updated] = await db
        .update(t.webhooks)
        .set({ ...columns(body), secrets: body.secret ? [body.secret] : row.secrets })
        .where(eq(t.webhooks.id, row.id))
        .returning();
      return c.json(view(updated as WebhookRow, roleOf(c)));
    },
  );

  router.add(
    {
      method: "delete",
      path: `${base}/:name`,
      operationId: "deleteWebhook",
      summary: "Delete a webhook",
      tag: "webhooks",
      role: "admin",
    },
    async (c) => {
      const row = await byName(c.get("db"), param(c, "name"));
      await c.get("db").delete(t.webhooks).where(eq(t.webhooks.id, row.id));
      return c.body(null, 204);
    },
  );

  registerDeliveries(router);
}

function registerDeliveries(router: Router): void {
  const base = "/v1/webhooks/:name";
  const webhookOf = async (c: Context<AppEnv>) => {
    const [row] = await c
      .get("db")
      .select()
      .from(t.webhooks)
      .where(eq(t.webhooks.name, param(c, "name")));
    if (!row) throw new ApiError("not_found", `no webhook named ${param(c, "name")}`);
    return row;
  };
  const deliveryOf = async (c: Context<AppEnv>, webhookId: string) => {
    const [row] = await c
      .get("db")
      .select()
      .from(t.deliveries)
      .where(and(eq(t.deliveries.webhookId, webhookId), eq(t.deliveries.id, param(c, "id"))));
    if (!row) throw new ApiError("not_found", `no delivery ${param(c, "id")} for webhook ${param(c, "name")}`);
    return row;
  };
  const deliveryView = ({ webhookId: _w, event: _e, firstAttemptAt: _f, ...row }: typeof t.deliveries.$inferSelect) =>
    row;

  router.add(
    {
      method: "get",
      path: `${base}/deliveries`,
      operationId: "listDeliveries",
      summary: "A subscription's deliveries, newest first",
      tag: "webhooks",
      role: "read",
      query: DeliveryQuery,
      response: z.array(Delivery),
    },
    async (c, { query }) => {
      const webhook = await webhookOf(c);
      const rows = await c
        .get("db")
        .select()
        .from(t.deliveries)
        .where(
          and(eq(t.deliveries.webhookId, webhook.id), query.status ? eq(t.deliveries.status, query.status) : undefined),
        )
        .orderBy(desc(t.deliveries.createdAt))
        .limit(query.limit);
      return c.json(rows.map(deliveryView));
    },
  );

  router.add(
    {
      method: "get",
      path: `${base}/deliveries/:id`,
      operationId: "getDelivery",
      summary: "One delivery with every attempt (time, status, latency, error)",
      tag: "webhooks",
      role: "read",
      response: DeliveryWithAttempts,
    },
    async (c) => {
      const delivery = await deliveryOf(c, (await webhookOf(c)).id);
      const attempts = await c
        .get("db")
        .select()
        .from(t.deliveryAttempts)
        .where(eq(t.deliveryAttempts.deliveryId, delivery.id))
        .orderBy(t.deliveryAttempts.n);
      return c.json({ ...deliveryView(delivery), attemptLog: attempts.map(({ deliveryId: _, ...a }) => a) });
    },
  );

  router.add(
    {
      method: "post",
      path: `${base}/deliveries/:id/redeliver`,
      operationId: "redeliver",
      summary: "Send a delivery again, with the same webhook-id, starting a new 24-hour retry window",
      tag: "webhooks",
      role: "admin",
      response: Delivery,
      status: 202,
    },
    async (c) => {
      const delivery = await deliveryOf(c, (await webhookOf(c)).id);
      const [row] = await c
        .get("db")
        .update(t.deliveries)
        .set({ status: "pending", nextAt: new Date().toISOString(), firstAttemptAt: null, lastError: null })
        .where(eq(t.deliveries.id, delivery.id))
        .returning();
      await enqueueDelivery(c.env.WEBHOOKS, delivery.id);
      return c.json(deliveryView(row as typeof t.deliveries.$inferSelect), 202);
    },
  );

  router.add(
    {
      method: "post",
      path: `${base}/test`,
      operationId: "sendTestEvent",
      summary: "Send a webhook.test event to this subscription only",
      tag: "webhooks",
      role: "admin",
      response: Delivery,
      status: 202,
    },
    async (c) => {
      const webhook = await webhookOf(c);
      const id = newDeliveryId();
      const event = {
        id: `test_${crypto.randomUUID()}`,
        cluster: "",
        type: "webhook.test" as const,
        severity: "info" as const,
        subject: webhook.name,
        details: { requestedBy: c.get("principal").name },
        at: new Date().toISOString(),
      };
      const [row] = await c
        .get("db")
        .insert(t.deliveries)
        .values({
          id,
          webhookId: webhook.id,
          eventId: event.id,
          eventType: event.type,
          subject: event.subject,
          event,
          status: "pending",
          nextAt: event.at,
        })
        .returning();
      await enqueueDelivery(c.env.WEBHOOKS, id);
      return c.json(deliveryView(row as typeof t.deliveries.$inferSelect), 202);
    },
  );

  router.add(
    {
      method: "post",
      path: `${base}/rotate-secret`,
      operationId: "rotateWebhookSecret",
      summary: "Add a new signing secret; both are used until retireOld (or the next rotation) drops the old",
      tag: "webhooks",
      role: "admin",
      body: RotateSecretInput,
      response: WebhookWithSecret,
    },
    async (c, { body }) => {
      const webhook = await webhookOf(c);
      const secret = body.secret ?? newWebhookSecret();
      const secrets = body.retireOld ? [secret] : [secret, ...webhook.secrets].slice(0, 2);
      const [row] = await c
        .get("db")
        .update(t.webhooks)
        .set({ secrets })
        .where(eq(t.webhooks.id, webhook.id))
        .returning();
      return c.json({ ...view(row as WebhookRow, roleOf(c)), secret });
    },
  );
}
