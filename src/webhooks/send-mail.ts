/**
 * One email attempt: the event as a mail (src/core/mail-message.ts), handed to the operator's
 * relay over a Workers socket (edge/smtp-connection.ts). The delivery's id is the mail's
 * Message-ID, so every attempt of one delivery is one mail to the reader. The subscription's
 * timeout bounds the whole dialogue; when it runs out, the socket is closed.
 */
import { withDeadline } from "../../edge/deadline.js";
import { openSmtp } from "../../edge/smtp-connection.js";
import { relayOf } from "../core/email-subscription.js";
import { composeMail } from "../core/mail-message.js";
import { type MailOutcome, sendMail } from "../core/smtp-send.js";
import type { EventPayload } from "../core/webhook-render.js";
import { mailOutcome } from "../core/webhook-retry.js";
import type { WebhookRow } from "../storage/deliveries.js";
import type { Sent } from "./sent.js";

export async function mailEvent(webhook: WebhookRow, event: EventPayload, deliveryId: string): Promise<Sent> {
  const email = webhook.email;
  if (!email) {
    const out: MailOutcome = { sent: false, step: "settings", code: null, error: "no email settings", permanent: true };
    return { status: null, error: out.error, outcome: mailOutcome(out) };
  }
  const relay = relayOf(webhook.url, email.starttls);
  const base = email.dashboardUrl ?? "";
  const link = event.cluster ? `${base}/ui/clusters/${encodeURIComponent(event.cluster)}/timeline` : `${base}/ui`;
  const message = composeMail(event, { from: email.from, to: email.to, date: new Date(), id: deliveryId }, link);
  const conn = openSmtp(relay.host, relay.port, relay.transport);
  const plan = {
    helo: email.from.split("@")[1] ?? "vigil",
    from: email.from,
    to: email.to,
    message,
    starttls: relay.starttls,
    auth: email.username && webhook.smtpPassword ? { username: email.username, password: webhook.smtpPassword } : null,
  };
  let out: MailOutcome;
  try {
    // sendMail never throws: only the deadline does.
    out = await withDeadline(Date.now() + email.timeout * 1000, () => sendMail(conn, plan));
  } catch {
    out = { sent: false, step: "timeout", code: null, error: `timeout after ${email.timeout} s`, permanent: false };
  }
  await conn.close();
  if (out.sent) {
    const error = out.refused.length > 0 ? `delivered, but refused for ${out.refused.join("; ")}` : null;
    return { status: out.code, error, outcome: mailOutcome(out) };
  }
  const error = out.step === "timeout" ? out.error : `${out.step}: ${out.error}`;
  return { status: out.code, error: error.slice(0, 500), outcome: mailOutcome(out) };
}
