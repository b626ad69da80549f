#!/usr/bin/env node
/**
 * `npm start`: run the control plane locally on workerd with its embedded D1 and Durable
 * Objects, state kept under .wrangler/state. Applies migrations, makes the admin token and
 * the coordinator key once (kept in .dev.vars), starts `wrangler dev` on 127.0.0.1:8787 and
 * prints how to use it.
 * `--demo` also applies examples/classic-lvs.json. Nothing but localhost is contacted.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** VIGIL_HOST=0.0.0.0 serves every interface (the network lab's control-plane namespace). */
const host = process.env.VIGIL_HOST ?? "127.0.0.1";
const port = Number(process.env.VIGIL_PORT ?? 8787);
const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const persist = path.join(root, ".wrangler/state");
const demo = process.argv.includes("--demo");

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

function fail(message) {
  console.error(`vigil: ${message}`);
  process.exit(1);
}

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

async function listening() {
  try {
    const reply = await fetch(`${url}/v1/health`);
    return reply.ok;
  } catch {
    return false;
  }
}

if (!existsSync(wrangler)) fail("dependencies are missing: run `npm install` first");
if (await listening()) fail(`something already answers on ${url}; stop it or set VIGIL_PORT`);

// The agent bundle and install script that the Worker serves (wrangler.toml's [assets]).
const built = spawnSync(process.execPath, [path.join(root, "host-agent/build.mjs")], { stdio: "inherit" });
if (built.status !== 0) fail("building the agent bundle failed (see above)");

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
if (migrate.status !== 0) fail(`applying migrations failed:\n${migrate.stdout}${migrate.stderr}`);

const dev = spawn(
  wrangler,
  [
    "dev",
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
  { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

const deadline = Date.now() + 60_000;
while (!(await listening())) {
  if (Date.now() > deadline) {
    dev.kill("SIGTERM");
    fail(`wrangler dev did not answer on ${url} within 60 s`);
  }
  await new Promise((r) => setTimeout(r, 250));
}

console.log(`
Vigil control plane is running.
  API:          ${url}/v1
  OpenAPI:      ${url}/v1/openapi.json
  Admin token:  ${token}
  Try:          curl -H "Authorization: Bearer ${token}" ${url}/v1/clusters
`);

if (demo) {
  const doc = readFileSync(path.join(root, "examples/classic-lvs.json"), "utf8");
  const name = JSON.parse(doc).cluster.name;
  const reply = await fetch(`${url}/v1/clusters/${name}/config`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: doc,
  });
  const result = await reply.json();
  if (!reply.ok) fail(`the demo cluster was refused: ${JSON.stringify(result)}`);
  console.log(`Demo: applied examples/classic-lvs.json as cluster ${name} (revision ${result.revision}):`);
  for (const c of result.changes) console.log(`  ${c.op.padEnd(6)} ${c.kind.padEnd(14)} ${c.name}`);
  console.log(`  See it:      curl -H "Authorization: Bearer ${token}" ${url}/v1/clusters/${name}/config\n`);
}
