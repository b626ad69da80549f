/**
 * The demo's webhook receiver on loopback: verifies each delivery's Standard Webhooks
 * signature with the subscription's secret, and hands the verified event on. A delivery whose
 * signature does not verify is refused with 401 and reported.
 */
import http from "node:http";
import { Webhook } from "standardwebhooks";
import { close, listen } from "./plumbing.mjs";

export class Receiver {
  /** `onEvent(event)` gets each verified event; `onRefused(reason)` each refused delivery. */
  constructor(secret, onEvent, onRefused) {
    this.verifier = new Webhook(secret.replace(/^whsec_/, ""));
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        try {
          const event = this.verifier.verify(body, req.headers);
          res.writeHead(204).end();
          onEvent(event);
        } catch (err) {
          res.writeHead(401).end();
          onRefused(err.message);
        }
      });
    });
  }

  async listen() {
    this.port = await listen(this.server);
    return this.port;
  }

  close() {
    return close(this.server);
  }
}
