#!/usr/bin/env node
/**
 * Bundles the agent into one file for Node 18+ (host-agent/dist/vigil-agent.cjs), the operator
 * CLI (host-agent/dist/vigil.cjs), and the files the control plane serves to hosts that install
 * the agent (host-agent/dist/site: /install.sh, /agent/VERSION, and the bundle with its SHA-256,
 * under /agent/ and /agent/<version>/).
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
const common = {
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  banner: { js: "#!/usr/bin/env node" },
  legalComments: "none",
  logLevel: "warning",
};
// .cjs: a CommonJS bundle that runs the same inside this "type": "module" tree and alone in /opt/vigil.
await build({ ...common, entryPoints: [path.join(here, "src/main.ts")], outfile: path.join(dist, "vigil-agent.cjs") });
// ssh2's optional native speed-ups stay out: it falls back to its JavaScript code without them.
await build({
  ...common,
  entryPoints: [path.join(here, "src/cli/main.ts")],
  outfile: path.join(dist, "vigil.cjs"),
  external: ["*.node", "cpu-features"],
});

const version = readFileSync(path.join(here, "../src/version.ts"), "utf8").match(/VERSION = "([^"]+)"/)?.[1];
if (!version) throw new Error("no VERSION in src/version.ts");
// Overwritten in place, never removed first: a running `wrangler dev` or test pool may be reading it.
const site = path.join(dist, "site");
const bundle = readFileSync(path.join(dist, "vigil-agent.cjs"));
const sum = `${createHash("sha256").update(bundle).digest("hex")}  vigil-agent.js\n`;
for (const dir of [path.join(site, "agent"), path.join(site, "agent", version)]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "vigil-agent.js"), bundle);
  writeFileSync(path.join(dir, "vigil-agent.js.sha256"), sum);
}
writeFileSync(path.join(site, "agent/VERSION"), `${version}\n`);
copyFileSync(path.join(here, "install.sh"), path.join(site, "install.sh"));
