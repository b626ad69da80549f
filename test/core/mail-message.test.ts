import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Event } from "../../src/core/event.js";
import {
  composeMail,
  encodeWords,
  mailBody,
  mailSubject,
  rfc5322Date,
  threadKey,
} from "../../src/core/mail-message.js";

const event = (fields: Partial<Event>): Event => ({
  id: "ev1",
  cluster: "prod",
  type: "target.down",
  severity: "critical",
  subject: "web/web1",
  details: {},
  at: "2026-12-06T20:00:00.000Z",
  ...fields,
});

const down = event({ details: { down: 3, fresh: 3, error: "status 503", from: "up", to: "down" } });
const up = event({ id: "ev2", type: "target.up", severity: "info", details: { healthy: 3, fresh: 3 } });
const moved = event({
  type: "vip.moved",
  severity: "warning",
  subject: "VI_1",
  details: { from: "lb1", to: "lb2", afterMs: 1400, reason: "lb1's lease expired" },
});
const envelope = { from: "vigil@lb.example.net", to: ["ops@example.net", "oncall@example.net"], id: "d-42" };

describe("mailSubject", () => {
  it.each([
    [down, "[vigil] DOWN web/web1 (3 of 3 observers: status 503)"],
    [event({ details: {} }), "[vigil] DOWN web/web1"],
    [
      event({ type: "target.degraded", details: { down: 1, fresh: 3 } }),
      "[vigil] DEGRADED web/web1 (1 of 3 observers)",
    ],
    [up, "[vigil] UP web/web1"],
    [moved, "[vigil] VI_1 moved lb1 -> lb2"],
    [event({ type: "vip.moved", subject: "VI_1", details: { to: "lb1" } }), "[vigil] VI_1 held by lb1"],
    [event({ type: "agent.offline", subject: "lb2" }), "[vigil] lb2's agent went away"],
  ])("case %#", (e, subject) => {
    expect(mailSubject(e as Event)).toBe(subject);
  });

  it("keeps what a target reported on one line: no header can be smuggled in", () => {
    const sneaky = event({ details: { down: 1, fresh: 1, error: "bad\r\nBcc: x@evil.example\r\n" } });
    expect(mailSubject(sneaky)).toBe("[vigil] DOWN web/web1 (1 of 1 observers: bad Bcc: x@evil.example )");
    const mail = composeMail(sneaky, { ...envelope, date: new Date(0) }, "l");
    expect(
      mail
        .split("\r\n\r\n")[0]
        ?.split("\r\n")
        .some((h) => h.startsWith("Bcc:")),
    ).toBe(false);
    expect(mail.split("\r\n").some((l) => l.startsWith("Bcc:"))).toBe(false);
  });
});

describe("mailBody", () => {
  it("says what happened, lists the facts, and links the dashboard", () => {
    const body = mailBody(moved, "https://vigil.example.net/ui/clusters/prod/timeline");
    expect(body.split("\n")[0]).toBe("VI_1 moved lb1 -> lb2 in 1.4 s: lb1's lease expired.");
    expect(body).toContain("Cluster: prod\n");
    expect(body).toContain("Event:   vip.moved (warning)\n");
    expect(body).toContain("reason:  lb1's lease expired\n");
    expect(body).toContain("Dashboard: https://vigil.example.net/ui/clusters/prod/timeline");
    expect(body.endsWith("\n-- \nVigil")).toBe(true);
  });

  it("wraps long facts at 78 characters, indented under their value", () => {
    const long = event({ details: { error: `${"connection refused ".repeat(8)}end` } });
    const lines = mailBody(long, "https://x.example/ui").split("\n");
    expect(lines.every((l) => l.length <= 78)).toBe(true);
    // The first line, what happened, wraps too.
    expect(lines[1]).toMatch(/^\S/);
    const at = lines.findIndex((l) => l.startsWith("error:"));
    expect(lines[at]).toMatch(/^error: {3}connection refused/);
    expect(lines[at + 1]).toMatch(/^ {9}(connection|refused)/);
    expect(
      lines
        .slice(at, at + 4)
        .join(" ")
        .replace(/\s+/g, " "),
    ).toContain(`${"connection refused ".repeat(8)}end`);
  });
});

describe("threadKey", () => {
  it("is the same for a down and its up, and differs by target and by kind of incident", () => {
    expect(threadKey(down)).toBe("prod.web/web1.target");
    expect(threadKey(up)).toBe(threadKey(down));
    expect(threadKey(event({ subject: "web/web2" }))).not.toBe(threadKey(down));
    expect(threadKey(event({ type: "quorum.lost" }))).toBe("prod.web/web1.quorum");
    expect(threadKey(event({ type: "quorum.regained" }))).toBe("prod.web/web1.quorum");
    expect(threadKey(moved)).toBeNull();
  });
});

describe("composeMail", () => {
  const date = new Date("2026-12-06T20:00:05Z");

  it("has the headers a relay and a mail client expect, CRLF line ends, and the body after a blank line", () => {
    const mail = composeMail(down, { ...envelope, date }, "https://vigil.example.net/ui/clusters/prod/timeline");
    const [head = "", body = ""] = mail.split("\r\n\r\n");
    const headers = head.split("\r\n");
    expect(headers).toContain("From: vigil@lb.example.net");
    expect(headers).toContain("To: ops@example.net, oncall@example.net");
    expect(headers).toContain("Subject: [vigil] DOWN web/web1 (3 of 3 observers: status 503)");
    expect(headers).toContain("Date: Sun, 06 Dec 2026 20:00:05 +0000");
    expect(headers).toContain("Message-ID: <d-42@lb.example.net>");
    expect(headers).toContain("References: <prod.web%2Fweb1.target@lb.example.net>");
    expect(headers).toContain("In-Reply-To: <prod.web%2Fweb1.target@lb.example.net>");
    expect(headers).toContain("Content-Transfer-Encoding: 7bit");
    expect(body.startsWith("web/web1 down: 3 of 3 observers saw it down (status 503).")).toBe(true);
    expect(mail.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(mail.endsWith("\r\n")).toBe(true);
  });

  it("threads the up under the down's reference, and gives each mail its own id", () => {
    const refs = (e: Event, id: string) =>
      composeMail(e, { ...envelope, id, date }, "l")
        .split("\r\n")
        .filter((h) => /^(References|Message-ID):/.test(h));
    const [downId, downRefs] = refs(down, "d-1");
    const [upId, upRefs] = refs(up, "d-2");
    expect(upRefs).toBe(downRefs);
    expect(upId).not.toBe(downId);
  });

  it("sends a body with non-ASCII text in base64, and keeps every header line within 78 characters", () => {
    const mail = composeMail(
      event({ subject: "web/wéb1", details: { error: "délai dépassé ".repeat(10) } }),
      { ...envelope, date },
      "l",
    );
    const [head = "", body = ""] = mail.split("\r\n\r\n");
    expect(head).toContain("Content-Transfer-Encoding: base64");
    expect(head.split("\r\n").every((l) => l.length <= 78)).toBe(true);
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(body.replace(/\r\n/g, "")), (c) => c.charCodeAt(0)));
    expect(decoded).toContain("web/wéb1 down");
  });
});

describe("encodeWords", () => {
  it("leaves printable ASCII alone", () => {
    expect(encodeWords("[vigil] UP web/web1")).toBe("[vigil] UP web/web1");
  });

  it("encodes anything else in words of at most 75 characters that decode back to the text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 120 }), (value) => {
        const encoded = encodeWords(`é${value}`);
        const words = encoded.split(" ");
        for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
        const decoded = words
          .map((w) => {
            const b64 = w.match(/^=\?UTF-8\?B\?(.*)\?=$/)?.[1] ?? "";
            return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
          })
          .join("");
        expect(decoded).toBe(`é${value}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe("rfc5322Date", () => {
  it.each([
    ["2026-12-06T20:00:05Z", "Sun, 06 Dec 2026 20:00:05 +0000"],
    ["2027-01-01T00:00:00Z", "Fri, 01 Jan 2027 00:00:00 +0000"],
  ])("%s is %s", (iso, text) => {
    expect(rfc5322Date(new Date(iso))).toBe(text);
  });
});
