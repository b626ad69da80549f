#!/usr/bin/env node
/**
 * bench/backends: time to reconcile 1,000 real servers from empty and to apply a 1% change
 * (10 weights), and the commands each sent, through the agent's own drivers:
 *   - HAProxy: Debian's haproxy on loopback with an empty backend, over its admin socket
 *     (one runtime API command per connection, as the agent sends them);
 *   - IPVS: Debian's kernel under qemu (test/ipvs/vm.sh), the driver running in the guest.
 *     The guest runs under software emulation here, so its times are slower than real hardware.
 * Targets: a 1% change sends commands only for what changed; HAProxy within 200 ms.
 * Usage: node bench/backends/run.mjs. Writes bench/results/backends.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "vigil-bench-backends-"));
const bundle = (entry, out) =>
  build({
    entryPoints: [path.join(here, entry)],
    outfile: path.join(dir, out),
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    logLevel: "warning",
  });

const rows = [];
let haproxy;
try {
  await bundle("workload.ts", "workload.cjs");
  const workload = createRequire(import.meta.url)(path.join(dir, "workload.cjs"));

  const socket = path.join(dir, "admin.sock");
  const config = path.join(dir, "haproxy.cfg");
  writeFileSync(
    config,
    `global\n  stats socket ${socket} mode 600 level admin\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nbackend big\n  balance roundrobin\n`,
  );
  haproxy = spawn("haproxy", ["-db", "-f", config], { stdio: "ignore" });
  for (let i = 0; i < 50 && spawnSync("test", ["-S", socket]).status !== 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  rows.push({ driver: "haproxy", ...(await workload.haproxy(socket)) });

  await bundle("ipvs-guest.ts", "ipvs-guest.cjs");
  const vm = spawnSync(path.join(root, "test/ipvs/vm.sh"), [path.join(dir, "ipvs-guest.cjs")], { encoding: "utf8" });
  const line = vm.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`the IPVS guest reported nothing:\n${vm.stdout}\n${vm.stderr}`);
  rows.push({ driver: "ipvs (qemu, emulated)", ...JSON.parse(line.slice(7)) });
} finally {
  haproxy?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

console.log("\nbench/backends: 1,000 real servers in one service\n");
console.log(
  `${"driver".padEnd(24)}${"from empty ms".padEnd(16)}${"commands".padEnd(12)}${"1% change ms".padEnd(16)}commands`,
);
for (const r of rows) {
  console.log(
    `${r.driver.padEnd(24)}${r.fromEmptyMs.toFixed(0).padEnd(16)}${String(r.fromEmptyCommands).padEnd(12)}${r.changeMs.toFixed(1).padEnd(16)}${r.changeCommands}`,
  );
}
const ha = rows.find((r) => r.driver === "haproxy");
console.log(
  `\ntargets: 1% change sends only what changed (10 commands each): ${rows.every((r) => r.changeCommands === 10) ? "met" : "NOT met"}; HAProxy 1% change <= 200 ms: ${ha && ha.changeMs <= 200 ? "met" : "NOT met"}`,
);
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(
  path.join(root, "bench/results/backends.json"),
  `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`,
);
