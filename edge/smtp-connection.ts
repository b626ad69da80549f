/**
 * The connection the mail sender (src/core/smtp-send.ts) talks over, on the Workers socket
 * API: plain TCP that STARTTLS turns into TLS in place (the relay's certificate checked against
 * its host name), TLS from the first byte for smtps, or plain TCP throughout.
 */
import { connect } from "cloudflare:sockets";
import type { SmtpTransport } from "../src/core/email-subscription.js";
import { readReply } from "../src/core/smtp.js";
import type { SmtpConnection } from "../src/core/smtp-send.js";

export function openSmtp(
  hostname: string,
  port: number,
  transport: SmtpTransport,
): SmtpConnection & { close(): Promise<void> } {
  const secureTransport = transport === "implicit" ? "on" : transport === "starttls" ? "starttls" : "off";
  let socket = connect({ hostname, port }, { secureTransport, allowHalfOpen: false });
  let reader = socket.readable.getReader();
  let writer = socket.writable.getWriter();
  let text = "";
  const decoder = new TextDecoder();
  return {
    async write(line) {
      await writer.write(new TextEncoder().encode(line));
    },
    async reply() {
      for (;;) {
        const read = readReply(text);
        if (read) {
          text = read.rest;
          return read.reply;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the relay closed the connection");
        text += decoder.decode(value, { stream: true });
      }
    },
    async startTls() {
      reader.releaseLock();
      writer.releaseLock();
      socket = socket.startTls({ expectedServerHostname: hostname });
      reader = socket.readable.getReader();
      writer = socket.writable.getWriter();
      // Whatever came before the handshake is not trusted after it (RFC 3207 4.2).
      text = "";
    },
    async close() {
      await socket.close().catch(() => undefined);
    },
  };
}
