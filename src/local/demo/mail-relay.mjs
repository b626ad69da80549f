/**
 * The demo's mail relay on loopback: a real SMTP server that takes each alert mail the
 * control plane sends to the demo's email subscription and hands on its subject. It keeps no
 * mail and forwards nothing.
 */
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export class MailRelay {
  /** `onMail({ subject, to })` gets each mail the relay takes. */
  constructor(onMail) {
    this.server = new SMTPServer({
      // Loopback only, so plain SMTP without STARTTLS or AUTH, as a relay on one host can be.
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      disableReverseLookup: true,
      onData(stream, session, callback) {
        simpleParser(stream).then((mail) => {
          onMail({ subject: mail.subject ?? "", to: session.envelope.rcptTo.map((r) => r.address) });
          callback(null, "2.0.0 taken");
        }, callback);
      },
    });
  }

  listen() {
    return new Promise((resolve) =>
      this.server.listen(0, "127.0.0.1", () => resolve(this.server.server.address().port)),
    );
  }

  close() {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
