/**
 * SMTP as text (RFC 5321), for the mail sender: replies read strictly from what a relay has
 * sent so far, what EHLO says the relay can do, the AUTH PLAIN line, and the DATA payload with
 * its dots stuffed. No I/O here. (The SMTP health check reads banners more leniently, as
 * keepalived's SMTP_CHECK does: checks/smtp/judge.ts.)
 */
import { toBase64 } from "./base64url.js";

/** One reply: its code and each line's text after the code. */
export interface SmtpReply {
  code: number;
  lines: string[];
}

/**
 * The first complete reply in `text`, and what follows it; null while its last line
 * (`250 ok`, not `250-more`) has not arrived. A line that is not a reply line is an error.
 */
export function readReply(text: string): { reply: SmtpReply; rest: string } | null {
  const lines: string[] = [];
  let at = 0;
  let code: number | null = null;
  for (;;) {
    const end = text.indexOf("\r\n", at);
    if (end < 0) return null;
    const line = text.slice(at, end);
    at = end + 2;
    const match = line.match(/^(\d{3})([ -]|$)(.*)$/);
    if (!match) throw new Error(`not an SMTP reply line: ${JSON.stringify(line.slice(0, 80))}`);
    const lineCode = Number(match[1]);
    if (code !== null && lineCode !== code)
      throw new Error(`an SMTP reply changed its code from ${code} to ${lineCode} mid-reply`);
    code = lineCode;
    lines.push(match[3] ?? "");
    if (match[2] !== "-") return { reply: { code, lines }, rest: text.slice(at) };
  }
}

/** 2xx and 3xx go on; 4xx is worth another try later; 5xx will not change. */
export function replyClass(code: number): "ok" | "transient" | "permanent" {
  if (code >= 200 && code < 400) return "ok";
  return code >= 400 && code < 500 ? "transient" : "permanent";
}

export interface Capabilities {
  starttls: boolean;
  /** The AUTH mechanisms offered, upper case. */
  auth: string[];
}

/** What an EHLO reply offers (its first line is the greeting). */
export function capabilities(ehlo: SmtpReply): Capabilities {
  const words = ehlo.lines.slice(1).map((l) => l.trim().toUpperCase().split(/\s+/));
  return {
    starttls: words.some((w) => w[0] === "STARTTLS"),
    auth: words.find((w) => w[0] === "AUTH")?.slice(1) ?? [],
  };
}

/** `AUTH PLAIN` with its initial response (RFC 4616): no authorization identity. */
export function authPlain(username: string, password: string): string {
  return `AUTH PLAIN ${toBase64(new TextEncoder().encode(`\0${username}\0${password}`))}`;
}

/**
 * The DATA payload for a message: CRLF line ends, a dot doubled at the start of any line
 * (RFC 5321 4.5.2), and the terminating `.` line.
 */
export function dataPayload(message: string): string {
  const lines = message.replace(/\r?\n/g, "\r\n").replace(/\r\n$/, "").split("\r\n");
  return `${lines.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n")}\r\n.\r\n`;
}
