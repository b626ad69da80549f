/**
 * Runs a program to its end and collects its output, without blocking this process's event
 * loop: servers the program talks to (a mirror, a loopback web server) may live in the test.
 */
import { spawn } from "node:child_process";

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<Ran> {
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
