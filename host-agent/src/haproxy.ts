/**
 * The HAProxy driver: keeps a backend's servers in step with the desired table through the
 * runtime API on the admin stats socket (`show servers state`, `set server ... state`,
 * `set weight`, `set server ... addr ... port ...`, `add server`, `del server`). The config
 * file on disk is never rewritten. Every backend and server name is checked again right
 * before it is written: a newline or a semicolon would be a second command.
 */
import net from "node:net";
import type { ActualService } from "../../src/core/backend-status.js";
import type { DesiredServer, DesiredService } from "../../src/core/backends.js";
import { DesiredService as DesiredServiceSchema } from "../../src/core/backends.js";
import { forgetful, type Remembered } from "./runner.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

export class HaproxyError extends Error {}

/** One runtime API command over the socket; answers its output. */
export type Send = (command: string) => Promise<string>;

export function socketSender(path: string, timeoutMs = 5000): Send {
  return (command) =>
    new Promise((resolve, reject) => {
      const socket = net.connect(path);
      let out = "";
      socket.setTimeout(timeoutMs, () => socket.destroy(new HaproxyError(`${path}: no answer to "${command}"`)));
      socket.on("connect", () => socket.end(`${command}\n`));
      socket.on("data", (chunk) => {
        out += chunk.toString("utf8");
      });
      socket.on("end", () => resolve(out));
      socket.on("error", (err) => reject(new HaproxyError(`${path}: ${err.message}`)));
    });
}

/** Builds one command from fixed words and checked values; refuses anything that could split it. */
export function command(words: (string | number)[]): string {
  for (const w of words) {
    const text = String(w);
    if (!/^[A-Za-z0-9_.:/[\]-]+$/.test(text))
      throw new HaproxyError(`refused to send ${JSON.stringify(text)} to HAProxy: not a plain word`);
  }
  return words.join(" ");
}

function name(value: string, what: string): string {
  if (!NAME.test(value))
    throw new HaproxyError(`refused ${what} ${JSON.stringify(value)}: expected letters, digits, '_', '.' or '-'`);
  return value;
}

export interface LiveServer {
  name: string;
  address: string;
  port: number;
  /** srv_op_state: 2 running, 0 stopped. */
  operational: number;
  /** srv_admin_state bits: 0x01 forced maintenance, 0x08 forced drain. */
  admin: number;
  weight: number;
}

/** Parses `show servers state <backend>` (format version 1). */
export function parseServersState(text: string): LiveServer[] {
  const lines = text.split("\n").map((l) => l.trim());
  const header = lines.find((l) => l.startsWith("# be_id"));
  if (!header) {
    const problem = lines.find((l) => l !== "") ?? "empty answer";
    throw new HaproxyError(`show servers state: ${problem}`);
  }
  const fields = header.slice(2).split(/\s+/);
  const at = (f: string) => fields.indexOf(f);
  return lines
    .filter((l) => /^\d+ /.test(l))
    .map((l) => {
      const v = l.split(/\s+/);
      return {
        name: v[at("srv_name")] ?? "",
        address: v[at("srv_addr")] ?? "",
        port: Number(v[at("srv_port")]),
        operational: Number(v[at("srv_op_state")]),
        admin: Number(v[at("srv_admin_state")]),
        weight: Number(v[at("srv_uweight")]),
      };
    });
}

/** Current sessions per server from `show stat` CSV (`# pxname,svname,qcur,qmax,scur,...`). */
export function parseSessions(text: string): Map<string, number> {
  const lines = text.split("\n");
  const header = lines.find((l) => l.startsWith("# "));
  if (!header) throw new HaproxyError(`show stat: ${lines.find((l) => l.trim() !== "") ?? "empty answer"}`);
  const fields = header.slice(2).split(",");
  const sv = fields.indexOf("svname");
  const scur = fields.indexOf("scur");
  const out = new Map<string, number>();
  for (const line of lines) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const v = line.split(",");
    const server = v[sv];
    if (server && server !== "FRONTEND" && server !== "BACKEND") out.set(server, Number(v[scur] ?? 0));
  }
  return out;
}

export type AdminState = "ready" | "drain" | "maint";

export function adminStateOf(s: LiveServer): AdminState {
  if (s.admin & 0x01) return "maint";
  if (s.admin & 0x08) return "drain";
  return "ready";
}

/**
 * The commands that make one backend match: servers desired are placed (address, port),
 * weighted and set ready (inhibited ones drain); servers not desired go to maintenance, and
 * those this driver added are deleted.
 */
export function planBackend(
  backend: string,
  live: LiveServer[],
  desired: DesiredServer[],
  added: Set<string>,
): string[] {
  const be = name(backend, "backend");
  const out: string[] = [];
  const byName = new Map(live.map((s) => [s.name, s]));
  for (const d of desired) {
    const srv = `${be}/${name(d.name, "server")}`;
    if (!ADDRESS.test(d.address)) throw new HaproxyError(`refused address ${JSON.stringify(d.address)}`);
    const want: AdminState = d.role === "inhibited" ? "drain" : "ready";
    const have = byName.get(d.name);
    if (!have) {
      out.push(
        command([
          "add",
          "server",
          srv,
          `${d.address.includes(":") ? `[${d.address}]` : d.address}:${d.port}`,
          "weight",
          d.weight,
        ]),
      );
      out.push(command(["set", "server", srv, "state", want]));
      added.add(`${be}/${d.name}`);
      continue;
    }
    if (have.address !== d.address || have.port !== d.port)
      out.push(command(["set", "server", srv, "addr", d.address, "port", d.port]));
    if (have.weight !== d.weight) out.push(command(["set", "weight", srv, d.weight]));
    if (adminStateOf(have) !== want) out.push(command(["set", "server", srv, "state", want]));
  }
  const wanted = new Set(desired.map((d) => d.name));
  for (const s of live) {
    if (wanted.has(s.name)) continue;
    const srv = `${be}/${name(s.name, "server")}`;
    if (adminStateOf(s) !== "maint") out.push(command(["set", "server", srv, "state", "maint"]));
    if (added.has(`${be}/${s.name}`)) {
      out.push(command(["del", "server", srv]));
      added.delete(`${be}/${s.name}`);
    }
  }
  return out;
}

/** A live server as the driver reports it. */
function shown(x: LiveServer): BackendResult["servers"][number] {
  return {
    name: x.name,
    address: x.address,
    port: x.port,
    weight: x.weight,
    state: adminStateOf(x),
    up: x.operational === 2,
  };
}

export interface BackendResult {
  backend: string;
  sent: string[];
  servers: { name: string; address: string; port: number; weight: number; state: AdminState; up: boolean }[];
}

export class HaproxyDriver {
  /** `backend/server` names this driver added at runtime, so only those are ever deleted; kept across restarts. */
  readonly added: Set<string>;

  constructor(
    private readonly send: Send,
    private readonly memory: Remembered = forgetful,
  ) {
    this.added = new Set(memory.load());
  }

  async read(backend: string): Promise<LiveServer[]> {
    return parseServersState(await this.send(command(["show", "servers", "state", name(backend, "backend")])));
  }

  /** Each backend's servers as HAProxy has them now, with their current sessions. */
  async status(services: DesiredService[]): Promise<ActualService[]> {
    const out: ActualService[] = [];
    for (const s of services) {
      if (s.driver.type !== "haproxy") continue;
      const backend = name(s.driver.backend, "backend");
      const servers = await this.read(backend);
      const sessions = parseSessions(await this.send(command(["show", "stat", backend, "4", "-1"])));
      out.push({
        service: s.name,
        present: true,
        servers: servers.map((x) => ({ ...shown(x), sessions: sessions.get(x.name) ?? 0 })),
      });
    }
    return out;
  }

  async sync(services: DesiredService[]): Promise<BackendResult[]> {
    // Everything is validated before the first command goes out.
    const mine = services.map((s) => DesiredServiceSchema.parse(s)).filter((s) => s.driver.type === "haproxy");
    const results: BackendResult[] = [];
    for (const s of mine) {
      if (s.driver.type !== "haproxy") continue;
      const backend = s.driver.backend;
      const plan = planBackend(backend, await this.read(backend), s.servers, this.added);
      for (const line of plan) {
        const answer = (await this.send(line)).trim();
        // Successful commands answer nothing or a short confirmation; errors say so.
        if (
          /^(No such|Unknown|Require|Invalid|.*not found|.*[Ee]rror|.*cannot|.*failed)/.test(answer) ||
          answer.includes("Usage:")
        )
          throw new HaproxyError(`${line}: ${answer.split("\n")[0]}`);
      }
      this.memory.save([...this.added]);
      const after = await this.read(backend);
      results.push({
        backend,
        sent: plan,
        servers: after.map(shown),
      });
    }
    return results;
  }
}
