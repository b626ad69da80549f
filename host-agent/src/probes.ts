/**
 * Checks the agent runs itself (tracked checks on its own node, and checks that name it as an
 * observer): TCP port, HTTP(S), TLS, ICMP and script exit status. Each result goes through the
 * same pipeline as the edge probers' (src/core/observer.ts), and the agent votes as `agent:<node>`: on every change
 * at once, and all its votes on every heartbeat. A script check whose program the agent's
 * allowlist does not name never runs: its vote stays `unknown`, with the refusal as its error.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import vm from "node:vm";
import { type BodyMatcher, judgeHttp } from "../../src/core/checks/http/judge.js";
import type { CheckType } from "../../src/core/checks/index.js";
import { connectionFailure } from "../../src/core/checks/judging.js";
import { judgeTcpReply } from "../../src/core/checks/tcp/judge.js";
import type { AgentProbe } from "../../src/core/command.js";
import { afterProbe, beginObservation, type Observation, voteOf } from "../../src/core/observer.js";
import type { ProbeResult } from "../../src/core/rise-fall.js";
import { HEARTBEAT_MS } from "../../src/core/targets.js";
import type { Vote, VoteState } from "../../src/core/vote.js";
import type { ProgramGate } from "./allowlist.js";
import type { Runner } from "./runner.js";

const BODY_LIMIT = 1024 * 1024;

type SendVotes = (votes: Vote[], heartbeat: boolean) => Promise<void>;

interface Entry {
  probe: AgentProbe;
  observation: Observation;
  /** The next attempt; null for a refused check, which never runs, and once stopped. */
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * The agent's observer: each check on the pipeline of src/core/observer.ts (jittered
 * schedule, retries, rise/fall), one attempt at a time through probeOnce.
 */
export class LocalProbes {
  private probes: Entry[] = [];
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly runner: Runner,
    private readonly send: SendVotes,
    private readonly gate: ProgramGate,
  ) {}

  set(probes: AgentProbe[]): void {
    this.stop();
    const now = Date.now();
    const refused: Entry[] = [];
    this.probes = probes.map((probe) => {
      const check = probe.check;
      const entry: Entry = { probe, observation: beginObservation(check, now, Math.random()), timer: null };
      const reason = check.type === "script" ? this.gate.refusal("check", probe.target, null, check.exec) : null;
      if (reason !== null) {
        entry.observation.observer.error = `refused: ${reason}`.slice(0, 300);
        refused.push(entry);
      } else this.schedule(entry);
      return entry;
    });
    if (refused.length > 0) void this.send(refused.map(vote), false).catch(() => undefined);
    if (probes.length > 0)
      this.heartbeat = setInterval(
        () => void this.send(this.probes.map(vote), true).catch(() => undefined),
        HEARTBEAT_MS,
      );
  }

  /** This agent's own verdict on a target it checks (rise/fall applied); unknown for one it does not check. */
  verdict(target: string): VoteState {
    return this.probes.find((p) => p.probe.target === target)?.observation.observer.state ?? "unknown";
  }

  stop(): void {
    for (const p of this.probes) if (p.timer) clearTimeout(p.timer);
    this.probes = [];
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private schedule(entry: Entry): void {
    const wait = Math.max(0, entry.observation.run.nextDue - Date.now());
    entry.timer = setTimeout(() => void this.attempt(entry), wait);
  }

  private async attempt(entry: Entry): Promise<void> {
    const result = await probeOnce(entry.probe, this.runner);
    if (!this.probes.includes(entry)) return;
    const { next, changed } = afterProbe(entry.observation, entry.probe.check, result, Date.now(), Math.random());
    entry.observation = next;
    this.schedule(entry);
    if (changed) await this.send([vote(entry)], false).catch(() => undefined);
  }
}

const vote = ({ probe, observation }: Entry): Vote => voteOf(probe.target, observation.observer);

/** One attempt's context: the runner for programs, the time bound, and the clock. */
interface Attempt {
  runner: Runner;
  timeoutMs: number;
  started: number;
  elapsed: () => number;
}

type ProbeOf<T extends CheckType> = AgentProbe & { check: Extract<AgentProbe["check"], { type: T }> };
type Transport<T extends CheckType> = (p: ProbeOf<T>, a: Attempt) => Promise<ProbeResult>;

const up = (latencyMs: number): ProbeResult => ({ state: "up", reason: null, latencyMs });
const failed = (reason: string, latencyMs: number | null): ProbeResult => ({ state: "down", reason, latencyMs });

const httpTransport = async (p: ProbeOf<"http"> | ProbeOf<"https">, a: Attempt): Promise<ProbeResult> =>
  judgeHttp(p.check, await httpGet(p, a.timeoutMs, a.started), boundedMatch);

/**
 * How the agent runs each check type, keyed by type: a new type must say here how agents run
 * it (or null: edge regions only) before the agent compiles.
 */
const TRANSPORTS: { [T in CheckType]: Transport<T> | null } = {
  tcp: async (p, a) => {
    const reply = await tcpExchange(p.address, p.port, a.timeoutMs, p.check.send, p.check.expect?.length ?? 0);
    return judgeTcpReply(p.check.expect, reply, a.elapsed());
  },
  http: httpTransport,
  https: httpTransport,
  tls: async (p, a) => {
    await tlsHandshake(p.address, p.port, a.timeoutMs, p.check.serverName, p.check.verify);
    return up(a.elapsed());
  },
  smtp: null,
  icmp: async (p, a) => {
    const wait = String(Math.max(1, Math.ceil(p.check.timeout)));
    const out = await a.runner.run(["ping", "-n", "-c", "1", "-W", wait, p.address]);
    return out.code === 0 ? up(a.elapsed()) : failed("no echo reply", null);
  },
  script: async (p, a) => {
    const out = await a.runner.run([p.check.exec.path, ...p.check.exec.args]);
    return out.code === 0 ? up(a.elapsed()) : failed(`exit status ${out.code}`, a.elapsed());
  },
  process: async (p, a) =>
    (await processRunning(p.check.name)) ? up(a.elapsed()) : failed(`no process named ${p.check.name}`, a.elapsed()),
  interface: async (p, a) => {
    const link = linkState((await a.runner.run(["ip", "-o", "link", "show", "dev", p.check.interface])).stdout);
    return link === "up" ? up(a.elapsed()) : failed(`interface ${p.check.interface} ${link}`, a.elapsed());
  },
};

export async function probeOnce(p: AgentProbe, runner: Runner): Promise<ProbeResult> {
  const started = performance.now();
  const transport = TRANSPORTS[p.check.type] as Transport<CheckType> | null;
  if (!transport) return failed(`${p.check.type} checks are run by edge regions, not agents`, null);
  try {
    const elapsed = () => performance.now() - started;
    return await transport(p as ProbeOf<CheckType>, { runner, timeoutMs: p.check.timeout * 1000, started, elapsed });
  } catch (err) {
    return failed(connectionFailure(err), null);
  }
}

const matchContext = vm.createContext({ pattern: "", body: "" });
const matchScript = new vm.Script("new RegExp(pattern).test(body)");

/** How long one body pattern may run; a crafted body must not stall the agent's event loop. */
export const BODY_MATCH_LIMIT_MS = 200;

/**
 * The body check with a time bound: the pattern runs in a vm context whose timeout interrupts
 * a runaway backtrack. Past the bound the check fails, saying why.
 */
export const boundedMatch: BodyMatcher = (pattern, body) => {
  matchContext.pattern = pattern;
  matchContext.body = body;
  try {
    return matchScript.runInContext(matchContext, { timeout: BODY_MATCH_LIMIT_MS }) === true;
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT")
      throw new Error(`the body pattern ran over ${BODY_MATCH_LIMIT_MS} ms on this body`);
    throw err;
  } finally {
    matchContext.body = "";
  }
};

function tcpExchange(
  host: string,
  port: number,
  timeoutMs: number,
  send: string | undefined,
  want: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let reply = "";
    const done = (err: Error | null) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => done(new Error("timeout")));
    socket.on("error", done);
    socket.on("connect", () => {
      if (send === undefined) return done(null);
      socket.write(send);
    });
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.length >= want) done(null);
    });
    socket.on("end", () => done(null));
  });
}

function httpGet(p: AgentProbe, timeoutMs: number, started: number) {
  const check = p.check as Extract<AgentProbe["check"], { type: "http" | "https" }>;
  const secure = check.type === "https";
  return new Promise<Parameters<typeof judgeHttp>[1]>((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        host: p.address,
        port: p.port,
        path: check.path,
        method: "GET",
        headers: { host: check.host ?? p.address, "user-agent": "vigil-agent", ...check.headers },
        timeout: timeoutMs,
        ...(check.type === "https" ? { rejectUnauthorized: check.tls.verify, servername: check.tls.serverName } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= BODY_LIMIT) chunks.push(chunk);
        });
        response.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            headers: Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, String(v)])),
            body: body.toString("utf8"),
            md5: createHash("md5").update(body).digest("hex"),
            latencyMs: performance.now() - started,
          });
        });
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
    request.end();
  });
}

function tlsHandshake(
  host: string,
  port: number,
  timeoutMs: number,
  servername: string | undefined,
  verify: boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: servername ?? (net.isIP(host) ? undefined : host),
      rejectUnauthorized: verify,
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error("timeout"));
    });
    socket.on("secureConnect", () => {
      socket.destroy();
      resolve();
    });
    socket.on("error", reject);
  });
}

/**
 * An interface's link from `ip -o link show dev IF`: up when the flags hold both UP
 * (administratively up) and LOWER_UP (carrier), as keepalived's track_interface sees it.
 */
export function linkState(out: string): "up" | "down" | "missing" {
  const flags = out.match(/<([^>]*)>/)?.[1]?.split(",");
  if (!flags) return "missing";
  return flags.includes("UP") && flags.includes("LOWER_UP") ? "up" : "down";
}

/** Whether a live process has this name in /proc/<pid>/comm (zombies do not count). */
export async function processRunning(name: string): Promise<boolean> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = (await readFile(`/proc/${entry}/comm`, "utf8")).trim();
      if (comm !== name) continue;
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z") return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}
