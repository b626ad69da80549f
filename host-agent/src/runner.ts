/**
 * Every host action goes through a Runner: argv lists only, never a shell string, with
 * LC_ALL=C so output parses the same everywhere. A failure carries argv, exit code and stderr.
 */
import { execFile } from "node:child_process";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Runs argv; `input`, when given, is written to its stdin. */
  run(argv: readonly string[], input?: string): Promise<RunResult>;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    super(`${argv.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim() || "no output"}`);
  }
}

/** Runs programs directly (execFile, no shell), with a timeout. */
export class ProcessRunner implements Runner {
  constructor(
    private readonly timeoutMs = 10_000,
    /** Prepended to every argv, e.g. ["ip", "netns", "exec", "lab"] in tests. */
    private readonly prefix: readonly string[] = [],
  ) {}

  run(argv: readonly string[], input?: string): Promise<RunResult> {
    const full = [...this.prefix, ...argv];
    const [file, ...args] = full;
    if (!file) return Promise.reject(new Error("empty argv"));
    return new Promise((resolve) => {
      const child = execFile(
        file,
        args,
        { env: { ...process.env, LC_ALL: "C" }, timeout: this.timeoutMs, maxBuffer: 4 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({
            code,
            stdout: String(stdout),
            stderr: String(stderr) || (error && code === 1 ? error.message : ""),
          });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }
}

/** Runs argv and throws a CommandError unless it exits 0. */
export async function must(runner: Runner, argv: readonly string[]): Promise<RunResult> {
  const result = await runner.run(argv);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result;
}

/** A set of names a driver must remember across restarts (what it added, so it removes only that). */
export interface Remembered {
  load(): string[];
  save(names: string[]): void;
}

export const forgetful: Remembered = { load: () => [], save: () => undefined };
