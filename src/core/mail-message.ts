/**
 * An event as a mail people can read (RFC 5322): a subject that says what happened, a plain
 * text body with the facts and a link to the dashboard, the headers a relay and a mail client
 * expect, and a References header shared by an incident's opening and closing mails, so a down
 * and its up land in one thread. Pure: the sender passes the date and the ids.
 */
import { toBase64 } from "./base64url.js";
import type { Event } from "./event.js";
import { eventWords } from "./event-words.js";
import { closes, RECOVERY_OF } from "./webhook-render.js";

/** Lines of at most this many characters (RFC 5322 2.1.1's "SHOULD"). */
const LINE = 78;

const num = (v: unknown) => (typeof v === "number" ? v : null);
/** Control characters (CR and LF above all) become spaces: event text never starts a header or a line. */
const oneLine = (v: string) => v.replace(/\p{Cc}+/gu, " ");
const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);

/** `[vigil] DOWN web/web1 (3 of 3 observers: status 503)`, `[vigil] VI_1 moved lb1 -> lb2`. */
export function mailSubject(e: Event): string {
  return oneLine(subjectOf(e));
}

function subjectOf(e: Event): string {
  const d = e.details;
  switch (e.type) {
    case "target.down":
    case "target.degraded": {
      const seen = num(d.down) !== null && num(d.fresh) !== null ? `${d.down} of ${d.fresh} observers` : null;
      const why = [seen, text(d.error)].filter(Boolean).join(": ");
      return `[vigil] ${e.type === "target.down" ? "DOWN" : "DEGRADED"} ${e.subject}${why ? ` (${why})` : ""}`;
    }
    case "target.up":
      return `[vigil] UP ${e.subject}`;
    case "vip.moved": {
      const to = text(d.to) ?? "?";
      return `[vigil] ${e.subject} ${text(d.from) ? `moved ${d.from} -> ${to}` : `held by ${to}`}`;
    }
    default:
      return `[vigil] ${eventWords(e)}`;
  }
}

/** The body: what happened in words, the facts one per line, and where to look. */
export function mailBody(e: Event, link: string): string {
  const facts: [string, string][] = [
    ["Cluster", e.cluster],
    ["Subject", e.subject],
    ["Event", `${e.type} (${e.severity})`],
    ["At", e.at],
    ...Object.entries(e.details).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  ];
  const width = Math.min(16, Math.max(...facts.map(([k]) => k.length)) + 1);
  return [
    ...fold(oneLine(`${eventWords(e)}.`), ""),
    "",
    ...facts.flatMap(([k, v]) => fold(oneLine(`${`${k}:`.padEnd(width)} ${v}`), " ".repeat(width + 1))),
    "",
    ...fold(`Dashboard: ${link}`, ""),
    "",
    "-- ",
    "Vigil",
  ].join("\n");
}

/** The id both mails of an incident refer to: the target and the kind of incident (down/up, quorum, ...). */
export function threadKey(e: Event): string | null {
  const opening = RECOVERY_OF[e.type] !== undefined ? e.type : closes(e.type)[0];
  if (!opening) return null;
  return `${e.cluster}.${e.subject}.${opening.split(".")[0]}`;
}

export interface MailEnvelope {
  from: string;
  to: string[];
  date: Date;
  /** Unique per delivery; the same for every attempt of it, so a retried mail is one mail. */
  id: string;
}

/** The whole message, CRLF line ends, ready for DATA. */
export function composeMail(e: Event, envelope: MailEnvelope, link: string): string {
  const domain = envelope.from.split("@").at(-1) ?? "vigil";
  const thread = threadKey(e);
  const body = mailBody(e, link);
  // 7bit needs ASCII in lines of at most 998 characters (a long detail without spaces may pass that).
  const ascii = /^[\x20-\x7e\n]*$/.test(body) && body.split("\n").every((l) => l.length <= 998);
  const headers = [
    `From: ${envelope.from}`,
    `To: ${envelope.to.join(", ")}`,
    `Subject: ${encodeWords(mailSubject(e))}`,
    `Date: ${rfc5322Date(envelope.date)}`,
    `Message-ID: <${envelope.id}@${domain}>`,
    ...(thread
      ? [
          `References: <${encodeURIComponent(thread)}@${domain}>`,
          `In-Reply-To: <${encodeURIComponent(thread)}@${domain}>`,
        ]
      : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Transfer-Encoding: ${ascii ? "7bit" : "base64"}`,
    "Auto-Submitted: auto-generated",
  ].flatMap((h) => fold(h));
  const encoded = ascii ? body.split("\n") : (toBase64(new TextEncoder().encode(body)).match(/.{1,76}/g) ?? []);
  return `${[...headers, "", ...encoded].join("\r\n")}\r\n`;
}

/** `Sun, 06 Dec 2026 20:00:00 +0000`. */
export function rfc5322Date(date: Date): string {
  const [day, rest] = date.toUTCString().split(", ");
  const [d, month, year, time] = (rest ?? "").split(" ");
  return `${day}, ${(d ?? "").padStart(2, "0")} ${month} ${year} ${time} +0000`;
}

/** A header value as is when it is printable ASCII; else RFC 2047 encoded words of at most 75 characters. */
export function encodeWords(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = "";
  for (const char of value) {
    // base64 of n bytes takes 4 * ceil(n / 3) characters; 12 go to "=?UTF-8?B?" and "?=".
    const bytes = new TextEncoder().encode(chunk + char).length;
    if (12 + 4 * Math.ceil(bytes / 3) > 75) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${toBase64(new TextEncoder().encode(w))}?=`).join(" ");
}

/**
 * `line` broken at spaces so that no line passes 78 characters where a space allows it; each
 * line after the first starts with `indent` (a header's continuation needs at least a space).
 */
function fold(line: string, indent = " "): string[] {
  const lines: string[] = [];
  let current = "";
  for (const word of line.split(" ")) {
    if (current.trim() !== "" && current.length + 1 + word.length > LINE) {
      lines.push(current);
      current = `${indent}${word}`;
    } else current = current === "" ? word : `${current} ${word}`;
  }
  lines.push(current);
  return lines;
}
