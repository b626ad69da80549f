#!/usr/bin/env node
/** Bundles the agent into one file for Node 18+: host-agent/dist/vigil-agent.cjs. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [path.join(here, "src/main.ts")],
  // .cjs: a CommonJS bundle that runs the same inside this "type": "module" tree and alone in /opt/vigil.
  outfile: path.join(here, "dist/vigil-agent.cjs"),
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  banner: { js: "#!/usr/bin/env node" },
  legalComments: "none",
  logLevel: "warning",
});
