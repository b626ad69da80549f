/**
 * What a probe's raw observation means: up, down or degraded, and why. The transports in
 * edge/ (and later the agent) only gather facts; the judging lives here, tested by tables.
 */
import type { Check } from "./check.js";
import type { ProbeResult } from "./rise-fall.js";

type HttpCheck = Extract<Check, { type: "http" | "https" }>;

export interface HttpObservation {
  status: number;
  /** Response headers with lowercase names. */
  headers: Record<string, string>;
  body: string;
  /** MD5 of the body, lowercase hex. */
  md5: string;
  latencyMs: number;
}

const down = (reason: string, latencyMs: number | null): ProbeResult => ({ state: "down", reason, latencyMs });

/** Whether a body matches a check's pattern; the agent passes one with a time bound. */
export type BodyMatcher = (pattern: string, body: string) => boolean;

const plainMatch: BodyMatcher = (pattern, body) => new RegExp(pattern).test(body);

export function judgeHttp(check: HttpCheck, o: HttpObservation, matches: BodyMatcher = plainMatch): ProbeResult {
  if (!check.expectStatus.includes(o.status)) return down(`status ${o.status}`, o.latencyMs);
  for (const [name, want] of Object.entries(check.expectHeaders)) {
    const got = o.headers[name.toLowerCase()];
    if (got === undefined) return down(`header ${name} missing`, o.latencyMs);
    if (want !== "" && !got.toLowerCase().includes(want.toLowerCase())) {
      return down(`header ${name} is "${truncate(got, 60)}"`, o.latencyMs);
    }
  }
  if (check.bodyRegex !== undefined && !matches(check.bodyRegex, o.body)) {
    return down(`body does not match /${truncate(check.bodyRegex, 60)}/`, o.latencyMs);
  }
  if (check.digest !== undefined && o.md5 !== check.digest) return down(`digest mismatch: ${o.md5}`, o.latencyMs);
  return slowness(check.degradedAbove, o.latencyMs);
}

/** `degraded` when slower than the limit (seconds), else `up`. */
export function slowness(limitS: number | undefined, latencyMs: number): ProbeResult {
  if (limitS !== undefined && latencyMs > limitS * 1000) {
    return { state: "degraded", reason: `slow: ${Math.round(latencyMs)} ms`, latencyMs };
  }
  return { state: "up", reason: null, latencyMs };
}

/** A TCP check's optional banner exchange: the reply must start with `expect`. */
export function judgeTcpReply(expect: string | undefined, reply: string, latencyMs: number): ProbeResult {
  if (expect !== undefined && !reply.startsWith(expect)) {
    return down(`reply "${truncate(reply, 40)}" does not start with "${truncate(expect, 40)}"`, latencyMs);
  }
  return { state: "up", reason: null, latencyMs };
}

/**
 * One SMTP reply from the text read so far: its code once the last line (`250 ok`, not
 * `250-more`) has arrived, or null while it is incomplete.
 */
export function smtpReply(text: string): { code: number; line: string } | null {
  const lines = text.split("\r\n");
  for (const line of lines.slice(0, -1)) {
    const match = line.match(/^(\d{3})( |$)/);
    if (match) return { code: Number(match[1]), line };
  }
  return null;
}

/** The expected code for each SMTP step, as keepalived's SMTP_CHECK expects them. */
export const SMTP_STEPS = [
  { step: "banner", expect: 220 },
  { step: "EHLO", expect: 250 },
  { step: "QUIT", expect: 221 },
] as const;

export function judgeSmtpStep(step: (typeof SMTP_STEPS)[number], reply: { code: number; line: string }): string | null {
  return reply.code === step.expect ? null : `${step.step} answered ${truncate(reply.line, 80)}`;
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

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
