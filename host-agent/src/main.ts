/**
 * vigil-agent: the daemon on each load balancer. Subcommands: run, enroll, check-config,
 * status, version. Exit codes: 0 ok, 1 failure, 2 usage error. Runs on Node 18 or newer.
 */
import { webcrypto } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { parseArgs } from "node:util";
import { bindOptionValues } from "../../src/core/argv.js";
import { CLOCK_SKEW_MS } from "../../src/core/envelope.js";
import { VERSION } from "../../src/core/version.js";
import { allowlistOf, ConfigError, DEFAULT_CONFIG_PATH, DEFAULT_STATE_DIR, loadConfig } from "./config.js";
import { startDaemon } from "./daemon.js";
import { EnrollError, enroll } from "./enroll.js";
import { RealServerError, realServer } from "./realserver.js";
import { ProcessRunner } from "./runner.js";
import { StateStore } from "./state.js";
import { runWatchdog } from "./watchdog.js";

// Node 18 has WebCrypto, but not as the global the shared envelope code uses.
if (!globalThis.crypto) Object.defineProperty(globalThis, "crypto", { value: webcrypto });

const USAGE = `usage: vigil-agent <command> [options]
  run                                           connect to the coordinator and take commands
  enroll --url URL --token TOKEN --node NAME   register this host with the control plane
                                                (the token may come from VIGIL_ENROLL_TOKEN instead)
  check-config                                  validate the configuration file
  status [--json]                               enrollment, pinned keys and replay cursor
  realserver --vip ADDR [--interface IF] [--remove]
                                                LVS-DR real server: VIP on lo, no ARP for it
  version                                       print the version
options: --config PATH (default ${DEFAULT_CONFIG_PATH}), --state-dir DIR (default ${DEFAULT_STATE_DIR})`;

class UsageError extends Error {}

const OPTIONS = {
  config: { type: "string" },
  "state-dir": { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  node: { type: "string" },
  json: { type: "boolean" },
  vip: { type: "string", multiple: true },
  interface: { type: "string", multiple: true },
  remove: { type: "boolean" },
} as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({ args: bindOptionValues(rest, OPTIONS), options: OPTIONS, strict: true });
  const configPath = values.config ?? process.env.VIGIL_AGENT_CONFIG ?? DEFAULT_CONFIG_PATH;
  switch (command) {
    case "run": {
      const config = loadConfig(configPath);
      const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
      const daemon = await startDaemon(config, process.argv[1] ?? "", log);
      await new Promise<void>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) {
          process.once(signal, () => {
            log(`${signal}: giving the VIPs back and stopping`);
            void daemon.stop().then(resolve);
          });
        }
      });
      return 0;
    }
    case "watchdog": {
      // Internal: started beside the agent by WatchdogClient (watchdog.ts), not by operators.
      await runWatchdog(process.stdin, new ProcessRunner(), (line) => console.error(`vigil-agent watchdog: ${line}`));
      return 0;
    }
    case "realserver": {
      if (!values.vip || values.vip.length === 0) throw new UsageError("realserver needs at least one --vip");
      const stateDir = values["state-dir"] ?? DEFAULT_STATE_DIR;
      const done = await realServer(new ProcessRunner(), new StateStore(stateDir), {
        vips: values.vip,
        interfaces: values.interface ?? [],
        remove: values.remove ?? false,
      });
      for (const line of done) console.log(line);
      return 0;
    }
    case "version":
      console.log(`vigil-agent ${VERSION}`);
      return 0;
    case "check-config": {
      const config = loadConfig(configPath);
      const listed = [
        ...config.allow.map((entry, i) => [`allow[${i}]`, typeof entry === "string" ? entry : entry.path] as const),
        ...config.hooks.map((path, i) => [`hooks[${i}]`, path] as const),
      ];
      const unusable = listed.flatMap(([field, path]) => {
        try {
          accessSync(path, constants.X_OK);
          return [];
        } catch {
          return [`${configPath}: ${field}: ${path} is not an executable file on this host`];
        }
      });
      if (unusable.length > 0) {
        for (const line of unusable) console.error(line);
        return 1;
      }
      console.log(`${configPath}: ok (cluster ${config.cluster}, node ${config.node}, control plane ${config.url})`);
      const allowed = allowlistOf(config).describe();
      console.log(
        allowed.length === 0
          ? "allowed programs: none (script checks and hooks from the control plane are refused)"
          : `allowed programs (script checks and hooks; anything else is refused):\n${allowed.map((l) => `  ${l}`).join("\n")}`,
      );
      return 0;
    }
    case "enroll": {
      // VIGIL_ENROLL_TOKEN keeps the token out of argv (install.sh passes it that way).
      const token = values.token ?? process.env.VIGIL_ENROLL_TOKEN;
      if (!values.url || !token || !values.node)
        throw new UsageError("enroll needs --url, --token (or VIGIL_ENROLL_TOKEN) and --node");
      const stateDir = values["state-dir"] ?? DEFAULT_STATE_DIR;
      const enrolled = await enroll(
        { url: values.url, token, node: values.node, configPath, stateDir },
        new StateStore(stateDir),
      );
      const kids = enrolled.coordinatorKeys.map((k) => k.kid).join(", ");
      console.log(`enrolled ${enrolled.node} in cluster ${enrolled.cluster}; pinned coordinator key ${kids}`);
      return 0;
    }
    case "status": {
      const stateDir = values["state-dir"] ?? loadConfig(configPath).stateDir;
      const state = new StateStore(stateDir);
      const identity = state.identity();
      const status = {
        enrolled: identity !== null,
        cluster: identity?.cluster ?? null,
        node: identity?.node ?? null,
        publicKey: identity?.publicKey ?? null,
        coordinatorKeys: Object.keys(identity?.coordinatorKeys ?? {}),
        cursor: state.cursor(),
        /** The last time the coordinator accepted this agent, and how far this clock was off its. */
        lastAccepted: (state.load("channel.json") as { at: string; clockOffsetMs: number } | null) ?? null,
      };
      if (values.json) console.log(JSON.stringify(status));
      else {
        console.log(
          identity
            ? `enrolled: ${identity.node} in cluster ${identity.cluster} since ${identity.enrolledAt}`
            : "enrolled: no",
        );
        console.log(`coordinator keys: ${status.coordinatorKeys.join(", ") || "none"}`);
        console.log(`last accepted seq: ${status.cursor.seq}`);
        const last = status.lastAccepted;
        console.log(
          last
            ? `last accepted by the coordinator: ${last.at}, clock offset ${last.clockOffsetMs} ms` +
                (Math.abs(last.clockOffsetMs) > CLOCK_SKEW_MS / 2
                  ? ` (over ${CLOCK_SKEW_MS / 2000} s: fix NTP; past ${CLOCK_SKEW_MS / 1000} s commands are refused)`
                  : "")
            : "last accepted by the coordinator: never",
        );
      }
      return 0;
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : "no command given");
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`vigil-agent: ${(err as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    const known = err instanceof ConfigError || err instanceof EnrollError || err instanceof RealServerError;
    console.error(`vigil-agent: ${known ? (err as Error).message : (err as Error).stack}`);
    process.exit(1);
  },
);
