/**
 * `vigil hosts install`: the agent on many hosts at once. One enrollment token per host,
 * minted through the API only when that host is reached and trusted, kept in memory only;
 * a progress line per host as it goes, a table at the end; failure if any host failed.
 */
import type { ApiClient } from "./client.js";
import { ApiError } from "./client.js";
import type { InstallHost } from "./inventory.js";
import { table } from "./render.js";
import { type HostResult, installOverSsh, type SshOptions } from "./ssh-install.js";

export interface HostsInstallOptions {
  api: ApiClient;
  cluster: string;
  ssh: SshOptions;
  parallel: number;
  /** install.sh options passed through: --install-deps, --no-start, --root DIR ({node} is replaced). */
  installDeps: boolean;
  noStart: boolean;
  root?: string;
  /** The release signing key install.sh verifies the bundle with (the operator's, not the server's). */
  releaseKey: string;
  /** Lets install.sh use a plain http control plane. */
  insecureHttp: boolean;
}

export interface Row extends HostResult {
  host: InstallHost;
  seconds: number;
}

export async function fetchInstallScript(api: ApiClient): Promise<string> {
  const script = await api.call("GET", "/install.sh");
  if (typeof script !== "string" || !script.startsWith("#!/bin/sh"))
    throw new ApiError(`${api.url}/install.sh is not the install script`);
  return script;
}

export async function installHosts(
  hosts: InstallHost[],
  options: HostsInstallOptions,
  print: (line: string) => void,
): Promise<Row[]> {
  // The cluster and its nodes are checked before any host is touched.
  const nodes = new Set(
    (
      await options.api.call<{ name: string }[]>("GET", `/v1/clusters/${encodeURIComponent(options.cluster)}/nodes`)
    ).map((n) => n.name),
  );
  const script = await fetchInstallScript(options.api);
  const width = Math.max(...hosts.map((h) => h.node.length), 4);
  const rows: Row[] = [];
  const queue = [...hosts];
  const worker = async () => {
    for (let host = queue.shift(); host; host = queue.shift()) {
      const began = performance.now();
      const progress = (text: string) => print(`${host.node.padEnd(width)}  ${text}`);
      let result: HostResult;
      if (!nodes.has(host.node))
        result = {
          ok: false,
          detail: `no node "${host.node}" in cluster ${options.cluster}: add it first (POST /v1/clusters/${options.cluster}/nodes)`,
          version: null,
          accepted: [],
        };
      else {
        const args = ["--url", options.api.url, "--release-key", options.releaseKey, "--node", host.node];
        if (options.insecureHttp) args.push("--insecure-http");
        if (options.installDeps) args.push("--install-deps");
        if (options.noStart) args.push("--no-start");
        if (options.root) args.push("--root", options.root.replaceAll("{node}", host.node));
        const node = host.node;
        result = await installOverSsh(
          host,
          options.ssh,
          {
            script,
            args,
            token: async () =>
              (
                await options.api.call<{ token: string }>(
                  "POST",
                  `/v1/clusters/${encodeURIComponent(options.cluster)}/enrollment-tokens`,
                  { node },
                )
              ).token,
          },
          progress,
        );
      }
      const row = { ...result, host, seconds: (performance.now() - began) / 1000 };
      progress(row.ok ? `${row.detail} (agent ${row.version ?? "?"})` : `FAILED: ${row.detail}`);
      rows.push(row);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, hosts.length)) }, worker));
  return hosts.map((h) => rows.find((r) => r.host === h) as Row);
}

/** The final table: host, result, agent version, time. */
export function renderTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.host.node,
    `${r.host.address}:${r.host.port}`,
    r.ok ? r.detail : `failed: ${r.detail}`,
    r.version ?? "-",
    `${r.seconds.toFixed(1)}s`,
  ]);
  // A long failure reason does not push the last columns off the screen.
  return table(["HOST", "ADDRESS", "RESULT", "AGENT", "TIME"], cells, { 2: 100 }).join("\n");
}
