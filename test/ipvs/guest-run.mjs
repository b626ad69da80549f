/**
 * Runs a guest script in the qemu guest (test/ipvs/vm.sh): bundles `entry` for the guest's
 * node, boots, and answers the JSON the script printed on its `OBSERVED <json>` line. `files`
 * are copied into the guest's /test beside it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";

export async function runGuest(entry: string, files: string[] = []): Promise<Record<string, any>> {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-ipvs-"));
  try {
    const guest = path.join(dir, `${path.basename(entry, ".ts")}.cjs`);
    await build({
      entryPoints: [path.join(import.meta.dirname, entry)],
      outfile: guest,
      bundle: true,
      platform: "node",
      target: "node18",
      format: "cjs",
      logLevel: "warning",
    });
    const run = spawnSync(path.join(import.meta.dirname, "vm.sh"), [guest, ...files], {
      encoding: "utf8",
      timeout: 600_000,
    });
    const line = run.stdout.split("\n").find((l) => l.startsWith("OBSERVED "));
    if (!line) throw new Error(`the guest reported nothing (vm.sh exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    return JSON.parse(line.slice("OBSERVED ".length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
