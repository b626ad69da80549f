/** The Worker's bindings, as wrangler.toml declares them. */

import type { CoordinatorRpc } from "./coordinator/api.js";
import type { ProberRpc } from "./prober/api.js";
import type { WebhookMessage } from "./webhooks/messages.js";

export interface Env {
  DB: D1Database;
  /** The files hosts install from (wrangler.toml's [assets]). */
  ASSETS?: Fetcher;
  COORDINATOR: DurableObjectNamespace<CoordinatorRpc>;
  PROBER: DurableObjectNamespace<ProberRpc>;
  WEBHOOKS: Queue<WebhookMessage>;
  /** Failed authentication per client address (src/api/auth-failures.ts). */
  AUTH_FAILURES?: RateLimit;
  /** The first admin token (a secret); `npm start` generates one into .dev.vars. */
  VIGIL_ADMIN_TOKEN?: string;
  /** A token that may read /metrics and nothing else (a secret; optional: API tokens work too). */
  VIGIL_METRICS_TOKEN?: string;
  /** The coordinator's signing keys, `kid:seed[,kid:seed]`; see src/coordinator/keys.ts. */
  VIGIL_COORDINATOR_KEY?: string;
  /** Webhook delivery tuning (wrangler vars); defaults in src/webhooks/settings.ts. */
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  WEBHOOK_TIMEOUT_SECONDS?: string;
  WEBHOOK_FAILING_AFTER?: string;
  /**
   * "true" lets webhooks and edge-region probes reach loopback, private and link-local
   * addresses; `npm start` sets it. A deployed control plane leaves it unset.
   */
  VIGIL_ALLOW_PRIVATE_TARGETS?: string;
}
