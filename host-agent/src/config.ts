/**
 * The agent's configuration file (default /etc/vigil/agent.json). An invalid file stops the
 * agent at start with the file, the line, the field and what was expected.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ExecPath, Ident } from "../../src/core/primitives.js";

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
  /** Notify hooks the coordinator may ask for: absolute paths of programs on this host. Nothing else runs. */
  hooks: z.array(ExecPath).max(64).default([]),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

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
  const name = field.join(".") || "(top level)";
  const line = locate(text, field);
  const reason = issue?.code === "unrecognized_keys" ? "unknown field" : issue?.message;
  throw new ConfigError(`${file}${line ? `:${line}` : ""}: ${name}: ${reason}`);
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** The line where a field's key appears, following the path through nested objects. */
function locate(text: string, path: string[]): number | null {
  let at = 0;
  for (const key of path) {
    const found = text.indexOf(`"${key}"`, at);
    if (found < 0) return null;
    at = found;
  }
  return path.length > 0 ? lineOf(text, at) : null;
}
