/**
 * Installs the agent on one host over SSH: the host key checked against known_hosts (a new
 * key accepted only with --accept-new, a changed one never), key or ssh-agent authentication
 * (a password only when allowed), sudo -n when the user is not root, install.sh uploaded to a
 * private temporary file and run with the enrollment token on its stdin. The token is never
 * written to disk, here or there.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Client, type ConnectConfig } from "ssh2";
import type { InstallHost } from "./inventory.js";
import { checkHostKey, fingerprint, keysFor, knownHostsLine, preferredAlgorithms } from "./known-hosts.js";

export interface SshOptions {
  user: string;
  knownHosts: string;
  acceptNew: boolean;
  /** Private key files to try, in order (missing ones are skipped). */
  identities: string[];
  /** ssh-agent socket (SSH_AUTH_SOCK), if any. */
  agent?: string;
  /** Only when the operator allowed passwords. */
  password?: string;
  passphrase?: string;
  timeoutMs: number;
}

export interface InstallRequest {
  script: string;
  /** install.sh arguments besides the token (which goes on stdin). */
  args: string[];
  /** Minted only once the host is reached and trusted, so an unreachable host wastes no token. */
  token: () => Promise<string>;
}

export interface HostResult {
  ok: boolean;
  detail: string;
  version: string | null;
  /** Fingerprints accepted into known_hosts during this run. */
  accepted: string[];
}

export class HostError extends Error {}

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function connect(host: InstallHost, options: SshOptions, accepted: string[]): Promise<Client> {
  const text = existsSync(options.knownHosts) ? readFileSync(options.knownHosts, "utf8") : "";
  const keys = keysFor(text, host.address, host.port);
  let refusal: string | null = null;
  const privateKey = options.identities.find((f) => existsSync(f));
  const config: ConnectConfig = {
    host: host.address,
    port: host.port,
    username: host.user ?? options.user,
    readyTimeout: options.timeoutMs,
    algorithms: { serverHostKey: preferredAlgorithms(keys) as never },
    hostVerifier: (blob: Buffer) => {
      const check = checkHostKey(text, host.address, host.port, blob);
      const where = `${host.address}:${host.port}`;
      if (check.status === "known") return true;
      if (check.status === "revoked")
        refusal = `host key of ${where} is revoked in ${options.knownHosts}:${check.line}`;
      else if (check.status === "changed")
        refusal =
          `host key of ${where} changed (now ${fingerprint(blob)}; known in ${options.knownHosts} line ${check.lines.join(", ")}). ` +
          `If the host was reinstalled, remove the old key (ssh-keygen -R '${host.port === 22 ? host.address : `[${host.address}]:${host.port}`}' -f ${options.knownHosts}) and re-run with --accept-new`;
      else if (!options.acceptNew)
        refusal = `host key of ${where} is not known (${fingerprint(blob)}): check it, then re-run with --accept-new`;
      else {
        mkdirSync(path.dirname(options.knownHosts), { recursive: true, mode: 0o700 });
        appendFileSync(options.knownHosts, `${knownHostsLine(host.address, host.port, blob)}\n`, { mode: 0o600 });
        accepted.push(fingerprint(blob));
        return true;
      }
      return false;
    },
    ...(privateKey ? { privateKey: readFileSync(privateKey) } : {}),
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  };
  if (!privateKey && !options.agent && options.password === undefined)
    return Promise.reject(
      new HostError(
        `no way to log in: no key among ${options.identities.join(", ")}, no ssh-agent, passwords not allowed`,
      ),
    );
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("ready", () => resolve(client));
    client.once("error", (err: Error & { level?: string; code?: string }) => {
      if (refusal) reject(new HostError(refusal));
      else if (err.level === "client-authentication")
        reject(new HostError(`login as ${config.username} refused: no key, agent identity or password was accepted`));
      else if (err.code) reject(new HostError(`unreachable: ${err.code} (${err.message})`));
      else reject(new HostError(err.message));
      client.end();
    });
    client.connect(config);
  });
}

/** Runs one command; resolves with its exit code and output, streaming lines to `line`. */
function exec(
  client: Client,
  command: string,
  input: string,
  line: (text: string) => void = () => undefined,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(new HostError(`cannot run a command: ${err.message}`));
      let out = "";
      let pending = "";
      const take = (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        out += text;
        pending += text;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) if (l.trim() !== "") line(l);
      };
      stream.on("data", take);
      stream.stderr.on("data", take);
      stream.on("close", (code: number | null) => {
        if (pending.trim() !== "") line(pending);
        resolve({ code: code ?? 1, out });
      });
      stream.end(input);
    });
  });
}

export async function installOverSsh(
  host: InstallHost,
  options: SshOptions,
  request: InstallRequest,
  progress: (text: string) => void,
): Promise<HostResult> {
  const accepted: string[] = [];
  let client: Client | null = null;
  try {
    progress("connecting");
    client = await connect(host, options, accepted);
    for (const f of accepted) progress(`accepted new host key ${f}`);
    const uid = (await exec(client, "id -u", "")).out.trim();
    const sudo = uid === "0" ? "" : "sudo -n ";
    const upload = await exec(client, `sh -c 'umask 077; f=$(mktemp) && cat > "$f" && echo "$f"'`, request.script);
    const scriptPath = upload.out.trim().split("\n").pop() ?? "";
    if (upload.code !== 0 || !scriptPath.startsWith("/"))
      throw new HostError(`could not upload install.sh: ${upload.out.trim() || `exit ${upload.code}`}`);
    const token = await request.token();
    const args = [...request.args, "--token-stdin"].map(shellQuote).join(" ");
    progress(sudo ? "running install.sh with sudo" : "running install.sh");
    const run = await exec(
      client,
      `${sudo}sh ${shellQuote(scriptPath)} ${args}; rc=$?; rm -f ${shellQuote(scriptPath)}; exit $rc`,
      `${token}\n`,
      (l) => progress(l.replace(/^vigil-install: /, "")),
    );
    const version = run.out.match(/done: node \S+, agent (\S+)/)?.[1] ?? null;
    if (run.code !== 0) {
      if (run.out.includes("sudo: a password is required"))
        throw new HostError(
          `sudo needs a password for ${host.user ?? options.user}: log in as root, or allow it without one`,
        );
      const reason = run.out.match(/error: (.*)/)?.[1] ?? `install.sh exited ${run.code}`;
      throw new HostError(reason);
    }
    return { ok: true, detail: run.out.includes("upgrading") ? "upgraded" : "installed", version, accepted };
  } catch (err) {
    return { ok: false, detail: (err as Error).message, version: null, accepted };
  } finally {
    client?.end();
  }
}
