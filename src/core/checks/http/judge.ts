/** What an HTTP(S) response means for its check: status, headers, body pattern, digest, then latency. */
import type * as z from "zod";
import type { ProbeResult } from "../../rise-fall.js";
import { down, slowness, truncate } from "../judging.js";
import type { HttpParams, HttpsParams } from "./schema.js";

type HttpCheck = z.infer<typeof HttpParams> | z.infer<typeof HttpsParams>;

export interface HttpObservation {
  status: number;
  /** Response headers with lowercase names. */
  headers: Record<string, string>;
  body: string;
  /** MD5 of the body, lowercase hex. */
  md5: string;
  latencyMs: number;
}

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
