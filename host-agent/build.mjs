#!/usr/bin/env node
/**
 * Bundles the agent into one file for Node 18+ (host-agent/dist/vigil-agent.cjs), the operator
 * CLI (host-agent/dist/vigil.cjs), and the files the control plane serves to hosts that install
 * the agent (host-agent/dist/site: /install.sh, /agent/VERSION, and the bundle with its SHA-256
 * and its Ed25519 signature, under /agent/ and /agent/<version>/), with the dashboard's chart
 * library (/ui/vendor/).
 *
 * The release key signs every bundle; install.sh verifies the signature against the public key
 * the operator passes it (`--release-key`), taken from somewhere other than the server that
 * serves the bundle. The key's 32-byte seed is VIGIL_RELEASE_SEED (base64url) or the file
 * host-agent/.release-key, made on first build (0600, not committed): keep it as a secret, and
 * build releases with the same one, or every host must be given the new public key.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
  entryPoints: [path.join(here, "../cli/main.ts")],
  outfile: path.join(dist, "vigil.cjs"),
  external: ["*.node", "cpu-features"],
});

const version = readFileSync(path.join(here, "../src/core/version.ts"), "utf8").match(/VERSION = "([^"]+)"/)?.[1];
if (!version) throw new Error("no VERSION in src/core/version.ts");
// Overwritten in place, never removed first: a running `wrangler dev` or test pool may be reading it.
const site = path.join(dist, "site");
const bundle = readFileSync(path.join(dist, "vigil-agent.cjs"));
const sum = `${createHash("sha256").update(bundle).digest("hex")}  vigil-agent.js\n`;
const release = releaseKey();
const signature = `${sign(null, bundle, release.privateKey).toString("base64")}\n`;
for (const dir of [path.join(site, "agent"), path.join(site, "agent", version)]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "vigil-agent.js"), bundle);
  writeFileSync(path.join(dir, "vigil-agent.js.sha256"), sum);
  writeFileSync(path.join(dir, "vigil-agent.js.sig"), signature);
}
writeFileSync(path.join(site, "agent/VERSION"), `${version}\n`);
// For display (the dashboard's install command) and for tools here; hosts never trust this copy.
writeFileSync(path.join(site, "agent/release-key"), `${release.publicKey}\n`);
writeFileSync(path.join(dist, "release-key"), `${release.publicKey}\n`);
console.log(`build: agent ${version} signed; release key ${release.publicKey} (install.sh --release-key)`);
copyFileSync(path.join(here, "install.sh"), path.join(site, "install.sh"));
// The dashboard's chart library (uPlot, MIT licensed), served from the same assets: no CDN.
const uplot = path.join(here, "../node_modules/uplot/dist");
mkdirSync(path.join(site, "ui/vendor"), { recursive: true });
copyFileSync(path.join(uplot, "uPlot.iife.min.js"), path.join(site, "ui/vendor/uplot.js"));
copyFileSync(path.join(uplot, "uPlot.min.css"), path.join(site, "ui/vendor/uplot.css"));

/** The release signing key: its private half, and its public half as 32 raw bytes in base64url. */
function releaseKey() {
  const file = path.join(here, ".release-key");
  let seed = process.env.VIGIL_RELEASE_SEED;
  if (!seed && existsSync(file)) seed = readFileSync(file, "utf8").trim();
  if (!seed) {
    seed = randomBytes(32).toString("base64url");
    writeFileSync(file, `${seed}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    console.log(`build: made a release signing key in ${file}; keep it secret and keep it for every release`);
  }
  const raw = Buffer.from(seed, "base64url");
  if (raw.length !== 32) throw new Error("the release key must be a 32-byte Ed25519 seed in base64url");
  // PKCS#8 for an Ed25519 seed: a fixed prefix, then the 32 bytes.
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), raw]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return { privateKey, publicKey: spki.subarray(spki.length - 32).toString("base64url") };
}
