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

/** A subscription with its whole newest secret: answered once, when the secret is made (never for email). */
const WebhookWithSecret = Webhook.extend({ secret: z.string().optional() }).meta({ id: "WebhookWithSecret" });

/** What a create would store, with nothing stored: the import's check. */
const WebhookDryRun = z
  .object({
    dryRun: z.literal(true),
    /** A subscription of this name exists: a create would be refused, a PUT would replace it. */
    exists: z.boolean(),
    webhook: Webhook.omit({ id: true, createdAt: true }),
  })
  .meta({ id: "WebhookDryRun" });

const CreateQuery = z.strictObject({
  dry_run: z.enum(["true", "false"], { error: "expected true or false" }).default("false"),
});

/**
 * A subscription as the API shows it. For a chat service the URL is the secret (whoever has a
 * Slack, Discord or Teams webhook URL can post to the channel), so a read token sees only its
 * origin. A relay's URL holds no secret (its password is kept apart), so it is shown whole.
 */
function view({ secrets, routingKey, smtpPassword, email, ...row }: WebhookRow, role: TokenRole) {
  const whole = role === "admin" || row.format === "email";
  return {
    ...row,
    ...(email ? { email } : {}),
    url: whole ? row.url : `${new URL(row.url).origin}/`,
    secretPrefixes: secrets.map((s) => `${s.slice(0, 12)}…`),
    hasRoutingKey: routingKey !== null,
    hasSmtpPassword: smtpPassword !== null,
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
      fieldIssue("invalid_field", ["url"], `${refused}: the control plane sends alerts to public addresses only`),
    ]);
}

/**
 * The columns to store. An email subscription's dashboard links default to this API's
 * origin; its relay password, when not given again, stays as stored for the same user.
 */
function columns(c: Context<AppEnv>, body: WebhookInput, stored: WebhookRow | null) {
  const { secret: _, smtpPassword, email, ...fields } = body;
  const sameUser = stored?.email?.username !== undefined && stored.email.username === email?.username;
  const password = smtpPassword ?? (sameUser ? stored.smtpPassword : null);
  if (email?.username !== undefined && password === null)
    throw ApiError.fromIssues([
      fieldIssue("invalid_field", ["smtpPassword"], `expected the relay's password for ${email.username}`),
    ]);
  return {
    ...fields,
    routingKey: fields.routingKey ?? null,
    email: email ? { ...email, dashboardUrl: email.dashboardUrl ?? new URL(c.req.url).origin } : null,
    smtpPassword: password,
  };
}

/** The secrets to sign with: none for mail; a given one; else the stored ones, or a new one. */
function secretsFor(body: WebhookInput, stored: string[]): { secrets: string[]; made?: string } {
  if (body.format === "email") return { secrets: [] };
  if (body.secret) return { secrets: [body.secret] };
  if (stored.length > 0) return { secrets: stored };
  const made = newWebhookSecret();
  return { secrets: [made], made };
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
      summary:
        "Subscribe a URL (or, format email, mail recipients) to events; a webhook's secret is made unless one is given; dry_run=true stores nothing",
      tag: "webhooks",
      role: "admin",
      body: WebhookInput,
      query: CreateQuery,
      response: z.union([WebhookWithSecret, WebhookDryRun]),
      status: 201,
      errors: ["already_exists"],
    },
    async (c, { body, query }) => {
      refuseSelf(c, body.url);
      const db = c.get("db");
      const existing = await webhookByName(db, body.name);
      if (query.dry_run === "true") {
        const set = columns(c, body, existing);
        const unsaved = { id: "", consecutiveFailures: 0, failingSince: null, createdAt: "" };
        const {
          id: _,
          createdAt: _at,
          ...webhook
        } = view({ ...set, ...unsaved, secrets: secretsFor(body, []).secrets }, roleOf(c));
        return c.json({ dryRun: true as const, exists: existing !== null, webhook });
      }
      if (existing) throw new ApiError("already_exists", `a webhook named ${body.name} already exists`);
      const { secrets, made } = secretsFor(body, []);
      const set = columns(c, body, null);
      const row = await insertWebhook(db, set, secrets);
      return c.json({ ...view(row, roleOf(c)), ...(made ? { secret: made } : {}) }, 201);
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
      summary:
        "Replace a subscription's settings; a given secret replaces all current secrets, a relay password left out is kept for the same user",
      tag: "webhooks",
      role: "admin",
      body: WebhookInput,
      bodyDefaults: (c) => ({ name: c.req.param("name") }),
      response: WebhookWithSecret,
    },
    async (c, { body }) => {
      const db = c.get("db");
      const name = param(c, "name");
      requireSameName(name, body.name);
      refuseSelf(c, body.url);
      const row = await byName(db, name);
      const { secrets, made } = secretsFor(body, row.secrets);
      const updated = await updateWebhook(db, row.id, { ...columns(c, body, row), secrets });
      return c.json({ ...view(updated, roleOf(c)), ...(made ? { secret: made } : {}) });
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
      summary: "Send a webhook.test event to this subscription only (for email, one mail)",
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
      if (webhook.format === "email")
        throw ApiError.fromIssues([
          fieldIssue("invalid_field", ["format"], "an email subscription is not signed: it has no secret to rotate"),
        ]);
      const secret = body.secret ?? newWebhookSecret();
      const secrets = body.retireOld ? [secret] : [secret, ...webhook.secrets].slice(0, 2);
      const row = await updateWebhook(c.get("db"), webhook.id, { secrets });
      return c.json({ ...view(row, roleOf(c)), secret });
    },
  );
}
