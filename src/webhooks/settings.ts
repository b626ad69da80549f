/** Delivery settings, from wrangler vars with defaults. */
import type { Env } from "../env.js";

export interface DeliverySettings {
  /** The first retry's backoff; doubled on every further attempt. */
  retryBaseS: number;
  /** How long an attempt waits for the receiver. */
  timeoutS: number;
  /** Failed attempts in a row before a subscription raises webhook.failing. */
  failingAfter: number;
}

export function settings(env: Env): DeliverySettings {
  const num = (value: string | undefined, fallback: number) => (value && Number(value) > 0 ? Number(value) : fallback);
  return {
    retryBaseS: num(env.WEBHOOK_RETRY_BASE_SECONDS, 5),
    timeoutS: num(env.WEBHOOK_TIMEOUT_SECONDS, 10),
    failingAfter: num(env.WEBHOOK_FAILING_AFTER, 5),
  };
}
