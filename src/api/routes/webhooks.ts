/** Webhook subscriptions. The signing secret is shown in full only when it is made or given. */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { Webhook, WebhookInput } from "../../core/webhook.js";
import type { Db } from "../../storage/cluster-store.js";
import * as t from "../../storage/schema.js";
import { param } from "../context.js";
import { ApiError, requireSameName } from "../errors.js";
import type { Router } from "../router.js";
import { newWebhookSecret } from "../secrets.js";

const CreatedWebhook = Webhook.extend({ secret: z.string() }).meta({ id: "CreatedWebhook" });

type WebhookRow = typeof t.webhooks.$inferSelect;

function view({ secrets, ...row }: WebhookRow) {
  return { ...row, secretPrefixes: secrets.map((s) => `${s.slice(0, 12)}…`) };
}

function columns(body: WebhookInput) {
  const { secret: _, ...fields } = body;
  return fields;
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
    async (c) => c.json((await c.get("db").select().from(t.webhooks).orderBy(t.webhooks.name)).map(view)),
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
      response: CreatedWebhook,
      status: 201,
      errors: ["already_exists"],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const [existing] = await db.select({ id: t.webhooks.id }).from(t.webhooks).where(eq(t.webhooks.name, body.name));
      if (existing) throw new ApiError("already_exists", `a webhook named ${body.name} already exists`);
      const secret = body.secret ?? newWebhookSecret();
      const [row] = await db
        .insert(t.webhooks)
        .values({ id: crypto.randomUUID(), ...columns(body), secrets: [secret] })
        .returning();
      return c.json({ ...view(row as WebhookRow), secret }, 201);
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
    async (c) => c.json(view(await byName(c.get("db"), param(c, "name")))),
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
      const row = await byName(db, name);
      const [updated] = await db
        .update(t.webhooks)
        .set({ ...columns(body), secrets: body.secret ? [body.secret] : row.secrets })
        .where(eq(t.webhooks.id, row.id))
        .returning();
      return c.json(view(updated as WebhookRow));
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
}
