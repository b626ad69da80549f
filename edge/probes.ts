/**
 * Probe transports for Workers: they gather what a check needs (status, headers, body digest,
 * a banner, a TLS handshake) and hand it to src/core/probe-judge.ts. Each probe is bounded
 * by the check's timeout as a whole and never throws: failures come back with a reason.
 */
import { connect } from "cloudflare:sockets";
import { readAtMost } from "../src/core/bytes.js";
import type { Check } from "../src/core/check.js";
import {
  connectionFailure,
  type HttpObservation,
  judgeHttp,
  judgeSmtpStep,
  judgeTcpReply,
  SMTP_STEPS,
  slowness,
  smtpReply,
} from "../src/core/probe-judge.js";
import type { ProbeResult } from "../src/core/rise-fall.js";
import type { Target } from "../src/core/targets.js";

/** Bodies are read up to this size for the regex and the digest; the rest is cancelled. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ProbeIdentity {
  userAgent: string;
}

export function userAgent(version: string, region: string): string {
  return `vigil-probe/${version} (region=${region})`;
}

export async function probe(target: Target, who: ProbeIdentity): Promise<ProbeResult> {
  const started = Date.now();
  const deadline = started + target.check.timeout * 1000;
  try {
    return await withDeadline(deadline, (signal) => run(target, who, signal, started));
  } catch (err) {
    return { state: "down", reason: connectionFailure(err), latencyMs: null };
  }
}

function run(target: Target, who: ProbeIdentity, signal: AbortSignal, started: number): Promise<ProbeResult> {
  const check = target.check;
  switch (check.type) {
    case "http":
    case "https":
      return httpProbe(target, check, who, signal, started);
    case "tcp":
      return socketProbe(target, "off", signal, async (io) => {
        if (check.send === undefined) return slowness(undefined, Date.now() - started);
        await io.write(check.send);
        const reply = await io.readUntil((text) => text.length >= (check.expect?.length ?? 1));
        return judgeTcpReply(check.expect, reply, Date.now() - started);
      });
    case "tls":
      return socketProbe(target, "on", signal, async () => slowness(undefined, Date.now() - started), check.serverName);
    case "smtp":
      return socketProbe(target, "off", signal, async (io) => {
        const [banner, ehlo, quit] = SMTP_STEPS;
        for (const step of [banner, ehlo, quit]) {
          if (step.step === "EHLO") await io.write(`EHLO ${check.helo}\r\n`);
          if (step.step === "QUIT") await io.write("QUIT\r\n");
          const reply = smtpReply(await io.readUntil((text) => smtpReply(text) !== null));
          const problem = reply ? judgeSmtpStep(step, reply) : `${step.step}: no reply`;
          if (problem) return { state: "down", reason: problem, latencyMs: Date.now() - started };
          io.consume();
        }
        return slowness(undefined, Date.now() - started);
      });
    case "icmp":
    case "script":
      return Promise.resolve({ state: "down", reason: `${check.type} checks run on agents only`, latencyMs: null });
  }
}

async function httpProbe(
  target: Target,
  check: Extract<Check, { type: "http" | "https" }>,
  who: ProbeIdentity,
  signal: AbortSignal,
  started: number,
): Promise<ProbeResult> {
  const host = check.type === "https" && check.tls.serverName ? check.tls.serverName : urlHost(target.address);
  const url = `${check.type}://${host}:${target.port}${check.path}`;
  const headers = new Headers(check.headers);
  headers.set("user-agent", who.userAgent);
  if (check.host) headers.set("host", check.host);
  const response = await fetch(url, { method: "GET", headers, redirect: "manual", signal });
  const { bytes: body } = await readAtMost(response.body, MAX_BODY_BYTES);
  const md5 = hex(await crypto.subtle.digest("MD5", body));
  const observation: HttpObservation = {
    status: response.status,
    headers: Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v])),
    body: new TextDecoder().decode(body),
    md5,
    latencyMs: Date.now() - started,
  };
  return judgeHttp(check, observation);
}

interface SocketIo {
  write(text: string): Promise<void>;
  /** Reads until `done(text so far)`; returns the text. */
  readUntil(done: (text: string) => boolean): Promise<string>;
  /** Forgets what was read, before the next exchange. */
  consume(): void;
}

async function socketProbe(
  target: Target,
  secureTransport: "on" | "off",
  signal: AbortSignal,
  exchange: (io: SocketIo) => Promise<ProbeResult>,
  serverName?: string,
): Promise<ProbeResult> {
  const socket = connect(
    { hostname: serverName ?? target.address, port: target.port },
    { secureTransport, allowHalfOpen: false },
  );
  const abort = () => socket.close().catch(() => undefined);
  signal.addEventListener("abort", abort);
  try {
    await socket.opened;
    const writer = socket.writable.getWriter();
    const reader = socket.readable.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const io: SocketIo = {
      write: (data) => writer.write(new TextEncoder().encode(data)),
      async readUntil(done) {
        while (!done(text)) {
          const { value, done: ended } = await reader.read();
          if (ended) break;
          text += decoder.decode(value, { stream: true });
        }
        return text;
      },
      consume() {
        text = "";
      },
    };
    return await exchange(io);
  } finally {
    signal.removeEventListener("abort", abort);
    await socket.close().catch(() => undefined);
  }
}

/** Runs `work` with an AbortSignal that fires at the deadline; rejects with a timeout then. */
async function withDeadline<T>(deadline: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        controller.abort();
        reject(new Error("timeout"));
      },
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function urlHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
