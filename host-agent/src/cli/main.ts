/**
 * vigil: the operator's command line. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { VERSION } from "../../../src/version.js";
import { ApiError, installHosts, renderTable } from "./hosts-install.js";
import { type InstallHost, InventoryError, inventoryHosts, parseHostWord } from "./inventory.js";

const USAGE = `usage: vigil <command> [options]
  hosts install [HOST...] [-i INVENTORY] [--group G]...   install the agent over SSH
      HOST is [node=][user@]address[:port]; INVENTORY is an Ansible INI inventory
      --cluster NAME        the cluster the nodes belong to (required)
      --url URL             the control plane (or VIGIL_URL)
      --token TOKEN         an admin API token (or VIGIL_TOKEN)
      --user USER           SSH user when the host names none (default: you)
      --identity FILE       private key to log in with (default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)
      --known-hosts FILE    default ~/.ssh/known_hosts
      --accept-new          accept and record keys of hosts not yet known (a changed key is never accepted)
      --allow-password      log in with VIGIL_SSH_PASSWORD when keys fail
      --parallel N          hosts at once (default 5)
      --timeout SECONDS     SSH connect timeout (default 10)
      --install-deps        let install.sh install iproute2, arping and Node.js
      --no-start            install and enroll, do not start the service
      --root DIR            install under DIR on each host ({node} is replaced), for staging
  version                                                print the version`;

class UsageError extends Error {}

async function hostsInstall(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      inventory: { type: "string", short: "i" },
      group: { type: "string", multiple: true },
      cluster: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      user: { type: "string" },
      identity: { type: "string", multiple: true },
      "known-hosts": { type: "string" },
      "accept-new": { type: "boolean" },
      "allow-password": { type: "boolean" },
      parallel: { type: "string" },
      timeout: { type: "string" },
      "install-deps": { type: "boolean" },
      "no-start": { type: "boolean" },
      root: { type: "string" },
    },
  });
  const url = values.url ?? process.env.VIGIL_URL;
  const apiToken = values.token ?? process.env.VIGIL_TOKEN;
  if (!values.cluster) throw new UsageError("hosts install needs --cluster");
  if (!url) throw new UsageError("hosts install needs --url (or VIGIL_URL)");
  if (!apiToken) throw new UsageError("hosts install needs an admin token: --token or VIGIL_TOKEN");
  const number = (value: string | undefined, fallback: number, name: string) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} expects a positive number, got "${value}"`);
    return n;
  };
  const hosts: InstallHost[] = positionals.map(parseHostWord);
  if (values.inventory) {
    let text: string;
    try {
      text = readFileSync(values.inventory, "utf8");
    } catch (err) {
      throw new InventoryError(`${values.inventory}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    hosts.push(...inventoryHosts(text, values.inventory, values.group ?? []));
  } else if (values.group) throw new UsageError("--group needs --inventory");
  if (hosts.length === 0) throw new UsageError("no hosts: name them, or give an inventory with -i");
  const ssh = path.join(homedir(), ".ssh");
  if (values["allow-password"] && process.env.VIGIL_SSH_PASSWORD === undefined)
    throw new UsageError("--allow-password reads the password from VIGIL_SSH_PASSWORD, which is not set");
  const rows = await installHosts(
    hosts,
    {
      url,
      apiToken,
      cluster: values.cluster,
      parallel: number(values.parallel, 5, "parallel"),
      installDeps: values["install-deps"] ?? false,
      noStart: values["no-start"] ?? false,
      ...(values.root ? { root: values.root } : {}),
      ssh: {
        user: values.user ?? userInfo().username,
        knownHosts: values["known-hosts"] ?? path.join(ssh, "known_hosts"),
        acceptNew: values["accept-new"] ?? false,
        identities: values.identity ?? ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => path.join(ssh, f)),
        ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
        ...(values["allow-password"] ? { password: process.env.VIGIL_SSH_PASSWORD } : {}),
        ...(process.env.VIGIL_SSH_PASSPHRASE ? { passphrase: process.env.VIGIL_SSH_PASSPHRASE } : {}),
        timeoutMs: number(values.timeout, 10, "timeout") * 1000,
      },
    },
    (line) => console.log(line),
  );
  console.log(`\n${renderTable(rows)}`);
  const failed = rows.filter((r) => !r.ok).length;
  console.log(`\n${rows.length - failed} of ${rows.length} host(s) installed${failed ? `, ${failed} failed` : ""}`);
  return failed > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === "version") {
    console.log(`vigil ${VERSION}`);
    return 0;
  }
  if (command === "hosts" && sub === "install") return hostsInstall(rest);
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  throw new UsageError(command ? `unknown command: ${[command, sub].filter(Boolean).join(" ")}` : "no command given");
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`vigil: ${(err as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    const known = err instanceof InventoryError || err instanceof ApiError;
    console.error(`vigil: ${known ? (err as Error).message : (err as Error).stack}`);
    process.exit(1);
  },
);
