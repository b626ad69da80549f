/** One webhook attempt over HTTP: the event rendered in the subscription's format, signed, POSTed. */
import { VERSION } from "../core/version.js";
import { type EventPayload, render } from "../core/webhook-render.js";
import { httpOutcome, retryAfterSeconds } from "../core/webhook-retry.js";
import { signatureHeaders } from "../core/webhook-sign.js";
import type { WebhookRow } from "../storage/deliveries.js";
import type { Sent } from "./sent.js";

export async function postEvent(
  webhook: WebhookRow,
  event: EventPayload,
  deliveryId: string,
  now: number,
  timeoutS: number,
): Promise<Sent> {
  const body = JSON.stringify(render(webhook.format, event, { routingKey: webhook.routingKey ?? undefined }));
  const signed = await signatureHeaders(webhook.secrets, deliveryId, Math.floor(now / 1000), body);
  try {
    const response = await fetch(webhook.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": `vigil-webhooks/${VERSION}`, ...signed },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutS * 1000),
    });
    const status = response.status;
    const retryAfterS = retryAfterSeconds(response.headers.get("retry-after"), Date.now());
    await response.body?.cancel();
    const error = status < 200 || status >= 300 ? `HTTP ${status}` : null;
    return { status, error, outcome: httpOutcome(status, retryAfterS) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const error = /abort|timeout/i.test(`${(err as Error)?.name} ${message}`)
      ? `timeout after ${timeoutS} s`
      : message.slice(0, 200);
    return { status: null, error, outcome: httpOutcome(null) };
  }
}
