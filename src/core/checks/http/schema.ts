/** http and https: a GET whose status, headers, body pattern, digest and latency are judged (keepalived: HTTP_GET, SSL_GET). */
import * as z from "zod";
import { HostName, intRange, Port, recordOf, seconds } from "../../primitives.js";
import { TlsOptions } from "../tls/schema.js";

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, { error: "expected an HTTP header name" });
const HeaderValue = z
  .string()
  .max(1024)
  .regex(/^[^\0\r\n]*$/, { error: "header values may not contain CR, LF or NUL" });

/** keepalived's HTTP_GET/SSL_GET `url { path status_code digest }`, plus Vigil's extras. */
const HttpFields = {
  connectPort: Port.optional(),
  path: z
    .string()
    .max(2048)
    .regex(/^\/[^\s\0]*$/, { error: "expected a path starting with '/' and without spaces" })
    .default("/"),
  expectStatus: z.array(intRange(100, 599)).min(1, { error: "expected at least one status code" }).default([200]),
  bodyRegex: z.string().max(1024).refine(compiles, { error: "expected a valid regular expression" }).optional(),
  /** MD5 of the body as keepalived's genhash prints it: 32 lowercase hex digits. */
  digest: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, { error: "expected an MD5 digest of 32 hex digits (genhash output)" })
    .transform((d) => d.toLowerCase())
    .optional(),
  headers: recordOf(HeaderName, HeaderValue).default({}),
  /** Response headers that must be present; a non-empty value must appear in the header (any case). */
  expectHeaders: recordOf(HeaderName, HeaderValue).default({}),
  host: HostName.optional(),
  /** A response slower than this is `degraded`, not `up`. */
  degradedAbove: seconds(0.001, 60).optional(),
};

export const HttpParams = z.strictObject({ type: z.literal("http"), ...HttpFields });
export const HttpsParams = z.strictObject({
  type: z.literal("https"),
  ...HttpFields,
  tls: TlsOptions.default({ verify: true, expiryWarnDays: 14 }),
});

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
