/**
 * The VIP watchdog: a small process the agent starts beside itself and tells, over a pipe,
 * which VIPs it holds and how long its lease has left. If the agent dies, even by SIGKILL,
 * the pipe closes and the watchdog still removes the VIPs when the lease runs out: a VIP never
 * outlives its lease because the agent that held it is gone. Both sides use their own
 * monotonic clocks; only durations cross the pipe.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import * as z from "zod";
import { Vip } from "../../src/core/vip-group.js";
import type { Runner } from "./runner.js";
import { ensureVip } from "./vip.js";

const Holding = z.object({ vips: z.array(Vip), remainingMs: z.number().nonnegative() });

/** Where an agent keeps the PIDs of the watchdogs its runs started that may still keep a lease. */
export interface WatchdogPids {
  load(): number[];
  save(pids: number[]): void;
}

/**
 * The agent's side: tell the watchdog what is held and for how long; `release()` when nothing
 * is. A watchdog left by an earlier run of the agent (killed, or crashed and restarted by
 * systemd) still keeps that run's lease and would take the VIPs down at its deadline: once this
 * run holds them under a lease of its own, it ends those watchdogs (SIGTERM: they leave without
 * touching the VIPs).
 */
export class WatchdogClient {
  private constructor(
    private readonly stdin: NodeJS.WritableStream,
    private readonly bundle: string,
    private readonly pid: number | undefined,
    private readonly pids: WatchdogPids | null,
    private earlier: number[],
  ) {}

  static start(bundle: string, pids: WatchdogPids | null = null): WatchdogClient {
    const earlier = pids?.load() ?? [];
    const child = spawn(process.execPath, [bundle, "watchdog"], {
      stdio: ["pipe", "ignore", "inherit"],
      detached: true,
    });
    child.unref();
    if (pids && child.pid !== undefined) pids.save([...earlier, child.pid]);
    return new WatchdogClient(child.stdin, bundle, child.pid, pids, earlier);
  }

  hold(vips: Vip[], remainingMs: number): void {
    this.stdin.write(`${JSON.stringify({ vips, remainingMs })}\n`);
    if (vips.length > 0 && this.earlier.length > 0) this.endEarlier();
  }

  release(): void {
    this.hold([], 0);
  }

  private endEarlier(): void {
    for (const pid of this.earlier) {
      if (!isWatchdogOf(pid, this.bundle)) continue;
      try {
        process.kill(pid); // SIGTERM: it leaves without touching the VIPs.
      } catch {
        // Gone meanwhile.
      }
    }
    this.earlier = [];
    this.pids?.save(this.pid === undefined ? [] : [this.pid]);
  }
}

/** Whether `pid` is a watchdog of this bundle (and not a process that took the number since). */
function isWatchdogOf(pid: number, bundle: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv[1] === bundle && argv[2] === "watchdog";
  } catch {
    return false;
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
