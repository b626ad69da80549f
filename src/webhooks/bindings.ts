/** What the webhook pipeline needs of the Worker's bindings (its Env will do). */
import type { WebhookMessage } from "./messages.js";
import type { DeliveryVars } from "./settings.js";

export interface WebhookBindings extends DeliveryVars {
  DB: D1Database;
  WEBHOOKS: Queue<WebhookMessage>;
  VIGIL_ALLOW_PRIVATE_TARGETS?: string | undefined;
}
