/**
 * The demo's web servers on loopback, each with a mode the tour can change: `ok`, `flaky` (one
 * request in five answers 503, which retries and fall absorb), `down` for everyone, or down only
 * for the probes of one region (the probe's User-Agent names its region).
 */
import http from "node:http";
import { close, listen } from "./plumbing.mjs";

export class WebServer {
  constructor(name, mode = "ok") {
    this.name = name;
    this.mode = mode;
    this.downFor = null;
    this.server = http.createServer((req, res) => {
      const region = /region=([a-z]+)/.exec(req.headers["user-agent"] ?? "")?.[1] ?? null;
      const failing =
        this.mode === "down" ||
        (this.mode === "flaky" && Math.random() < 0.2) ||
        (this.downFor !== null && region === this.downFor);
      res.writeHead(failing ? 503 : 200, { "content-type": "text/plain" });
      res.end(failing ? `${this.name}: unavailable\n` : `${this.name}: ok\n`);
    });
  }

  /** Listens on a free loopback port; answers it. */
  async listen() {
    this.port = await listen(this.server);
    return this.port;
  }

  close() {
    return close(this.server);
  }
}
