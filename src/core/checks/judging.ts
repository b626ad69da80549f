/**
 * What every judge shares: a failure with its reason, slowness as `degraded`, connection
 * failures named the way an operator reads them. The transports only gather facts; each
 * check type's judge (checks/<type>/judge.ts) says what they mean, tested by tables.
 */
import type { ProbeResult } from "../rise-fall.js";

export const down = (reason: string, latencyMs: number | null): ProbeResult => ({ state: "down", reason, latencyMs });

/** `degraded` when slower than the limit (seconds), else `up`. */
export function slowness(limitS: number | undefined, latencyMs: number): ProbeResult {
  if (limitS !== undefined && latencyMs > limitS * 1000) {
    return { state: "degraded", reason: `slow: ${Math.round(latencyMs)} ms`, latencyMs };
  }
  return { state: "up", reason: null, latencyMs };
}

/** Names a connection failure the way an operator reads it. */
export function connectionFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/timed? ?out|timeout/i.test(message)) return "timeout";
  if (/refused|ECONNREFUSED/i.test(message)) return "refused";
  if (/certificate|x509|self[- ]signed|unable to verify|issuer/i.test(message))
    return `certificate: ${truncate(message, 120)}`;
  if (/tls|ssl|handshake/i.test(message)) return `tls: ${truncate(message, 120)}`;
  return truncate(message, 160);
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
