/** Webhook subscriptions. The signing secret is shown in full only when it is made or given. */
import type { Context } from "hono";
import * as z from "zod";
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
import type { Db } from "../../storage/db.js";
import type { DeliveryRow, WebhookRow } from "../../storage/deliveries.js";
import {
  deleteWebhook,
  deliveryAttempts,
  findDelivery,
  insertPendingDelivery,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  reopenDelivery,
  updateWebhook,
  webhookByName,
} from "../../storage/webhooks.js";
import { enqueueDelivery } from "../../webhooks/messages.js";
import { type AppEnv, param } from "../context.js";
import { ApiError, requireSameName } from "../errors.js";
import type { Router } from "../router.js";
import { newWebhookSecret } from "../secrets.js";

/** A webhook with its whole newest secret: answered once, when the secret is made. */
const WebhookWithSecret = Webhook.extend({ secret: z.string() }).meta({ id: "WebhookWithSecret" });

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
    const row = await webhookByName(db, name);
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
    async (c) => c.json((await listWebhooks(c.get("db"))).map((row) => view(row, roleOf(c)))),
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
      if (await webhookByName(db, body.name))
        throw new ApiError("already_exists", `a webhook named ${body.name} already exists`);
      const secret = body.secret ?? newWebhookSecret();
      const row = await insertWebhook(db, columns(body), [secret]);
      return c.json({ ...view(row, roleOf(c)), secret }, 201);
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
      const updated = await updateWebhook(db, row.id, {
        ...columns(body),
        secrets: body.secret ? [body.secret] : row.secrets,
      });
      return c.json(view(updated, roleOf(c)));
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
      await deleteWebhook(c.get("db"), row.id);
      return c.body(null, 204);
    },
  );

  registerDeliveries(router);
}

function registerDeliveries(router: Router): void {
  const base = "/v1/webhooks/:name";
  const webhookOf = async (c: Context<AppEnv>) => {
    const row = await webhookByName(c.get("db"), param(c, "name"));
    if (!row) throw new ApiError("not_found", `no webhook named ${param(c, "name")}`);
    return row;
  };
  const deliveryOf = async (c: Context<AppEnv>, webhookId: string) => {
    const row = await findDelivery(c.get("db"), webhookId, param(c, "id"));
    if (!row) throw new ApiError("not_found", `no delivery ${param(c, "id")} for webhook ${param(c, "name")}`);
    return row;
  };
  const deliveryView = ({ webhookId: _w, event: _e, firstAttemptAt: _f, ...row }: DeliveryRow) => row;

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
      const rows = await listDeliveries(c.get("db"), webhook.id, query);
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
      const attemptLog = await deliveryAttempts(c.get("db"), delivery.id);
      return c.json({ ...deliveryView(delivery), attemptLog });
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
      const row = await reopenDelivery(c.get("db"), delivery.id);
      await enqueueDelivery(c.env.WEBHOOKS, delivery.id);
      return c.json(deliveryView(row), 202);
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
      const event = {
        id: `test_${crypto.randomUUID()}`,
        cluster: "",
        type: "webhook.test" as const,
        severity: "info" as const,
        subject: webhook.name,
        details: { requestedBy: c.get("principal").name },
        at: new Date().toISOString(),
      };
      const row = await insertPendingDelivery(c.get("db"), webhook.id, event);
      await enqueueDelivery(c.env.WEBHOOKS, row.id);
      return c.json(deliveryView(row), 202);
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
      const row = await updateWebhook(c.get("db"), webhook.id, { secrets });
      return c.json({ ...view(row, roleOf(c)), secret });
    },
  );
}
