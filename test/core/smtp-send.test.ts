import { describe, expect, it } from "vitest";
import { readReply } from "../../src/core/smtp.js";
import { type MailPlan, type SmtpConnection, sendMail } from "../../src/core/smtp-send.js";

/** A scripted relay, for the dialogue's rules one by one (test/edge/mail.test.ts runs it against real relays). */
function relay({
  starttls = true,
  auth = ["PLAIN", "LOGIN"],
  answers = {} as Record<string, string>,
  dropAt = null as string | null,
  tlsFails = false,
} = {}) {
  const written: string[] = [];
  let tls = false;
  const queue: string[] = ["220 relay.example.net ESMTP"];
  const answer = (line: string, fallback: string) => {
    const own = Object.entries(answers).find(([prefix]) => line.startsWith(prefix));
    queue.push(own ? own[1] : fallback);
  };
  let inData = false;
  const conn: SmtpConnection = {
    async write(text) {
      written.push(text);
      if (dropAt && text.startsWith(dropAt)) throw new Error("connection reset by peer");
      if (inData) {
        inData = false;
        return answer("message", "250 2.0.0 queued as 1234");
      }
      const line = text.replace(/\r\n$/, "");
      if (line.startsWith("EHLO")) {
        const caps = [...(starttls && !tls ? ["STARTTLS"] : []), ...(auth.length ? [`AUTH ${auth.join(" ")}`] : [])];
        const lines = ["relay.example.net", "PIPELINING", ...caps];
        return answer(line, lines.map((l, i) => `250${i === lines.length - 1 ? " " : "-"}${l}`).join("\r\n"));
      }
      if (line === "STARTTLS") return answer(line, "220 2.0.0 ready to start TLS");
      if (line.startsWith("AUTH PLAIN")) return answer(line, "235 2.7.0 accepted");
      if (line === "AUTH LOGIN") return answer(line, "334 VXNlcm5hbWU6");
      if (written.at(-2) === "AUTH LOGIN\r\n") return answer("AUTH LOGIN username", "334 UGFzc3dvcmQ6");
      if (written.at(-3) === "AUTH LOGIN\r\n") return answer("AUTH LOGIN password", "235 2.7.0 accepted");
      if (line.startsWith("MAIL FROM") || line.startsWith("RCPT TO")) return answer(line, "250 2.1.0 ok");
      if (line === "DATA") {
        inData = !answers.DATA;
        return answer(line, "354 go ahead");
      }
      if (line === "QUIT") return answer(line, "221 bye");
      return answer(line, "500 what?");
    },
    async reply() {
      const next = queue.shift();
      if (next === undefined) throw new Error("the relay closed the connection");
      const read = readReply(`${next}\r\n`);
      if (!read) throw new Error(`bad script line ${next}`);
      return read.reply;
    },
    async startTls() {
      if (tlsFails) throw new Error("certificate verify failed");
      tls = true;
    },
  };
  const commands = () => written.map((w) => (w.includes("\r\n.\r\n") ? "<message>" : w.replace(/\r\n$/, "")));
  return { conn, commands, tls: () => tls };
}

const plan = (fields: Partial<MailPlan> = {}): MailPlan => ({
  helo: "vigil.example.net",
  from: "vigil@example.net",
  to: ["ops@example.net"],
  message: "Subject: x\r\n\r\nhello\r\n",
  starttls: "required",
  auth: { username: "vigil", password: "s3cret" },
  ...fields,
});

describe("sendMail", () => {
  it("upgrades to TLS, says EHLO again, authenticates, and hands the message over", async () => {
    const r = relay();
    expect(await sendMail(r.conn, plan({ to: ["ops@example.net", "oncall@example.net"] }))).toEqual({
      sent: true,
      code: 250,
      refused: [],
    });
    expect(r.tls()).toBe(true);
    expect(r.commands()).toEqual([
      "EHLO vigil.example.net",
      "STARTTLS",
      "EHLO vigil.example.net",
      "AUTH PLAIN AHZpZ2lsAHMzY3JldA==",
      "MAIL FROM:<vigil@example.net>",
      "RCPT TO:<ops@example.net>",
      "RCPT TO:<oncall@example.net>",
      "DATA",
      "<message>",
      "QUIT",
    ]);
  });

  it("refuses for good when STARTTLS is required and not offered, before any envelope", async () => {
    const r = relay({ starttls: false });
    expect(await sendMail(r.conn, plan())).toEqual({
      sent: false,
      step: "STARTTLS",
      code: null,
      error: "the relay does not offer STARTTLS, and starttls is required",
      permanent: true,
    });
    expect(r.commands()).toEqual(["EHLO vigil.example.net"]);
  });

  it("sends in clear when STARTTLS is opportunistic and not offered, but never a password", async () => {
    const open = relay({ starttls: false });
    expect((await sendMail(open.conn, plan({ starttls: "opportunistic", auth: null }))).sent).toBe(true);
    expect(open.tls()).toBe(false);
    const withAuth = relay({ starttls: false });
    expect(await sendMail(withAuth.conn, plan({ starttls: "opportunistic" }))).toMatchObject({
      sent: false,
      step: "AUTH",
      permanent: true,
      error: "the relay offers no STARTTLS: the password is not sent in clear",
    });
    expect(withAuth.commands().some((c) => c.startsWith("AUTH"))).toBe(false);
  });

  it("with STARTTLS off, stays in clear even when offered, and authenticates as told", async () => {
    const r = relay();
    expect((await sendMail(r.conn, plan({ starttls: "off" }))).sent).toBe(true);
    expect(r.tls()).toBe(false);
    expect(r.commands()).not.toContain("STARTTLS");
    expect(r.commands()).toContain("AUTH PLAIN AHZpZ2lsAHMzY3JldA==");
  });

  it("falls back to AUTH LOGIN, and says which mechanisms a relay offers when it knows neither", async () => {
    const login = relay({ auth: ["LOGIN"] });
    expect((await sendMail(login.conn, plan())).sent).toBe(true);
    expect(login.commands().slice(3, 6)).toEqual(["AUTH LOGIN", "dmlnaWw=", "czNjcmV0"]);
    const cram = relay({ auth: ["CRAM-MD5"] });
    expect(await sendMail(cram.conn, plan())).toMatchObject({
      sent: false,
      error: "the relay takes no AUTH PLAIN or LOGIN (it offers CRAM-MD5)",
      permanent: true,
    });
  });

  it.each([
    ["a 5xx is for good", { "MAIL FROM": "550 5.7.1 sender refused" }, "MAIL FROM", 550, true],
    ["a 4xx is worth a retry", { "MAIL FROM": "451 4.3.0 try again later" }, "MAIL FROM", 451, false],
    ["a 421 greeting-time refusal is worth a retry", { EHLO: "421 4.3.2 shutting down" }, "EHLO", 421, false],
    ["a refused password is for good", { "AUTH PLAIN": "535 5.7.8 bad credentials" }, "AUTH PLAIN", 535, true],
    ["a full mailbox on DATA is worth a retry", { DATA: "452 4.3.1 out of storage" }, "DATA", 452, false],
    ["the message refused after DATA is for good", { message: "554 5.6.0 message refused" }, "message", 554, true],
  ] as const)("%s", async (_, answers, step, code, permanent) => {
    const out = await sendMail(relay({ answers }).conn, plan());
    expect(out).toMatchObject({ sent: false, step, code, permanent });
  });

  it("goes on when one recipient is refused, gives up for good when all are with a 5xx, and retries when one was a 4xx", async () => {
    const some = await sendMail(
      relay({ answers: { "RCPT TO:<gone@": "550 5.1.1 no such user" } }).conn,
      plan({ to: ["gone@example.net", "ops@example.net"] }),
    );
    expect(some).toEqual({ sent: true, code: 250, refused: ["gone@example.net: 550 5.1.1 no such user"] });
    const none = await sendMail(
      relay({ answers: { "RCPT TO": "550 5.1.1 no such user" } }).conn,
      plan({ to: ["a@example.net", "b@example.net"] }),
    );
    expect(none).toMatchObject({ sent: false, step: "RCPT TO", code: 550, permanent: true });
    expect(none.sent === false && none.error).toMatch(/every recipient was refused: a@example.net: 550/);
    const later = await sendMail(
      relay({ answers: { "RCPT TO:<a@": "550 5.1.1 no such user", "RCPT TO:<b@": "451 4.3.0 try later" } }).conn,
      plan({ to: ["a@example.net", "b@example.net"] }),
    );
    expect(later).toMatchObject({ sent: false, step: "RCPT TO", code: 451, permanent: false });
  });

  it("a RCPT TO that loses the connection is a lost connection, not a refused recipient", async () => {
    const out = await sendMail(relay({ dropAt: "RCPT TO" }).conn, plan());
    expect(out).toMatchObject({ sent: false, code: null, permanent: false });
  });

  it("a connection lost in the middle of DATA, or a failed TLS handshake, is worth a retry", async () => {
    expect(await sendMail(relay({ dropAt: "Subject" }).conn, plan())).toMatchObject({
      sent: false,
      step: "message",
      code: null,
      permanent: false,
    });
    expect(await sendMail(relay({ tlsFails: true }).conn, plan())).toMatchObject({
      sent: false,
      step: "TLS handshake",
      error: "TLS: certificate verify failed",
      permanent: false,
    });
  });
});
