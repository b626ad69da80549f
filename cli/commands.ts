/**
 * The operator commands: login, status, health, events, apply, switchover, drain. Read
 * commands take --json and print the API's own JSON.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { BackendsView } from "../src/core/backend-status.js";
import type { ClusterDocument } from "../src/core/cluster.js";
import type { Change } from "../src/core/diff.js";
import type { Event } from "../src/core/event.js";
import type { HealthReport } from "../src/core/health.js";
import type { LeaseView } from "../src/core/lease-view.js";
import { ApiClient, ApiError } from "./client.js";
import { renderChanges, renderEvent, renderHealth, renderLeases, renderVirtualServices } from "./render.js";
import { loadSettings, type Settings, saveSettings, settingsPath } from "./settings.js";

export class UsageError extends Error {}

type Print = (line: string) => void;

/** URL and token: flags, then VIGIL_URL / VIGIL_TOKEN, then what `vigil login` saved. */
export function connect(flags: { url?: string | undefined; token?: string | undefined }): ApiClient {
  const saved = loadSettings();
  // An empty variable counts as unset.
  const url = flags.url || process.env.VIGIL_URL || saved.url;
  const token = flags.token || process.env.VIGIL_TOKEN || saved.token;
  if (!url || !token)
    throw new UsageError(`no control plane: run vigil login URL first (or set VIGIL_URL and VIGIL_TOKEN)`);
  return new ApiClient(url, token);
}

const path = (cluster: string, rest = "") => `/v1/clusters/${encodeURIComponent(cluster)}${rest}`;

/** The one cluster there is, when none is named. */
async function clusterOf(api: ApiClient, named: string | undefined): Promise<string> {
  if (named) return named;
  const clusters = await api.call<{ name: string }[]>("GET", "/v1/clusters");
  if (clusters.length === 1 && clusters[0]) return clusters[0].name;
  throw new UsageError(
    clusters.length === 0 ? "there are no clusters yet" : `name a cluster: ${clusters.map((c) => c.name).join(", ")}`,
  );
}

export async function login(url: string, token: string | undefined, print: Print): Promise<number> {
  if (!/^https?:\/\//.test(url)) throw new UsageError(`expected the control plane's http(s) URL, got ${url}`);
  const secret = token || process.env.VIGIL_TOKEN || (await firstLine(process.stdin));
  if (!secret) throw new UsageError("give the token with --token, VIGIL_TOKEN, or on stdin");
  const me = await new ApiClient(url, secret).call<{ name: string; role: string }>("GET", "/v1/me");
  const settings: Settings = { url: url.replace(/\/+$/, ""), token: secret };
  saveSettings(settings);
  print(`logged in to ${settings.url} as ${me.name} (${me.role}); saved in ${settingsPath()}`);
  return 0;
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  if ((stream as { isTTY?: boolean }).isTTY) process.stderr.write("API token: ");
  let text = "";
  for await (const chunk of stream) {
    text += chunk.toString();
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0]?.trim() ?? "";
}

export async function status(api: ApiClient, named: string | undefined, json: boolean, print: Print): Promise<number> {
  const cluster = await clusterOf(api, named);
  const [leases, backends, doc] = await Promise.all([
    api.call<LeaseView[]>("GET", path(cluster, "/leases")),
    // Like ipvsadm -Ln: the directors' live tables, read now.
    api.call<BackendsView>("POST", path(cluster, "/backends/refresh")),
    api.call<ClusterDocument>("GET", path(cluster, "/config")),
  ]);
  if (json) {
    print(JSON.stringify({ cluster, leases, backends }, null, 2));
    return 0;
  }
  const groups = new Map(doc.virtualServices.map((vs) => [vs.name, vs.vipGroup]));
  for (const line of [
    `Cluster ${cluster}`,
    "",
    ...renderLeases(leases),
    "",
    ...renderVirtualServices(backends, leases, groups),
  ])
    print(line);
  return 0;
}

export async function health(api: ApiClient, named: string | undefined, json: boolean, print: Print): Promise<number> {
  const report = await api.call<HealthReport>("GET", path(await clusterOf(api, named), "/health"));
  if (json) print(JSON.stringify(report, null, 2));
  else for (const line of renderHealth(report)) print(line);
  return 0;
}

export async function events(
  api: ApiClient,
  named: string | undefined,
  options: { json: boolean; follow: boolean; type?: string | undefined; limit: number; everyMs?: number },
  print: Print,
): Promise<number> {
  const cluster = await clusterOf(api, named);
  const query = (extra: Record<string, string>) =>
    `?${new URLSearchParams({ limit: String(options.limit), ...(options.type ? { type: options.type } : {}), ...extra })}`;
  const show = (e: Event) => print(options.json ? JSON.stringify(e) : renderEvent(e));
  const first = await api.call<Event[]>("GET", path(cluster, `/events${query({})}`));
  const seen = new Set(first.map((e) => e.id));
  for (const e of [...first].reverse()) show(e);
  let after = first[0]?.at ?? new Date().toISOString();
  while (options.follow) {
    await new Promise((r) => setTimeout(r, options.everyMs ?? 2000));
    const fresh = await api.call<Event[]>("GET", path(cluster, `/events${query({ after })}`));
    for (const e of [...fresh].reverse()) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      show(e);
      if (e.at > after) after = e.at;
    }
  }
  return 0;
}

/** Reads a cluster document, YAML or JSON (JSON is YAML too), with the file named in any error. */
export function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ApiError(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const e = err as Error & { linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0];
    throw new ApiError(`${file}${at ? `:${at.line}:${at.col}` : ""}: ${e.message.split("\n")[0]}`);
  }
}

export async function apply(
  api: ApiClient,
  file: string,
  options: { dryRun: boolean; cluster?: string | undefined; json: boolean },
  print: Print,
): Promise<number> {
  const doc = readDocument(file) as { cluster?: { name?: unknown } };
  const name = options.cluster ?? (typeof doc?.cluster?.name === "string" ? doc.cluster.name : undefined);
  if (!name) throw new UsageError(`${file}: no cluster.name in the document (or pass --cluster)`);
  const result = await api.call<{ revision: number; changes: Change[]; dryRun: boolean }>(
    "PUT",
    path(name, `/config?dry_run=${options.dryRun}`),
    doc,
  );
  if (options.json) print(JSON.stringify(result, null, 2));
  else {
    for (const line of renderChanges(result.changes)) print(line);
    print(
      options.dryRun
        ? `dry run: nothing applied to ${name} (${result.changes.length} change(s))`
        : `applied to ${name}: revision ${result.revision}`,
    );
  }
  return 0;
}

export async function switchover(
  api: ApiClient,
  cluster: string,
  group: string,
  to: string,
  print: Print,
): Promise<number> {
  const view = await api.call<LeaseView>("POST", path(cluster, `/vip-groups/${encodeURIComponent(group)}/switchover`), {
    to,
  });
  print(`${view.group} is held by ${view.holder} (epoch ${view.epoch})`);
  return 0;
}

export async function drain(
  api: ApiClient,
  cluster: string,
  node: string,
  undo: boolean,
  print: Print,
): Promise<number> {
  const out = await api.call<{ holding: string[] }>(
    undo ? "DELETE" : "POST",
    path(cluster, `/nodes/${encodeURIComponent(node)}/drain`),
  );
  print(
    undo
      ? `${node} may hold VIP groups again`
      : out.holding.length === 0
        ? `${node} is drained and holds nothing`
        : `${node} is drained but still holds ${out.holding.join(", ")}`,
  );
  return out.holding.length === 0 || undo ? 0 : 1;
}
