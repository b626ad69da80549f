/**
 * vigil: the operator's command line. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import path from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { bindOptionValues } from "../src/core/argv.js";
import { VERSION } from "../src/core/version.js";
import { alertsApply, alertsDeliveries, alertsList, alertsTest } from "./alerts.js";
import { ApiError } from "./client.js";
import * as cmd from "./commands.js";
import { UsageError } from "./commands.js";
import { installHosts, renderTable } from "./hosts-install.js";
import { importCommand, importHaproxyCommand } from "./import.js";
import { ImportRefused } from "./importers/keepalived-notes.js";
import { ConfigReadError, ConfigSyntaxError } from "./importers/keepalived-syntax.js";
import { type InstallHost, InventoryError, inventoryHosts, parseHostWord } from "./inventory.js";

const IMPORT_USAGE = `usage: vigil import keepalived FILE... [--cluster C] [--address NODE=IP]... [-o OUT] [--email-out FILE]
       vigil import haproxy FILE --into DOC [-o OUT]

keepalived: one keepalived.conf per director (its includes are followed) into one cluster
  document, on stdout or in OUT. Each director is named by its router_id, or by its file's
  name when the router_id is missing or shared. Every difference from what keepalived would
  do is a note on stderr as FILE:LINE: why; two files that disagree on something Vigil keeps
  once per cluster are named together, and what cannot be merged is refused (exit 1).
  --cluster C          the cluster's name (default keepalived)
  --address NODE=IP    a director's address, where its file has no unicast_src_ip
  --email-out FILE     where notification_email, smtp_server and smtp_alert go, as an email
                       subscription for vigil alerts apply (default: OUT with .email.json)

haproxy: add haproxy.cfg's backends to DOC (from vigil import keepalived) as virtual services
  with the haproxy driver.`;

const USAGE = `usage: vigil <command> [options]
  login URL [--token T]                  check the token (or VIGIL_TOKEN, or stdin) and save both (0600)
  status [CLUSTER] [--json]              VIP holders and the virtual services, laid out like ipvsadm -Ln
  health [CLUSTER] [--json]              every target's verdict and votes
  events [CLUSTER] [--type T] [--limit N] [--follow] [--json]
  apply -f FILE [--dry-run] [--cluster C] [--json]
                                         apply a cluster document (YAML or JSON); prints the diff
  import keepalived FILE... [--cluster C] [--address NODE=IP]... [-o OUT] [--email-out FILE]
                                         one keepalived.conf per director into one cluster document
                                         (stdout or OUT) and its mail alerts into an email
                                         subscription; what cannot be carried over goes to stderr
  import haproxy FILE --into DOC [-o OUT]
                                         add haproxy.cfg's backends to DOC (a keepalived import) as
                                         virtual services with the haproxy driver
  alerts list [--json]                   the subscriptions events go to: webhooks and email
  alerts apply -f FILE [--dry-run]       create or replace a subscription (YAML or JSON; a relay
                                         password may come from VIGIL_SMTP_PASSWORD)
  alerts test NAME                       send one test event to a subscription
  alerts deliveries NAME [--limit N] [--json]
                                         its latest deliveries, each attempt with its answer
  switchover CLUSTER GROUP --to NODE     move a VIP group to a member
  drain CLUSTER NODE [--undo]            move every VIP group off a node (or let it hold again)
  hosts install [HOST...] [-i INVENTORY] [--group G]...   install the agent over SSH
      HOST is [node=][user@]address[:port]; INVENTORY is an Ansible INI inventory
      --cluster NAME        the cluster the nodes belong to (required)
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
      --release-key KEY     the release signing key each host verifies the agent with (required;
                            from your records of the build, not from the control plane)
      --insecure-http       let hosts use a plain http:// control plane (isolated labs only)
  release-key                            the key agent releases are signed with, and the install command
  version                                print the version
every command that calls the API takes --url URL and --token TOKEN (default: VIGIL_URL,
VIGIL_TOKEN, then what vigil login saved). Exit codes: 0 ok, 1 failure, 2 usage error.`;

async function hostsInstall(args: string[]): Promise<number> {
  const { values, positionals } = flags(args, {
    inventory: { type: "string", short: "i" },
    group: { type: "string", multiple: true },
    cluster: { type: "string" },
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
    "release-key": { type: "string" },
    "insecure-http": { type: "boolean" },
  });
  if (!values.cluster) throw new UsageError("hosts install needs --cluster");
  const releaseKey = values["release-key"] ?? "";
  if (!/^[A-Za-z0-9_-]{43}$/.test(releaseKey))
    throw new UsageError(
      "hosts install needs --release-key KEY: the 43-character key the agent releases are signed with (npm run build:agent prints it)",
    );
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
      api: cmd.connect(values),
      cluster: values.cluster,
      parallel: number(values.parallel, 5, "parallel"),
      installDeps: values["install-deps"] ?? false,
      noStart: values["no-start"] ?? false,
      ...(values.root ? { root: values.root } : {}),
      releaseKey,
      insecureHttp: values["insecure-http"] ?? false,
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

const API_FLAGS = { url: { type: "string" }, token: { type: "string" } } as const;
const print = (line: string) => console.log(line);

/** Parses a command's flags; unknown ones are a usage error. */
function flags<const O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  const all = { ...API_FLAGS, ...options } as typeof API_FLAGS & O;
  return parseArgs({ args: bindOptionValues(args, all), options: all, allowPositionals: true, strict: true });
}

function one(positionals: string[], max: number, what: string): void {
  if (positionals.length > max) throw new UsageError(`${what}: unexpected ${positionals.slice(max).join(" ")}`);
}

async function alerts([sub, ...args]: string[]): Promise<number> {
  const { values, positionals } = flags(args, {
    file: { type: "string", short: "f" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
    limit: { type: "string" },
  });
  const [name] = positionals;
  switch (sub) {
    case "list":
      one(positionals, 0, "alerts list");
      return alertsList(cmd.connect(values), values.json ?? false, print);
    case "apply":
      one(positionals, 0, "alerts apply");
      if (!values.file) throw new UsageError("alerts apply needs -f FILE");
      return alertsApply(cmd.connect(values), values.file, { dryRun: values["dry-run"] ?? false }, print);
    case "test":
      one(positionals, 1, "alerts test");
      if (!name) throw new UsageError("alerts test needs the subscription's NAME");
      return alertsTest(cmd.connect(values), name, print);
    case "deliveries": {
      one(positionals, 1, "alerts deliveries");
      if (!name) throw new UsageError("alerts deliveries needs the subscription's NAME");
      const limit = Number(values.limit ?? 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500)
        throw new UsageError(`--limit expects 1 to 500, got "${values.limit}"`);
      return alertsDeliveries(cmd.connect(values), name, { limit, json: values.json ?? false }, print);
    }
    default:
      throw new UsageError(`alerts what? list, apply, test or deliveries (got ${sub ?? "nothing"})`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "version":
      print(`vigil ${VERSION}`);
      return 0;
    case "help":
    case "--help":
    case "-h":
      print(USAGE);
      return 0;
    case "login": {
      const { values, positionals } = flags(rest, {});
      one(positionals, 1, "login");
      if (!positionals[0]) throw new UsageError("login needs the control plane's URL");
      return cmd.login(positionals[0], values.token, print);
    }
    case "release-key": {
      const { values, positionals } = flags(rest, {});
      one(positionals, 0, "release-key");
      const served = await cmd
        .connect(values)
        .call<{ releaseKey: string; installCommand: string }>("GET", "/v1/release-key");
      print(`release key: ${served.releaseKey}`);
      print("compare it with the key your build printed: a tampered server could show another");
      print(`install an agent: ${served.installCommand}`);
      return 0;
    }
    case "status":
    case "health": {
      const { values, positionals } = flags(rest, { json: { type: "boolean" } });
      one(positionals, 1, command);
      const run = command === "status" ? cmd.status : cmd.health;
      return run(cmd.connect(values), positionals[0], values.json ?? false, print);
    }
    case "events": {
      const { values, positionals } = flags(rest, {
        json: { type: "boolean" },
        follow: { type: "boolean", short: "f" },
        type: { type: "string" },
        limit: { type: "string" },
      });
      one(positionals, 1, "events");
      const limit = Number(values.limit ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500)
        throw new UsageError(`--limit expects 1 to 500, got "${values.limit}"`);
      return cmd.events(
        cmd.connect(values),
        positionals[0],
        { json: values.json ?? false, follow: values.follow ?? false, type: values.type, limit },
        print,
      );
    }
    case "apply": {
      const { values, positionals } = flags(rest, {
        file: { type: "string", short: "f" },
        "dry-run": { type: "boolean" },
        cluster: { type: "string" },
        json: { type: "boolean" },
      });
      one(positionals, 0, "apply");
      if (!values.file) throw new UsageError("apply needs -f FILE");
      return cmd.apply(
        cmd.connect(values),
        values.file,
        { dryRun: values["dry-run"] ?? false, cluster: values.cluster, json: values.json ?? false },
        print,
      );
    }
    case "alerts":
      return alerts(rest);
    case "switchover": {
      const { values, positionals } = flags(rest, { to: { type: "string" } });
      const [cluster, group] = positionals;
      one(positionals, 2, "switchover");
      if (!cluster || !group || !values.to) throw new UsageError("switchover needs CLUSTER GROUP --to NODE");
      return cmd.switchover(cmd.connect(values), cluster, group, values.to, print);
    }
    case "drain": {
      const { values, positionals } = flags(rest, { undo: { type: "boolean" } });
      const [cluster, node] = positionals;
      one(positionals, 2, "drain");
      if (!cluster || !node) throw new UsageError("drain needs CLUSTER NODE");
      return cmd.drain(cmd.connect(values), cluster, node, values.undo ?? false, print);
    }
    case "import": {
      const [kind, ...files] = rest;
      if (kind === "--help" || kind === "-h") {
        print(IMPORT_USAGE);
        return 0;
      }
      const options = {
        cluster: { type: "string" },
        address: { type: "string", multiple: true },
        out: { type: "string", short: "o" },
        "email-out": { type: "string" },
        into: { type: "string" },
        help: { type: "boolean", short: "h" },
      } as const;
      const { values, positionals } = parseArgs({
        args: bindOptionValues(files, options),
        allowPositionals: true,
        strict: true,
        options,
      });
      if (values.help) {
        print(IMPORT_USAGE);
        return 0;
      }
      if (kind === "haproxy") {
        const [file] = positionals;
        one(positionals, 1, "import haproxy");
        if (!file || !values.into)
          throw new UsageError("import haproxy needs FILE and --into DOC (from vigil import keepalived)");
        return importHaproxyCommand(file, values.into, values.out, print);
      }
      if (kind !== "keepalived") throw new UsageError(`import what? keepalived or haproxy (got ${kind ?? "nothing"})`);
      if (positionals.length === 0) throw new UsageError("import keepalived needs at least one keepalived.conf");
      const addresses: Record<string, string> = {};
      for (const pair of values.address ?? []) {
        const [node, ip] = pair.split("=");
        if (!node || !ip) throw new UsageError(`--address expects NODE=IP, got "${pair}"`);
        addresses[node] = ip;
      }
      return importCommand(
        positionals,
        { cluster: values.cluster, addresses, out: values.out, emailOut: values["email-out"] },
        print,
      );
    }
    case "hosts":
      if (rest[0] === "install") return hostsInstall(rest.slice(1));
      throw new UsageError(`unknown command: hosts ${rest[0] ?? ""}`.trim());
    default:
      throw new UsageError(command ? `unknown command: ${command}` : "no command given");
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`vigil: ${(err as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    const known = [InventoryError, ApiError, ConfigSyntaxError, ConfigReadError, ImportRefused].some(
      (kind) => err instanceof kind,
    );
    console.error(`vigil: ${known ? (err as Error).message : (err as Error).stack}`);
    process.exit(1);
  },
);
