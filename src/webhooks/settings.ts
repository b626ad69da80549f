/** Delivery settings, from wrangler vars with defaults. */

export interface DeliverySettings {
  /** The first retry's backoff; doubled on every further attempt. */
  retryBaseS: number;
  /** How long an attempt waits for the receiver. */
  timeoutS: number;
  /** Failed attempts in a row before a subscription raises webhook.failing. */
  failingAfter: number;
}

/** The wrangler vars that tune delivery (the Worker's Env will do). */
export interface DeliveryVars {
  WEBHOOK_RETRY_BASE_SECONDS?: string | undefined;
  WEBHOOK_TIMEOUT_SECONDS?: string | undefined;
  WEBHOOK_FAILING_AFTER?: string | undefined;
}

export function settings(env: DeliveryVars): DeliverySettings {
  const num = (value: string | undefined, fallback: number) => (value && Number(value) > 0 ? Number(value) : fallback);
  return {
    retryBaseS: num(env.WEBHOOK_RETRY_BASE_SECONDS, 5),
    timeoutS: num(env.WEBHOOK_TIMEOUT_SECONDS, 10),
    failingAfter: num(env.WEBHOOK_FAILING_AFTER, 5),
  };
}
