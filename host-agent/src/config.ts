/**
 * The agent's configuration file (default /etc/vigil/agent.json). An invalid file stops the
 * agent at start with the file, the line, the field and what was expected.
 */
import { readFileSync } from "node:fs";
import * as z from "zod";
import { formatPath } from "../../src/core/errors.js";
import { ExecPath, Ident } from "../../src/core/primitives.js";
import { DEFAULT_PEER_PORT, HOST_ACTIONS } from "../../src/core/vocabulary.js";
import { AllowEntry, Allowlist } from "./allowlist.js";

export const DEFAULT_CONFIG_PATH = "/etc/vigil/agent.json";
export const DEFAULT_STATE_DIR = "/var/lib/vigil";

export const AgentConfig = z.strictObject({
  /** The control plane, e.g. https://vigil.example.com */
  url: z.url({ protocol: /^https?$/, error: "expected the control plane's http(s) URL" }),
  cluster: Ident,
  node: Ident,
  stateDir: z.string().regex(/^\//, { error: "expected an absolute path" }).default(DEFAULT_STATE_DIR),
  /** Seconds between heartbeats on the channel. */
  heartbeat: z.number().min(1).max(60).default(10),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * The programs the control plane may have this host run (script checks, notify and fault
   * hooks): a path (any arguments), or `{ path, args }` (exactly those) or `{ path, argsPattern }`
   * (one regular expression per argument). Nothing else runs.
   */
  allow: z.array(AllowEntry).max(256).default([]),
  /** The older name for `allow`, paths only; both lists count. */
  hooks: z.array(ExecPath).max(64).default([]),
  /**
   * The UDP port this agent listens on for its peer directors' lease messages (promises only,
   * each signed by the sending node). Open it between the directors of a VIP group; the
   * cluster's node entry must name the same port (`peerPort`, 7441 by default).
   */
  peerPort: z.number().int().min(1).max(65535).default(DEFAULT_PEER_PORT),
  /**
   * `show` logs the commands that would change this host (`ip addr`, `arping`, `ipvsadm -R`)
   * instead of running them, and keeps what they would have done in memory: for trying Vigil
   * without root. Probes and allowed programs still run. The agent says so to the coordinator,
   * and the dashboard shows the node's VIP actions as shown, not applied. `show-backends` shows
   * the IPVS changes only and applies the VIPs (a kernel without IPVS).
   */
  hostActions: z.enum(HOST_ACTIONS).default("apply"),
  /** HAProxy's admin stats socket (`stats socket ... level admin`), for services with the haproxy driver. */
  haproxySocket: z.string().regex(/^\//, { error: "expected an absolute path" }).default("/run/haproxy/admin.sock"),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** Every program the config lets run: `allow`, then the older `hooks`. */
export function allowlistOf(config: AgentConfig): Allowlist {
  return new Allowlist([...config.allow, ...config.hooks]);
}

export class ConfigError extends Error {}

export function loadConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the configuration: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseConfig(file, text);
}

export function parseConfig(file: string, text: string): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = Number(message.match(/position (\d+)/)?.[1] ?? Number.NaN);
    const where = Number.isNaN(position) ? "" : `:${lineOf(text, position)}`;
    throw new ConfigError(`${file}${where}: not valid JSON: ${message}`);
  }
  const parsed = AgentConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  const field = issue?.code === "unrecognized_keys" ? [...path, issue.keys[0] ?? ""] : path;
  const name = formatPath(field.map((k) => (/^\d+$/.test(k) ? Number(k) : k))).replace("(body)", "(top level)");
  const line = locate(text, field);
  const reason = issue?.code === "unrecognized_keys" ? "unknown field" : issue?.message;
  throw new ConfigError(`${file}${line ? `:${line}` : ""}: ${name}: ${reason}`);
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** The line where a field's key (or array element) appears, following the path through the text. */
function locate(text: string, path: string[]): number | null {
  let at = 0;
  for (const key of path) {
    if (/^\d+$/.test(key)) {
      const found = element(text, at, Number(key));
      if (found < 0) return null;
      at = found;
      continue;
    }
    const found = text.indexOf(`"${key}"`, at);
    if (found < 0) return null;
    at = found;
  }
  return path.length > 0 ? lineOf(text, at) : null;
}

/** Where the index-th element of the first array after `from` starts, or -1. */
function element(text: string, from: number, index: number): number {
  let i = text.indexOf("[", from);
  if (i < 0) return -1;
  let depth = 0;
  let seen = 0;
  let inString = false;
  for (i += 1; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 0 && seen === index && !/\s/.test(c ?? "")) return i;
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth += 1;
    else if (c === "]" || c === "}") {
      if (depth === 0) return -1;
      depth -= 1;
    } else if (c === "," && depth === 0) seen += 1;
  }
  return -1;
}
