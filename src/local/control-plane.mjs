/**
 * The local control plane that `npm start` and `npm run demo` run: workerd under `wrangler
 * dev` with its embedded D1 and Durable Objects, state kept under .wrangler/state. Applies
 * migrations, makes the admin token and the coordinator key once (kept in .dev.vars), and waits
 * until the API answers. Nothing but localhost is contacted.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const persist = path.join(root, ".wrangler/state");

/** Wrangler must not phone home. */
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

export class StartError extends Error {}

/**
 * Secrets live in .dev.vars, which wrangler dev reads: the admin token and the coordinator's
 * signing key are made once and kept, so tokens and enrolled agents survive restarts.
 */
function devVar(name, make) {
  const file = path.join(root, ".dev.vars");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const found = text.match(new RegExp(`^${name}=(\\S+)$`, "m"));
  if (found) return found[1];
  const value = make();
  writeFileSync(file, `${text}${text && !text.endsWith("\n") ? "\n" : ""}${name}=${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return value;
}

async function listening(url) {
  try {
    return (await fetch(`${url}/v1/health`)).ok;
  } catch {
    return false;
  }
}

/**
 * A loopback port free now, for wrangler's inspector: its own choice probes 9229 upwards, and
 * two control planes started at the same moment (tests, a demo beside `npm start`) both pick
 * the first free one and one of them exits.
 */
function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The last lines of a log file, to say why wrangler stopped. */
function tail(file, lines = 20) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Starts the control plane on `host:port` (VIGIL_HOST=0.0.0.0 serves every interface, as the
 * network lab's control-plane namespace needs). `log`, a file path, takes what wrangler prints
 * (else this terminal does); when wrangler stops early, the error ends with its last lines. Answers its URL, the admin token and the `wrangler dev`
 * child; throws a StartError that says what to do.
 */
export async function startControlPlane({ host = "127.0.0.1", port = 8787, log = null } = {}) {
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  if (!existsSync(wrangler)) throw new StartError("dependencies are missing: run `npm install` first");
  if (await listening(url)) throw new StartError(`something already answers on ${url}; stop it or set VIGIL_PORT`);

  // The agent bundle and install script that the Worker serves (wrangler.toml's [assets]).
  const built = spawnSync(process.execPath, [path.join(root, "host-agent/build.mjs")], { stdio: "inherit" });
  if (built.status !== 0) throw new StartError("building the agent bundle failed (see above)");

  const token = devVar("VIGIL_ADMIN_TOKEN", () => `vgl_${randomBytes(32).toString("base64url")}`);
  devVar(
    "VIGIL_COORDINATOR_KEY",
    () => `coord-${new Date().toISOString().slice(0, 10).replace(/-/g, "")}:${randomBytes(32).toString("base64url")}`,
  );
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new StartError(`applying migrations failed:\n${migrate.stdout}${migrate.stderr}`);

  const out = log === null ? "inherit" : openSync(log, "a");
  const child = spawn(
    wrangler,
    [
      "dev",
      "--inspector-port",
      String(await freeLoopbackPort()),
      "--ip",
      host,
      "--port",
      String(port),
      "--persist-to",
      persist,
      "--show-interactive-dev-session=false",
      // Local work probes and posts to loopback and the LAN; a deployed control plane refuses those.
      "--var",
      "VIGIL_ALLOW_PRIVATE_TARGETS:true",
    ],
    { cwd: root, env, stdio: ["ignore", out, out] },
  );
  const deadline = Date.now() + 60_000;
  while (!(await listening(url))) {
    if (child.exitCode !== null) {
      const said = log === null ? "" : tail(log);
      throw new StartError(
        `wrangler dev exited with ${child.exitCode}${said ? `; its last words (${log}):\n${said}` : ""}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new StartError(`wrangler dev did not answer on ${url} within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, token, child };
}
