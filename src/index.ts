/**
 * The Vigil control plane Worker: the /v1 API, the Coordinator and Prober Durable Objects,
 * a cron that tidies expired enrollment tokens and dashboard sessions, keeps probers running
 * and re-queues lost webhook work, and the webhook queue's consumer and its dead letters' drain.
 */
import { createApp } from "./api/app.js";
import { announce } from "./api/cluster-ops.js";
import type { Env } from "./env.js";
import { readClusterDocument } from "./storage/cluster-config.js";
import { openDb } from "./storage/db.js";
import { clusterNames, deleteExpiredEnrollmentTokens } from "./storage/housekeeping.js";
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
    const db = openDb(env.DB);
    await deleteExpiredEnrollmentTokens(db, Date.now() - EXPIRED_TOKEN_RETENTION_MS);
    await deleteExpiredSessions(db);
    await sweep(env);
    // Restart any prober or coordinator whose alarm chain was lost.
    for (const name of await clusterNames(db)) {
      await announce(env, name, [(await readClusterDocument(env.DB, name)) ?? undefined]);
    }
  },

  async queue(batch, env) {
    if (batch.queue === DEAD_LETTER_QUEUE) await drainDeadLetters(batch, env);
    else await consume(batch, env);
  },
} satisfies ExportedHandler<Env, WebhookMessage>;
