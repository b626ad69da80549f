/**
 * The VIP watchdog: a small process the agent starts beside itself and tells, over a pipe,
 * which VIPs it holds and how long its lease has left. If the agent dies, even by SIGKILL,
 * the pipe closes and the watchdog still removes the VIPs when the lease runs out: a VIP never
 * outlives its lease because the agent that held it is gone. Both sides use their own
 * monotonic clocks; only durations cross the pipe.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";
import { Vip } from "../../src/core/vip-group.js";
import type { Runner } from "./runner.js";
import { ensureVip } from "./vip.js";

const Holding = z.object({ vips: z.array(Vip), remainingMs: z.number().nonnegative() });

/** The agent's side: tell the watchdog what is held and for how long; `release()` when nothing is. */
export class WatchdogClient {
  private constructor(private readonly stdin: NodeJS.WritableStream) {}

  static start(bundle: string): WatchdogClient {
    const child = spawn(process.execPath, [bundle, "watchdog"], {
      stdio: ["pipe", "ignore", "inherit"],
      detached: true,
    });
    child.unref();
    return new WatchdogClient(child.stdin);
  }

  hold(vips: Vip[], remainingMs: number): void {
    this.stdin.write(`${JSON.stringify({ vips, remainingMs })}\n`);
  }

  release(): void {
    this.hold([], 0);
  }
}

/**
 * The watchdog's side: follow the agent's last word; at the deadline remove what it held.
 * Ends once the agent is gone and nothing is held any more.
 */
export async function runWatchdog(
  input: NodeJS.ReadableStream,
  runner: Runner,
  log: (line: string) => void,
): Promise<void> {
  let held: Vip[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let expired: () => void = () => {};
  const drop = async () => {
    const vips = held;
    held = [];
    for (const vip of vips) {
      try {
        if ((await ensureVip(runner, vip, false)) === "changed")
          log(`lease ran out: removed ${vip.cidr} from ${vip.interface}`);
      } catch (err) {
        log(`removing ${vip.cidr}: ${(err as Error).message}`);
      }
    }
    expired();
  };
  for await (const line of createInterface({ input })) {
    const parsed = Holding.safeParse(JSON.parse(line));
    if (!parsed.success) continue;
    if (timer) clearTimeout(timer);
    held = parsed.data.vips;
    timer = held.length > 0 ? setTimeout(() => void drop(), parsed.data.remainingMs) : null;
  }
  // The agent is gone: keep the promise it made, then leave.
  if (held.length > 0) await new Promise<void>((resolve) => (expired = resolve));
}
