/**
 * The Vigil control plane Worker: the /v1 API, the Coordinator and Prober Durable Objects,
 * a cron that tidies expired enrollment tokens and dashboard sessions, keeps probers running
 * and re-queues lost webhook work, and the webhook queue's consumer and its dead letters' drain.
 */
import { and, isNull, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { createApp } from "./api/app.js";
import { announce } from "./api/cluster-ops.js";
import type { Env } from "./env.js";
import { readClusterDocument } from "./storage/cluster-config.js";
import * as t from "./storage/schema.js";
import { deleteExpiredSessions } from "./storage/ui-sessions.js";
import { consume, sweep } from "./webhooks/consumer.js";
import { DEAD_LETTER_QUEUE, drainDeadLetters } from "./webhooks/dead-letters.js";
import type { WebhookMessage } from "./webhooks/messages.js";

export { Coordinator } from "./coordinator/coordinator.js";
export { Prober } from "./prober/prober.js";

const app = createApp();

/** Unused enrollment tokens are kept this long past expiry, so operators can see why one failed. */
const EXPIRED_TOKEN_RETENTION_MS = 7 * 24 * 3600 * 1000;

export default {
  fetch: app.fetch,

  async scheduled(_controller, env) {
    const db = drizzle(env.DB, { schema: t });
    const cutoff = new Date(Date.now() - EXPIRED_TOKEN_RETENTION_MS).toISOString();
    await db
      .delete(t.enrollmentTokens)
      .where(and(isNull(t.enrollmentTokens.usedAt), lt(t.enrollmentTokens.expiresAt, cutoff)));
    await deleteExpiredSessions(db);
    await sweep(env);
    // Restart any prober or coordinator whose alarm chain was lost.
    for (const { name } of await db.select({ name: t.clusters.name }).from(t.clusters)) {
      await announce(env, name, [(await readClusterDocument(env.DB, name)) ?? undefined]);
    }
  },

  async queue(batch, env) {
    if (batch.queue === DEAD_LETTER_QUEUE) await drainDeadLetters(batch, env);
    else await consume(batch, env);
  },
} satisfies ExportedHandler<Env, WebhookMessage>;
