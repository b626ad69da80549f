/**
 * One mail handed to the operator's relay (RFC 5321): greeting, EHLO, STARTTLS as the
 * subscription asks, AUTH (PLAIN or LOGIN, only inside TLS unless TLS is turned off), the
 * envelope, DATA, QUIT. The connection is an interface, so this runs against a scripted relay in
 * unit tests and over the Workers socket API (its STARTTLS upgrade) in the Worker.
 */
import { toBase64 } from "./base64url.js";
import { authPlain, capabilities, dataPayload, replyClass, type SmtpReply } from "./smtp.js";
import type { StartTlsMode } from "./vocabulary.js";

export interface SmtpConnection {
  /** Sends text as is (command lines end in CRLF). */
  write(text: string): Promise<void>;
  /** The next complete reply; throws when the connection ends first. */
  reply(): Promise<SmtpReply>;
  /** Turns the connection into TLS in place, checking the relay's certificate. */
  startTls(): Promise<void>;
}

export interface MailPlan {
  /** The name this side gives in EHLO. */
  helo: string;
  from: string;
  to: string[];
  /** The whole message (mail-message.ts). */
  message: string;
  starttls: StartTlsMode;
  auth: { username: string; password: string } | null;
}

export type MailOutcome =
  | { sent: true; code: number; refused: string[] }
  | { sent: false; step: string; code: number | null; error: string; permanent: boolean };

class Refused extends Error {
  constructor(
    readonly step: string,
    readonly code: number | null,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Hands the mail over; never throws. A 5xx or a refusal of ours is permanent; a 4xx or a lost connection is worth a retry. */
export async function sendMail(conn: SmtpConnection, plan: MailPlan): Promise<MailOutcome> {
  let step = "greeting";
  const expect = async (want: (code: number) => boolean) => {
    let reply: SmtpReply;
    try {
      reply = await conn.reply();
    } catch (err) {
      throw new Refused(step, null, `connection lost: ${(err as Error).message}`, false);
    }
    if (!want(reply.code)) {
      const text = `${reply.code} ${reply.lines.join(" ")}`.trim().slice(0, 300);
      throw new Refused(step, reply.code, text, replyClass(reply.code) !== "transient");
    }
    return reply;
  };
  const command = async (line: string, name: string, want: (code: number) => boolean) => {
    step = name;
    await conn.write(`${line}\r\n`);
    return expect(want);
  };
  const is =
    (...codes: number[]) =>
    (code: number) =>
      codes.includes(code);
  try {
    await expect(is(220));
    let offered = capabilities(await command(`EHLO ${plan.helo}`, "EHLO", is(250)));
    let tls = false;
    if (plan.starttls !== "off" && offered.starttls) {
      await command("STARTTLS", "STARTTLS", is(220));
      step = "TLS handshake";
      try {
        await conn.startTls();
      } catch (err) {
        throw new Refused(step, null, `TLS: ${(err as Error).message}`, false);
      }
      tls = true;
      // A socket may finish its handshake only when first used: a connection lost here is the handshake's.
      offered = capabilities(
        await command(`EHLO ${plan.helo}`, "EHLO", is(250)).catch((err) => {
          if (err instanceof Refused && err.code !== null) throw err;
          const why = (err as Error).message.replace(/^connection lost: /, "");
          throw new Refused("TLS handshake", null, `TLS: ${why}`, false);
        }),
      );
    } else if (plan.starttls === "required") {
      throw new Refused("STARTTLS", null, "the relay does not offer STARTTLS, and starttls is required", true);
    }
    const refused: string[] = [];
    if (plan.auth) await authenticate(plan.auth, offered.auth, tls || plan.starttls === "off", command);
    await command(`MAIL FROM:<${plan.from}>`, "MAIL FROM", is(250));
    const accepted: string[] = [];
    // The refusal that decides: a transient one if any (worth another try), else the last.
    let deciding: Refused | null = null;
    for (const to of plan.to) {
      try {
        await command(`RCPT TO:<${to}>`, `RCPT TO ${to}`, is(250, 251));
        accepted.push(to);
      } catch (err) {
        if (!(err instanceof Refused) || err.code === null) throw err;
        refused.push(`${to}: ${err.message}`);
        if (deciding === null || deciding.permanent) deciding = err;
      }
    }
    if (accepted.length === 0) {
      const { code, permanent } = deciding ?? { code: null, permanent: false };
      throw new Refused("RCPT TO", code, `every recipient was refused: ${refused.join("; ")}`, permanent);
    }
    await command("DATA", "DATA", is(354));
    step = "message";
    await conn.write(dataPayload(plan.message));
    const done = await expect(is(250));
    step = "QUIT";
    await conn.write("QUIT\r\n").catch(() => undefined);
    return { sent: true, code: done.code, refused };
  } catch (err) {
    if (err instanceof Refused)
      return { sent: false, step: err.step, code: err.code, error: err.message, permanent: err.permanent };
    return { sent: false, step, code: null, error: (err as Error).message, permanent: false };
  }
}

async function authenticate(
  auth: { username: string; password: string },
  mechanisms: string[],
  safe: boolean,
  command: (line: string, name: string, want: (code: number) => boolean) => Promise<SmtpReply>,
): Promise<void> {
  if (!safe) throw new Refused("AUTH", null, "the relay offers no STARTTLS: the password is not sent in clear", true);
  const ok = (code: number) => code === 235;
  if (mechanisms.includes("PLAIN")) {
    await command(authPlain(auth.username, auth.password), "AUTH PLAIN", ok);
  } else if (mechanisms.includes("LOGIN")) {
    const b64 = (s: string) => toBase64(new TextEncoder().encode(s));
    await command("AUTH LOGIN", "AUTH LOGIN", (code) => code === 334);
    await command(b64(auth.username), "AUTH LOGIN username", (code) => code === 334);
    await command(b64(auth.password), "AUTH LOGIN password", ok);
  } else {
    const offered = mechanisms.length > 0 ? `it offers ${mechanisms.join(", ")}` : "it offers none";
    throw new Refused("AUTH", null, `the relay takes no AUTH PLAIN or LOGIN (${offered})`, true);
  }
}
