/**
 * The mail sender in workerd, over the Workers socket API, against real SMTP relays on
 * loopback (test/edge/mail-relays.ts: smtp-server, STARTTLS with a certificate the test CA
 * signed); each received mail is read back through a mail parser.
 */
import { describe, expect, inject, it } from "vitest";
import { openSmtp } from "../../edge/smtp-connection.js";
import type { SmtpTransport } from "../../src/core/email-subscription.js";
import type { Event } from "../../src/core/event.js";
import { composeMail } from "../../src/core/mail-message.js";
import { type MailPlan, sendMail } from "../../src/core/smtp-send.js";
import type { ReceivedMail } from "./mail-relays.js";

const ports = inject("ports");
const USER = { username: "vigil", password: "s3cret-relay-password" };
let n = 0;

const event = (fields: Partial<Event> = {}): Event => ({
  id: `ev${++n}`,
  cluster: "prod",
  type: "target.down",
  severity: "critical",
  subject: "web/web1",
  details: { down: 3, fresh: 3, error: "status 503" },
  at: "2026-12-06T20:00:00.000Z",
  ...fields,
});

/** Composes the event's mail for `to` and hands it to the relay on `port`. */
async function send(
  port: number,
  to: string[],
  fields: Partial<MailPlan> = {},
  e = event(),
  transport?: SmtpTransport,
) {
  const from = "vigil@lb.example.net";
  const message = composeMail(e, { from, to, date: new Date(), id: `d-${++n}` }, "https://vigil.example.net/ui");
  const plan: MailPlan = { helo: "vigil.test", from, to, message, starttls: "required", auth: null, ...fields };
  const conn = openSmtp("127.0.0.1", port, transport ?? (plan.starttls === "off" ? "off" : "starttls"));
  try {
    return await sendMail(conn, plan);
  } finally {
    await conn.close();
  }
}

async function mailsTo(address: string): Promise<ReceivedMail[]> {
  return (await fetch(`http://127.0.0.1:${ports.hooks}/mail-log?to=${encodeURIComponent(address)}`)).json();
}

describe("mail to a real SMTP relay, from workerd", () => {
  it("upgrades to TLS, authenticates, and delivers a mail whose headers, subject and body read back", async () => {
    const out = await send(ports.relayAuth, ["ops@example.net"], { auth: USER });
    expect(out).toEqual({ sent: true, code: 250, refused: [] });
    const [mail] = await mailsTo("ops@example.net");
    expect(mail).toMatchObject({
      relay: "relay-auth",
      tls: true,
      user: "vigil",
      envelopeFrom: "vigil@lb.example.net",
      from: "vigil@lb.example.net",
      to: ["ops@example.net"],
      subject: "[vigil] DOWN web/web1 (3 of 3 observers: status 503)",
      inReplyTo: "<prod.web%2Fweb1.target@lb.example.net>",
      references: ["<prod.web%2Fweb1.target@lb.example.net>"],
    });
    expect(mail?.messageId).toMatch(/^<d-\d+@lb\.example\.net>$/);
    expect(mail?.text).toMatch(/^web\/web1 down: 3 of 3 observers saw it down \(status 503\)\./);
    expect(mail?.text).toContain("Dashboard: https://vigil.example.net/ui");
    expect(Date.now() - Date.parse(mail?.date ?? "")).toBeLessThan(60_000);
    expect(mail?.longestLine).toBeLessThanOrEqual(78);
  });

  it("threads a down and its up, and encodes a subject that is not ASCII", async () => {
    const to = ["thread@example.net"];
    await send(ports.relay, to, {}, event({ subject: "web/wéb1" }));
    await send(ports.relay, to, {}, event({ type: "target.up", severity: "info", subject: "web/wéb1", details: {} }));
    const [down, up] = await mailsTo("thread@example.net");
    expect(down?.subject).toBe("[vigil] DOWN web/wéb1 (3 of 3 observers: status 503)");
    expect(up?.subject).toBe("[vigil] UP web/wéb1");
    expect(up?.references).toEqual(down?.references);
    expect(up?.messageId).not.toBe(down?.messageId);
    expect(down?.headerLines.find((h) => h.startsWith("Subject:"))).toMatch(/^Subject: =\?UTF-8\?B\?/);
  });

  it("a refusing relay: 5xx is for good, 4xx is worth a retry, and neither delivers", async () => {
    expect(await send(ports.relay, ["refuse@example.net"])).toMatchObject({
      sent: false,
      step: "RCPT TO",
      permanent: true,
    });
    expect(await send(ports.relay, ["later@example.net"])).toMatchObject({
      sent: false,
      step: "RCPT TO",
      permanent: false,
    });
    expect(await mailsTo("refuse@example.net")).toEqual([]);
    expect(await mailsTo("later@example.net")).toEqual([]);
  });

  it("a connection cut in the middle of DATA is worth a retry, and the relay kept nothing", async () => {
    const out = await send(ports.relay, ["drop@example.net"]);
    expect(out).toMatchObject({ sent: false, code: null, permanent: false });
    expect(await mailsTo("drop@example.net")).toEqual([]);
  });

  it("a wrong password is refused for good", async () => {
    expect(await send(ports.relayAuth, ["ops2@example.net"], { auth: { ...USER, password: "wrong" } })).toMatchObject({
      sent: false,
      step: "AUTH PLAIN",
      code: 535,
      permanent: true,
    });
  });

  it("without STARTTLS: required refuses before the envelope, opportunistic sends in clear", async () => {
    expect(await send(ports.relayPlain, ["plain@example.net"])).toMatchObject({
      sent: false,
      step: "STARTTLS",
      permanent: true,
    });
    expect((await send(ports.relayPlain, ["plain@example.net"], { starttls: "opportunistic" })).sent).toBe(true);
    expect((await mailsTo("plain@example.net")).map((m) => m.tls)).toEqual([false]);
  });

  it("a relay whose certificate is not trusted gets nothing", async () => {
    const out = await send(ports.relaySelfSigned, ["untrusted@example.net"]);
    expect(out).toMatchObject({ sent: false, step: "TLS handshake", permanent: false });
    expect(out.sent === false && out.error).toMatch(/^TLS: /);
    expect(await mailsTo("untrusted@example.net")).toEqual([]);
  });
});
