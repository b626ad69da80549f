/**
 * Runs a bench workload inside workerd (vitest with the workers pool) and returns the JSON
 * it prints on its `BENCH_RESULT` line. `BENCH_MARK <name>` lines call `onMark(name)` as
 * they are printed, so the caller can sample the process tree's CPU at those moments.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export async function runWorkload(file, input, onMark = () => {}) {
  const child = spawn(
    path.join(root, "node_modules/.bin/vitest"),
    ["run", "--config", path.join(root, "bench/workerd.vitest.config.ts")],
    {
      cwd: root,
      env: {
        ...process.env,
        VIGIL_BENCH_FILE: file,
        VIGIL_BENCH: JSON.stringify(input),
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    const text = chunk.toString();
    output += text;
    for (const mark of text.matchAll(/BENCH_MARK (\w+)/g)) onMark(mark[1], child.pid);
  });
  child.stderr.on("data", (chunk) => {
    output += chunk.toString();
  });
  const code = await new Promise((resolve) => child.on("exit", resolve));
  mkdirSync(path.join(root, "bench/results"), { recursive: true });
  writeFileSync(path.join(root, "bench/results", `${path.basename(file, ".bench-test.ts")}.log`), output);
  const line = output.split("\n").find((l) => l.includes("BENCH_RESULT "));
  if (code !== 0 || !line) {
    console.error(output.slice(-4000));
    throw new Error(`${file}: the workload failed (exit ${code})`);
  }
  return JSON.parse(line.slice(line.indexOf("BENCH_RESULT ") + 13));
}

/** Prints a table and writes bench/results/<name>.json. */
export function report(name, rows, extra) {
  console.log(`${"measure".padEnd(58)} ${"value".padStart(10)}  ${"target".padEnd(9)}  met`);
  for (const [label, value, target = "-", met = null] of rows) {
    console.log(
      `${label.padEnd(58)} ${value.toFixed(2).padStart(10)}  ${target.padEnd(9)}  ${met === null ? "" : met ? "yes" : "NO"}`,
    );
  }
  writeFileSync(
    path.join(root, "bench/results", `${name}.json`),
    `${JSON.stringify({ bench: name, node: process.version, at: new Date().toISOString(), rows: rows.map(([label, value, target, met]) => ({ label, value, target: target ?? null, met: met ?? null })), ...extra }, null, 2)}\n`,
  );
}
