/**
 * Probe transports for Workers: they gather what a check needs (status, headers, body digest,
 * a banner, a TLS handshake) and hand it to their type's judge in src/core/checks/. HTTP is spoken over
 * `connect()` so that the Host header is the check's while the connection goes to the real
 * server. Each probe is bounded by the check's timeout as a whole and never throws.
 */
import { connect } from "cloudflare:sockets";
import { toHex } from "../src/core/bytes.js";
import type { Check } from "../src/core/check.js";
import { judgeHttp } from "../src/core/checks/http/judge.js";
import type { CheckType } from "../src/core/checks/index.js";
import { connectionFailure, slowness } from "../src/core/checks/judging.js";
import { judgeSmtpStep, SMTP_STEPS, smtpReply } from "../src/core/checks/smtp/judge.js";
import { judgeTcpReply } from "../src/core/checks/tcp/judge.js";
import { parseResponse, requestText } from "../src/core/http1.js";
import type { ProbeResult } from "../src/core/rise-fall.js";
import type { Target } from "../src/core/targets.js";
import { withDeadline } from "./deadline.js";

/** Responses are read up to this size for the regex and the digest. */
const MAX_RESPONSE_BYTES = 1024 * 1024 + 16 * 1024;

export interface ProbeIdentity {
  userAgent: string;
}

export function userAgent(version: string, region: string, shard?: number): string {
  return `vigil-probe/${version} (region=${region}${shard === undefined ? "" : `; shard=${shard}`})`;
}

export async function probe(target: Target, who: ProbeIdentity): Promise<ProbeResult> {
  const started = Date.now();
  const deadline = started + target.check.timeout * 1000;
  try {
    return await withDeadline(deadline, (signal) => run(target, who, signal, started));
  } catch (err) {
    return { state: "down", reason: await explain(err, target, deadline), latencyMs: null };
  }
}

/**
 * Workers report a refused connection and a failed certificate check with the same error.
 * For TLS targets a plain TCP connection tells them apart: if it opens, TLS was the problem.
 */
async function explain(err: unknown, target: Target, deadline: number): Promise<string> {
  const reason = connectionFailure(err);
  if (reason === "timeout" || !/cannot connect|connection lost|internal error/i.test(reason)) return reason;
  const tls = target.check.type === "https" || target.check.type === "tls";
  if (tls && (await opens(target, deadline))) return "certificate: verification failed or TLS handshake refused";
  return "refused";
}

async function opens(target: Target, deadline: number): Promise<boolean> {
  try {
    await withDeadline(deadline, async (signal) => {
      const io = await open(target.address, target.port, "off", signal);
      await io.close();
    });
    return true;
  } catch {
    return false;
  }
}

/** One attempt's context: who probes, the deadline's signal, and the clock. */
interface Attempt {
  who: ProbeIdentity;
  signal: AbortSignal;
  started: number;
  elapsed: () => number;
}

type TargetOf<T extends CheckType> = Target & { check: Extract<Check, { type: T }> };
type Transport<T extends CheckType> = (target: TargetOf<T>, a: Attempt) => Promise<ProbeResult>;

const httpTransport = (target: TargetOf<"http"> | TargetOf<"https">, a: Attempt) =>
  httpProbe(target, target.check, a.who, a.signal, a.started);

/**
 * How a region runs each check type, keyed by type: a new type must say here how Workers run
 * it (or null: agents only) before the Worker compiles.
 */
const TRANSPORTS: { [T in CheckType]: Transport<T> | null } = {
  http: httpTransport,
  https: httpTransport,
  tcp: (target, a) =>
    exchange(target.address, target.port, "off", a.signal, async (io) => {
      const check = target.check;
      if (check.send === undefined) return slowness(undefined, a.elapsed());
      await io.write(check.send);
      const reply = await io.readText((text) => text.length >= (check.expect?.length ?? 1));
      return judgeTcpReply(check.expect, reply, a.elapsed());
    }),
  tls: (target, a) =>
    exchange(target.check.serverName ?? target.address, target.port, "on", a.signal, async () =>
      slowness(undefined, a.elapsed()),
    ),
  smtp: (target, a) =>
    exchange(target.address, target.port, "off", a.signal, async (io) => {
      for (const step of SMTP_STEPS) {
        if (step.step === "EHLO") await io.write(`EHLO ${target.check.helo}\r\n`);
        if (step.step === "QUIT") await io.write("QUIT\r\n");
        const reply = smtpReply(await io.readText((text) => smtpReply(text) !== null));
        const problem = reply ? judgeSmtpStep(step, reply) : `${step.step}: no reply`;
        if (problem) return { state: "down", reason: problem, latencyMs: a.elapsed() };
        io.forget();
      }
      return slowness(undefined, a.elapsed());
    }),
  icmp: null,
  script: null,
  process: null,
  interface: null,
};

function run(target: Target, who: ProbeIdentity, signal: AbortSignal, started: number): Promise<ProbeResult> {
  const transport = TRANSPORTS[target.check.type] as Transport<CheckType> | null;
  if (!transport)
    return Promise.resolve({
      state: "down",
      reason: `${target.check.type} checks run on agents only`,
      latencyMs: null,
    });
  return transport(target as TargetOf<CheckType>, { who, signal, started, elapsed: () => Date.now() - started });
}

function httpProbe(
  target: Target,
  check: Extract<Check, { type: "http" | "https" }>,
  who: ProbeIdentity,
  signal: AbortSignal,
  started: number,
): Promise<ProbeResult> {
  const secure = check.type === "https";
  const hostname = secure && check.tls.serverName ? check.tls.serverName : target.address;
  const authority =
    check.host ?? `${target.address.includes(":") ? `[${target.address}]` : target.address}:${target.port}`;
  return exchange(hostname, target.port, secure ? "on" : "off", signal, async (io) => {
    await io.write(
      requestText({ path: check.path, host: authority, headers: { ...check.headers, "User-Agent": who.userAgent } }),
    );
    let response = parseResponse(new Uint8Array(), false);
    for (;;) {
      const ended = !(await io.readMore());
      if (io.bytes().byteLength > MAX_RESPONSE_BYTES) throw new Error("response larger than 1 MiB");
      response = parseResponse(io.bytes(), ended);
      if (response.complete) break;
    }
    const md5 = toHex(await crypto.subtle.digest("MD5", response.body));
    return judgeHttp(check, {
      status: response.status,
      headers: response.headers,
      body: new TextDecoder().decode(response.body),
      md5,
      latencyMs: Date.now() - started,
    });
  });
}

interface Io {
  write(text: string): Promise<void>;
  /** Reads one more chunk; false at the end of the stream. */
  readMore(): Promise<boolean>;
  /** Everything read since the last `forget`. */
  bytes(): Uint8Array;
  /** Reads until `done(text so far)` or the end of the stream; returns the text. */
  readText(done: (text: string) => boolean): Promise<string>;
  forget(): void;
  close(): Promise<void>;
}

async function open(hostname: string, port: number, secureTransport: "on" | "off", signal: AbortSignal): Promise<Io> {
  const socket = connect({ hostname, port }, { secureTransport, allowHalfOpen: false });
  const close = () => socket.close().catch(() => undefined);
  signal.addEventListener("abort", close, { once: true });
  await socket.opened;
  const writer = socket.writable.getWriter();
  const reader = socket.readable.getReader();
  let buffer = new Uint8Array();
  const io: Io = {
    write: (text) => writer.write(new TextEncoder().encode(text)),
    async readMore() {
      const { value, done } = await reader.read();
      if (done) return false;
      const next = new Uint8Array(buffer.byteLength + value.byteLength);
      next.set(buffer);
      next.set(value, buffer.byteLength);
      buffer = next;
      return true;
    },
    bytes: () => buffer,
    async readText(done) {
      while (!done(new TextDecoder().decode(buffer)) && (await io.readMore()));
      return new TextDecoder().decode(buffer);
    },
    forget() {
      buffer = new Uint8Array();
    },
    async close() {
      signal.removeEventListener("abort", close);
      await close();
    },
  };
  return io;
}

async function exchange(
  hostname: string,
  port: number,
  secureTransport: "on" | "off",
  signal: AbortSignal,
  talk: (io: Io) => Promise<ProbeResult>,
): Promise<ProbeResult> {
  const io = await open(hostname, port, secureTransport, signal);
  try {
    return await talk(io);
  } finally {
    await io.close();
  }
}
