/**
 * Loopback servers for the probe tests, started in Node before the workerd tests run:
 * HTTP and HTTPS (trusted and self-signed), a TCP responder, SMTP servers (good and 554),
 * a port that refuses and one that never answers. The HTTP server fails on demand per
 * region (read from the probe's User-Agent), or per path under /switched/ (set at /switch),
 * records when each path was hit, and the most requests each prober shard had open at once (/open).
 * And the SMTP relays of the mail tests (mail-relays.ts).
 */
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import { type AddressInfo, createServer as createTcp, type Server, type Socket } from "node:net";
import type { TestProject } from "vitest/node";
import type { TestCerts } from "./certs.js";
import { received as mails, relays } from "./mail-relays.js";

declare module "vitest" {
  export interface ProvidedContext {
    ports: Record<
      "http" | "https" | "selfSigned" | "tcp" | "smtp" | "smtp554" | "refused" | "silent" | "hooks" | RelayName,
      number
    >;
  }
}

type RelayName = "relay" | "relayAuth" | "relayPlain" | "relaySelfSigned";

/** What a webhook receiver saw. */
export interface Received {
  path: string;
  id: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  status: number;
}

const received: Received[] = [];
let receiverDown = false;

/**
 * Webhook receivers by path: /hook/ok; /hook/500; /hook/500-then-ok (two 500s per id);
 * /hook/timeout-then-ok (the first attempt per id hangs, logged as status 0); /hook/429-then-ok (Retry-After: 2
 * first); /hook/400; /hook/down (503 while /hook-control?down=1). /hook-log lists requests.
 */
function receive(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/hook-control") {
    receiverDown = url.searchParams.get("down") === "1";
    res.end("ok");
    return;
  }
  if (url.pathname === "/mail-log") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(mails.filter((m) => m.envelopeTo.includes(url.searchParams.get("to") ?? ""))));
    return;
  }
  if (url.pathname === "/hook-log") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(received.filter((r) => r.path === url.searchParams.get("path"))));
    return;
  }
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const id = String(req.headers["webhook-id"] ?? "");
    const before = received.filter((r) => r.path === url.pathname && r.id === id).length;
    let status = 200;
    const headers: Record<string, string> = {};
    if (url.pathname === "/hook/500") status = 500;
    else if (url.pathname === "/hook/500-then-ok") status = before < 2 ? 500 : 200;
    else if (url.pathname === "/hook/429-then-ok" && before === 0) {
      status = 429;
      headers["retry-after"] = "2";
    } else if (url.pathname === "/hook/400") status = 400;
    else if (url.pathname === "/hook/down" && receiverDown) status = 503;
    else if (url.pathname === "/hook/timeout-then-ok" && before === 0) status = 0;
    const flat = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    received.push({ path: url.pathname, id, headers: flat, body, at: Date.now(), status });
    if (status === 0) return; // never answers
    res.writeHead(status, headers).end();
  });
}

const failingRegions = new Set<string>();
/** Paths under /switched/ answer the status set for them at /switch (200 until then). */
const switched = new Map<string, number>();
const hits = new Map<string, number[]>();
/** Requests open at once per prober (`<region> <shard>`, from the User-Agent): now, and the most seen. */
const open = new Map<string, { now: number; most: number }>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const region = (req.headers["user-agent"] ?? "").match(/region=(\w+)/)?.[1] ?? "";
  const shard = (req.headers["user-agent"] ?? "").match(/shard=(\d+)/)?.[1];
  if (region && shard !== undefined) {
    const count = open.get(`${region} ${shard}`) ?? { now: 0, most: 0 };
    open.set(`${region} ${shard}`, count);
    count.now += 1;
    count.most = Math.max(count.most, count.now);
    res.on("close", () => {
      count.now -= 1;
    });
  }
  if (url.pathname === "/open") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(Object.fromEntries([...open].map(([k, v]) => [k, v.most]))));
    return;
  }
  if (url.pathname === "/control") {
    failingRegions.clear();
    for (const r of (url.searchParams.get("fail") ?? "").split(",").filter(Boolean)) failingRegions.add(r);
    res.end("ok");
    return;
  }
  if (url.pathname === "/switch") {
    switched.set(url.searchParams.get("path") ?? "", Number(url.searchParams.get("status") ?? 200));
    res.end("ok");
    return;
  }
  if (url.pathname === "/hits") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(hits.get(url.searchParams.get("path") ?? "") ?? []));
    return;
  }
  const key = `${url.pathname}${region ? `@${region}` : ""}`;
  hits.set(key, [...(hits.get(key) ?? []), Date.now()]);
  res.setHeader("x-served-by", "web1");
  res.setHeader("x-user-agent", req.headers["user-agent"] ?? "");
  res.setHeader("x-host", req.headers.host ?? "");
  if (url.pathname.startsWith("/status/")) {
    res.statusCode = Number(url.pathname.slice(8));
    res.end("status");
  } else if (url.pathname === "/slow") {
    setTimeout(() => res.end("<h1>ok</h1>"), Number(url.searchParams.get("ms") ?? 200));
  } else if (url.pathname === "/hang") {
    // Never answers.
  } else if (url.pathname.startsWith("/switched/")) {
    res.statusCode = switched.get(url.pathname) ?? 200;
    res.end(res.statusCode === 200 ? "<h1>ok</h1>" : "switched off");
  } else if (url.pathname.startsWith("/region")) {
    res.statusCode = failingRegions.has(region) ? 503 : 200;
    res.end(res.statusCode === 200 ? "<h1>ok</h1>" : "failing");
  } else {
    res.setHeader("content-type", "text/html");
    res.end("<h1>ok</h1>");
  }
}

function smtp(bannerCode: number): (socket: Socket) => void {
  return (socket) => {
    socket.write(bannerCode === 220 ? "220 mx.test ESMTP ready\r\n" : `${bannerCode} mx.test no service here\r\n`);
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      while (buffer.includes("\r\n")) {
        const line = buffer.slice(0, buffer.indexOf("\r\n"));
        buffer = buffer.slice(line.length + 2);
        if (/^EHLO /i.test(line)) socket.write("250-mx.test greets you\r\n250 SIZE 10240000\r\n");
        else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
        else socket.write("500 what\r\n");
      }
    });
    socket.on("error", () => undefined);
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const certs = JSON.parse(process.env.VIGIL_TEST_CERTS ?? "null") as TestCerts | null;
  if (!certs) throw new Error("VIGIL_TEST_CERTS is not set: test/edge/vitest.config.ts makes the certificates");
  const sockets = new Set<Socket>();
  const track = (server: Server) =>
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
  const servers: Record<string, Server> = {
    http: createHttp(handle),
    https: createHttps({ key: certs.serverKey, cert: certs.serverCert }, handle),
    selfSigned: createHttps({ key: certs.selfSignedKey, cert: certs.selfSignedCert }, handle),
    tcp: createTcp((s) => {
      s.on("data", (d) => s.write(d.toString().startsWith("PING") ? "PONG ready\r\n" : "ERR unknown\r\n"));
      s.on("error", () => undefined);
    }),
    smtp: createTcp(smtp(220)),
    smtp554: createTcp(smtp(554)),
    silent: createTcp((s) => s.on("error", () => undefined)),
    refused: createTcp(),
    hooks: createHttp(receive),
  };
  const ports = {} as Record<string, number>;
  for (const [name, server] of Object.entries(servers)) {
    track(server);
    ports[name] = await listen(server);
  }
  // Nothing listens on this port any more: connections are refused.
  await new Promise((resolve) => servers.refused?.close(resolve));
  const smtpRelays = relays(certs);
  for (const [name, relay] of Object.entries(smtpRelays)) {
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    ports[name] = (relay.server.address() as AddressInfo).port;
  }
  project.provide("ports", ports as never);
  return async () => {
    for (const relay of Object.values(smtpRelays)) await new Promise<void>((resolve) => relay.close(resolve));
    for (const s of sockets) s.destroy();
    await Promise.all(
      Object.entries(servers)
        .filter(([name]) => name !== "refused")
        .map(([, server]) => new Promise((resolve) => server.close(resolve))),
    );
  };
}
