/**
 * Runs a program to its end and collects its output, without blocking this process's event
 * loop: servers the program talks to (a mirror, a loopback web server, a control plane a qemu
 * guest reaches) may live in the test.
 */
import { spawn } from "node:child_process";

export function run(command, args, options = {}) {
  const child = spawn(command, args, { env: options.env ?? process.env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  child.stdin.end(options.input ?? "");
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}
