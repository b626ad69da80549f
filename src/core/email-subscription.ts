/**
 * An email subscription's own settings: who gets the mail, from whom, through which relay
 * and how (STARTTLS, AUTH). The relay is the subscription's URL: `smtp://host:port` (plain,
 * upgraded by STARTTLS as `starttls` says) or `smtps://host:port` (TLS from the first byte).
 * The relay's password is write-only, like a webhook's secret, and lives outside these settings.
 */
import * as z from "zod";
import { seconds } from "./primitives.js";
import { STARTTLS_MODES, type StartTlsMode } from "./vocabulary.js";

/** An addr-spec (RFC 5321) without quoting or comments: nothing in it can end a command or a header. */
export const MailAddress = z
  .string()
  .max(254, { error: "expected an address of at most 254 characters" })
  .regex(/^[^\s@<>()[\],;:"\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/, {
    error: "expected an address like ops@example.net",
  });

export const EmailSettings = z.strictObject({
  /** The envelope sender and the From header (keepalived's notification_email_from). */
  from: MailAddress,
  /** keepalived's notification_email. */
  to: z
    .array(MailAddress)
    .min(1, { error: "expected at least one recipient" })
    .max(50, { error: "expected at most 50 recipients" }),
  /** For smtp:// relays: refuse a relay without STARTTLS, use it when offered, or never. */
  starttls: z.enum(STARTTLS_MODES).default("required"),
  /** AUTH (PLAIN or LOGIN) as this user, with the subscription's smtpPassword; never in clear. */
  username: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^\p{Cc}]*$/u, { error: "expected a user name without control characters" })
    .optional(),
  /** How long one attempt may take, connection to QUIT (keepalived's smtp_connect_timeout). */
  timeout: seconds(1, 120).default(30),
  /** Where the mails' dashboard links point; the API's own origin when left out. */
  dashboardUrl: z
    .url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
    .max(2048)
    .optional(),
});
export type EmailSettings = z.infer<typeof EmailSettings>;

export type SmtpTransport = "starttls" | "implicit" | "off";

export interface Relay {
  host: string;
  port: number;
  /** How the connection starts: plain then STARTTLS, TLS at once (smtps), or plain throughout. */
  transport: SmtpTransport;
  /** What the dialogue does about STARTTLS (nothing more to do on an smtps connection). */
  starttls: StartTlsMode;
}

/** The submission ports (RFC 8314): 587 for STARTTLS, 465 for TLS at once. */
const DEFAULT_PORT = { "smtp:": 587, "smtps:": 465 } as Record<string, number>;

/** Why a relay URL will not do, or null. Port 25 is closed to Workers, so it is refused here, not at the first alert. */
export function relayUrlIssue(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null; // Not a URL at all: the url field's own check says so.
  }
  if (!(u.protocol in DEFAULT_PORT)) return "the email format needs the relay as smtp://host:port or smtps://host:port";
  if (u.username || u.password)
    return "put no user or password in the URL: give email.username, and the password as smtpPassword";
  if ((u.pathname !== "" && u.pathname !== "/") || u.search || u.hash)
    return "expected only a host and a port, like smtp://relay.example.net:587";
  if (u.port === "25")
    return "port 25 is closed to Workers; use the relay's submission port: smtp://host:587 (STARTTLS) or smtps://host:465";
  return null;
}

/** The relay of a URL that passed relayUrlIssue. */
export function relayOf(url: string, starttls: StartTlsMode): Relay {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port ? Number(u.port) : (DEFAULT_PORT[u.protocol] ?? 587);
  if (u.protocol === "smtps:") return { host, port, transport: "implicit", starttls: "off" };
  return { host, port, transport: starttls === "off" ? "off" : "starttls", starttls };
}
