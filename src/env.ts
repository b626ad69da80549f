/** The Worker's bindings, as wrangler.toml declares them. */

import type { Prober } from "../edge/prober.js";
import type { Coordinator } from "./coordinator.js";

export interface Env {
  DB: D1Database;
  COORDINATOR: DurableObjectNamespace<Coordinator>;
  PROBER: DurableObjectNamespace<Prober>;
  WEBHOOKS: Queue<unknown>;
  /** The first admin token (a secret); `npm start` generates one into .dev.vars. */
  VIGIL_ADMIN_TOKEN?: string;
}
