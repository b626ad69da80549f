/**
 * Running `npm start` as a newcomer would: the tracked files copied to a temporary directory
 * (this tree's node_modules linked in), started, and stopped by process group. Shared by
 * test/local and bench/start-time.mjs.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A copy of the files git tracks (and untracked ones it does not ignore), as a fresh clone has them. */
export function freshCheckout() {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-checkout-"));
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(root, file), path.join(dir, file));
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Starts `npm start` in `dir`; `ready` resolves with the admin token once it is printed. */
export function startVigil(dir, port, { timeoutMs = 60_000, netns = null, host = null } = {}) {
  const npm = ["npm", "start"];
  const argv = netns ? ["ip", "netns", "exec", netns, ...npm] : npm;
  const child = spawn(argv[0], argv.slice(1), {
    cwd: dir,
    env: { ...process.env, VIGIL_PORT: String(port), ...(host ? { VIGIL_HOST: host } : {}) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start printed no token within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const read = (chunk) => {
      output += chunk.toString();
      const token = output.match(/Admin token:\s+(vgl_\S+)/)?.[1];
      if (token) {
        clearTimeout(timer);
        resolve(token);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return { child, ready };
}

/** Ends the process group that `startVigil` made (npm, node, wrangler, workerd) and waits for it. */
export async function stopVigil(child) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const group = -child.pid;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  signalGroup(group, "SIGINT");
  const timer = setTimeout(() => signalGroup(group, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function signalGroup(group, signal) {
  try {
    process.kill(group, signal);
  } catch {
    // The group is already gone.
  }
}
