/**
 * A check: what is probed, how, how often, by whom, and how many observers must agree.
 * keepalived: TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK and vrrp_script.
 */
import { z } from "zod";
import { duplicates } from "./collections.js";
import { Exec, HostName, Ident, InterfaceName, intRange, Port, seconds } from "./primitives.js";
import { AGENT_ONLY_CHECK_TYPES, REGIONS } from "./vocabulary.js";

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, { error: "expected an HTTP header name" });
const HeaderValue = z
  .string()
  .max(1024)
  .regex(/^[^\0\r\n]*$/, { error: "header values may not contain CR, LF or NUL" });

const TlsOptions = z.strictObject({
  /** SNI and the name the certificate must match; defaults to the target address. */
  serverName: HostName.optional(),
  verify: z.boolean().default(true),
  /** Report `degraded` when the certificate expires within this many days (0: never). */
  expiryWarnDays: intRange(0, 365).default(14),
});

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
  headers: z.record(HeaderName, HeaderValue).default({}),
  /** Response headers that must be present; a non-empty value must appear in the header (any case). */
  expectHeaders: z.record(HeaderName, HeaderValue).default({}),
  host: HostName.optional(),
  /** A response slower than this is `degraded`, not `up`. */
  degradedAbove: seconds(0.001, 60).optional(),
};

const HttpParams = z.strictObject({ type: z.literal("http"), ...HttpFields });
const HttpsParams = z.strictObject({
  type: z.literal("https"),
  ...HttpFields,
  tls: TlsOptions.default({ verify: true, expiryWarnDays: 14 }),
});
const TcpParams = z.strictObject({
  type: z.literal("tcp"),
  connectPort: Port.optional(),
  /** Optional banner exchange: send this, expect a reply that starts with `expect`. */
  send: z.string().max(1024).optional(),
  expect: z.string().max(1024).optional(),
});
const TlsParams = z.strictObject({
  type: z.literal("tls"),
  connectPort: Port.optional(),
  ...TlsOptions.shape,
});
const SmtpParams = z.strictObject({
  type: z.literal("smtp"),
  connectPort: Port.optional(),
  helo: HostName.default("vigil.invalid"),
});
const IcmpParams = z.strictObject({ type: z.literal("icmp") });
const ScriptParams = z.strictObject({
  type: z.literal("script"),
  /** Exit status 0 is up, anything else down (MISC_CHECK / vrrp_script). */
  exec: Exec,
});

/** A process is alive on the agent's host: its name as /proc/<pid>/comm shows it (at most 15 characters). */
const ProcessParams = z.strictObject({
  type: z.literal("process"),
  name: z.string().regex(/^[^/\0\n]{1,15}$/, { error: "expected a process name of 1-15 characters, as ps shows it" }),
});

/** A network interface on the agent's host has its link up (keepalived's track_interface). */
const InterfaceParams = z.strictObject({ type: z.literal("interface"), interface: InterfaceName });

export const CheckParams = z.discriminatedUnion("type", [
  HttpParams,
  HttpsParams,
  TcpParams,
  TlsParams,
  SmtpParams,
  IcmpParams,
  ScriptParams,
  ProcessParams,
  InterfaceParams,
]);
export type CheckParams = z.infer<typeof CheckParams>;

export const Observers = z.strictObject({
  regions: z.array(z.enum(REGIONS)).default([]),
  /** Node names whose agents probe from inside the LAN. */
  agents: z.array(Ident).default([]),
});
export type Observers = z.infer<typeof Observers>;

/** How many fresh votes must agree: a majority of observers, all of them, or a count. */
export const Quorum = z.union([z.literal("majority"), z.literal("all"), intRange(1, 64)], {
  error: 'expected "majority", "all" or a number of observers',
});
export type Quorum = z.infer<typeof Quorum>;

const Schedule = {
  name: Ident,
  /** keepalived's delay_loop. */
  interval: seconds(1, 3600).default(5),
  /** keepalived's connect_timeout. */
  timeout: seconds(0.1, 60).default(3),
  /** keepalived's retry / nb_get_retry: extra attempts before the check fails. */
  retries: intRange(0, 10).default(1),
  delayBeforeRetry: seconds(0, 60).default(1),
  rise: intRange(1, 100).default(2),
  fall: intRange(1, 100).default(3),
  observers: Observers,
  quorum: Quorum.default("majority"),
};

export const Check = z
  .discriminatedUnion("type", [
    HttpParams.extend(Schedule),
    HttpsParams.extend(Schedule),
    TcpParams.extend(Schedule),
    TlsParams.extend(Schedule),
    SmtpParams.extend(Schedule),
    IcmpParams.extend(Schedule),
    ScriptParams.extend(Schedule),
    ProcessParams.extend(Schedule),
    InterfaceParams.extend(Schedule),
  ])
  .superRefine((check, ctx) => {
    if (check.timeout >= check.interval) {
      ctx.addIssue({ code: "custom", path: ["timeout"], message: "timeout must be shorter than interval" });
    }
    const observers = check.observers.regions.length + check.observers.agents.length;
    if (observers === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["observers"],
        message: "name at least one region or agent to run this check",
      });
    }
    if (typeof check.quorum === "number" && check.quorum > observers) {
      ctx.addIssue({
        code: "custom",
        path: ["quorum"],
        message: `quorum ${check.quorum} is more than the ${observers} observer(s) named`,
      });
    }
    if ((AGENT_ONLY_CHECK_TYPES as readonly string[]).includes(check.type) && check.observers.regions.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["observers", "regions"],
        message: `${check.type} checks run on agents only; remove the regions`,
      });
    }
    if ("expect" in check && check.expect !== undefined && check.send === undefined) {
      ctx.addIssue({ code: "custom", path: ["expect"], message: "expect needs send" });
    }
    for (const [dup, at] of duplicates(check.observers.regions)) {
      ctx.addIssue({ code: "custom", path: ["observers", "regions", at], message: `region ${dup} is listed twice` });
    }
    for (const [dup, at] of duplicates(check.observers.agents)) {
      ctx.addIssue({ code: "custom", path: ["observers", "agents", at], message: `agent ${dup} is listed twice` });
    }
  })
  .meta({ id: "Check", description: "What is probed and how; a real server or VIP group refers to it by name." });
export type Check = z.infer<typeof Check>;

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
