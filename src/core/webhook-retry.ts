/**
 * What to do after one delivery attempt. Success is done; what the receiver's answer makes
 * worth another try (for HTTP: 408, 429, 5xx, timeouts and connection errors; for a mail: a
 * 4xx or a lost connection) is retried with exponential backoff and jitter (429's Retry-After
 * is honoured) until 24 hours after the first attempt; anything else fails for good.
 */
import type { MailOutcome } from "./smtp-send.js";

export const RETRY_WINDOW_S = 24 * 3600;
/** The longest wait between two attempts. */
export const MAX_BACKOFF_S = 3600;

export interface AttemptOutcome {
  ok: boolean;
  /** Worth another attempt, when not ok. */
  retryable: boolean;
  /** Seconds the receiver asked to wait (HTTP 429's Retry-After), if it did. */
  retryAfterS: number | null;
  /** The answer in words, for the reason a failure is final. */
  answer: string;
}

/** An HTTP answer, or none (status null: a timeout or a connection error). */
export function httpOutcome(status: number | null, retryAfterS: number | null = null): AttemptOutcome {
  const ok = status !== null && status >= 200 && status < 300;
  const retryable = status === null || status === 408 || status === 429 || status >= 500;
  return {
    ok,
    retryable,
    retryAfterS: status === 429 ? retryAfterS : null,
    answer: status === null ? "no answer" : `the receiver answered ${status}`,
  };
}

/** A mail handed to a relay, or refused: a 5xx (or a refusal of ours) is final, a 4xx or a lost connection is not. */
export function mailOutcome(out: MailOutcome): AttemptOutcome {
  if (out.sent) return { ok: true, retryable: false, retryAfterS: null, answer: `the relay answered ${out.code}` };
  const answer =
    out.code === null ? `the relay refused at ${out.step}` : `the relay answered ${out.code} at ${out.step}`;
  return { ok: false, retryable: !out.permanent, retryAfterS: null, answer };
}

export type RetryDecision =
  | { action: "done" }
  | { action: "fail"; reason: string }
  | { action: "retry"; delayS: number };

/**
 * @param attempts attempts made so far, including this one
 * @param baseS the first backoff (doubled on every further attempt)
 */
export function afterDelivery(
  outcome: AttemptOutcome,
  attempts: number,
  firstAttemptAt: number,
  now: number,
  baseS: number,
  random: number,
): RetryDecision {
  if (outcome.ok) return { action: "done" };
  if (!outcome.retryable) return { action: "fail", reason: `${outcome.answer}; not retried` };
  const backoff = Math.min(MAX_BACKOFF_S, baseS * 2 ** Math.max(0, attempts - 1));
  // Jitter keeps many failing deliveries from retrying in step: between half and all of the backoff.
  let delayS = Math.ceil(backoff * (0.5 + 0.5 * random));
  if (outcome.retryAfterS !== null) delayS = Math.max(1, Math.ceil(outcome.retryAfterS));
  if (now + delayS * 1000 > firstAttemptAt + RETRY_WINDOW_S * 1000) {
    return { action: "fail", reason: "gave up after 24 hours of failed attempts" };
  }
  return { action: "retry", delayS };
}

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "\\d{2}:\\d{2}:\\d{2}";
/** An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, or the obsolete RFC 850 and asctime forms. */
const HTTP_DATE = new RegExp(
  `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT|${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT|${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`,
);

/**
 * A Retry-After header in seconds, from either of its two forms: delay-seconds or an
 * HTTP-date. Anything else is no answer (the runtime's date parser would read "in 120" as
 * the year 120).
 */
export function retryAfterSeconds(header: string | null, now: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  if (!HTTP_DATE.test(value)) return null;
  const at = Date.parse(value.endsWith("GMT") ? value : `${value} GMT`);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}
