/**
 * SMTP relays on loopback for the mail tests (started by servers.ts in Node): a real SMTP
 * server (smtp-server) that offers STARTTLS with a certificate the test CA signed; one that
 * also requires AUTH; one without STARTTLS; one whose certificate nobody trusts. What each
 * received is parsed with a mail parser (mailparser) and listed at the hooks server's
 * /mail-log?to=ADDRESS. Recipients choose how the relay answers by the local part before any
 * "+": refuse@ gets a 550, later@ a 451, flaky@ a 451 the first time the address is seen and
 * a 250 after, drop@ has the connection cut in the middle of DATA.
 */
import type { Socket } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import type { TestCerts } from "./certs.js";

export interface ReceivedMail {
  relay: string;
  envelopeFrom: string;
  envelopeTo: string[];
  tls: boolean;
  user: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  date: string | null;
  /** Each header line as sent, folded lines joined. */
  headerLines: string[];
  /** The longest line of the message as sent. */
  longestLine: number;
}

export const received: ReceivedMail[] = [];
/** Every recipient address a relay has been asked for. */
const seen = new Set<string>();
export const USER = { username: "vigil", password: "s3cret-relay-password" };

const code = (n: number, message: string) => Object.assign(new Error(message), { responseCode: n });

function relay(name: string, tls: { key: string; cert: string } | null, authRequired: boolean): SMTPServer {
  const sockets = new Map<string, Socket>();
  const server: SMTPServer = new SMTPServer({
    name: `${name}.test`,
    ...(tls ?? {}),
    disabledCommands: tls ? [] : ["STARTTLS"],
    authOptional: !authRequired,
    authMethods: ["PLAIN", "LOGIN"],
    // Only over TLS, as a relay should.
    allowInsecureAuth: false,
    logger: false,
    // No reverse DNS of the client: loopback has no name to find, and the lookup costs time.
    disableReverseLookup: true,
    onAuth(auth, _session, callback) {
      if (auth.username === USER.username && auth.password === USER.password) callback(null, { user: auth.username });
      else callback(code(535, "5.7.8 authentication failed"));
    },
    onRcptTo(address, _session, callback) {
      const local = address.address.split(/[@+]/)[0];
      const firstTime = !seen.has(address.address);
      seen.add(address.address);
      if (local === "refuse") callback(code(550, "5.1.1 no such user here"));
      else if (local === "later" || (local === "flaky" && firstTime)) callback(code(451, "4.3.0 try again later"));
      else callback();
    },
    onData(stream, session, callback) {
      if (session.envelope.rcptTo.some((r) => /^drop[@+]/.test(r.address))) {
        stream.once("data", () => sockets.get(key(session))?.destroy());
        stream.on("error", () => undefined);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        void record(name, session, raw).then(
          () => callback(null, "2.0.0 queued"),
          (err) => callback(err),
        );
      });
    },
  });
  // The sockets by peer, so a test relay can cut one.
  server.server.on("connection", (s: Socket) => {
    const k = `${s.remoteAddress}:${s.remotePort}`;
    sockets.set(k, s);
    s.on("close", () => sockets.delete(k));
  });
  server.on("error", () => undefined);
  return server;
}

const key = (session: SMTPServerSession) => `${session.remoteAddress}:${session.remotePort}`;

async function record(relayName: string, session: SMTPServerSession, raw: Buffer): Promise<void> {
  const mail = await simpleParser(raw);
  const text = raw.toString("latin1");
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/));
  received.push({
    relay: relayName,
    envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
    envelopeTo: session.envelope.rcptTo.map((r) => r.address),
    tls: session.secure,
    user: (session.user as string | undefined) ?? null,
    from: mail.from?.text ?? "",
    to: (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) =>
      a.value.map((v) => v.address ?? ""),
    ),
    subject: mail.subject ?? "",
    text: mail.text ?? "",
    messageId: mail.messageId ?? "",
    inReplyTo: mail.inReplyTo ?? null,
    references: list(mail.references),
    date: mail.date ? mail.date.toISOString() : null,
    headerLines: head.replace(/\r\n[ \t]+/g, " ").split("\r\n"),
    longestLine: Math.max(...text.split("\r\n").map((l) => l.length)),
  });
}

export function relays(certs: TestCerts): Record<string, SMTPServer> {
  const trusted = { key: certs.serverKey, cert: certs.serverCert };
  return {
    relay: relay("relay", trusted, false),
    relayAuth: relay("relay-auth", trusted, true),
    relayPlain: relay("relay-plain", null, false),
    relaySelfSigned: relay("relay-self-signed", { key: certs.selfSignedKey, cert: certs.selfSignedCert }, false),
  };
}
