/**
 * Runs a guest script in the qemu guest (test/ipvs/vm.sh): bundles `entry` (a path beside this
 * file) for the guest's node, boots, and answers the JSON the script printed on its
 * `OBSERVED <json>` line. `files` are copied into the guest's /test beside it; `hostPort` lets
 * the guest reach the host's 127.0.0.1:hostPort at 10.0.2.100:8787; `timeoutSeconds` bounds
 * the guest's run (vm.sh's default: 240); `binaries` are host programs copied in (keepalived). The host's event loop runs meanwhile, so a control
 * plane this process started goes on being served.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { run } from "../local/run.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function runGuest(entry, files = [], { hostPort, timeoutSeconds, binaries = [] } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-ipvs-"));
  try {
    const guest = path.join(dir, `${path.basename(entry, ".ts")}.cjs`);
    await build({
      entryPoints: [path.join(here, entry)],
      outfile: guest,
      bundle: true,
      platform: "node",
      target: "node18",
      format: "cjs",
      logLevel: "warning",
    });
    const env = {
      ...process.env,
      ...(hostPort ? { VIGIL_VM_HOST_PORT: String(hostPort) } : {}),
      ...(timeoutSeconds ? { VIGIL_VM_TIMEOUT: String(timeoutSeconds) } : {}),
      VIGIL_VM_BINARIES: binaries.join(" "),
    };
    const { status, stdout, stderr } = await run(path.join(here, "vm.sh"), [guest, ...files], { env });
    const line = stdout.split("\n").find((l) => l.startsWith("OBSERVED "));
    if (!line) throw new Error(`the guest reported nothing (vm.sh exit ${status}):\n${stdout}\n${stderr}`);
    return JSON.parse(line.slice("OBSERVED ".length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
