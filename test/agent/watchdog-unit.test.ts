/**
 * The watchdog's rules in this process, on a fake host and fake timers: the last word from the
 * agent wins, a renewal moves the deadline, an empty hold cancels it, a line that does not parse
 * changes nothing, and once the pipe closes it keeps the promise and then ends. The same code
 * runs as the real bundle in a namespace with the real `ip` in watchdog.test.ts.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hasVip } from "../../host-agent/src/vip.js";
import { runWatchdog, WatchdogClient } from "../../host-agent/src/watchdog.js";
import { FakeHost } from "./fake-host.js";

const vip = { cidr: "10.0.0.5/24", interface: "eth0" };

function start(host = new FakeHost()) {
  const input = new PassThrough();
  const log: string[] = [];
  let ended = false;
  const done = runWatchdog(input, host, (line) => log.push(line)).then(() => {
    ended = true;
  });
  const say = async (line: unknown) => {
    input.write(`${typeof line === "string" ? line : JSON.stringify(line)}\n`);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { host, input, log, done, say, ended: () => ended };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the watchdog's rules", () => {
  it("removes what is held at the deadline, not a millisecond before, and says so", async () => {
    const w = start();
    await w.host.run(["ip", "addr", "add", "10.0.0.5/24", "dev", "eth0"]);
    await w.say({ vips: [vip], remainingMs: 800 });
    await vi.advanceTimersByTimeAsync(799);
    expect(await hasVip(w.host, vip)).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(await hasVip(w.host, vip)).toBe(false);
    expect(w.log).toEqual(["lease ran out: removed 10.0.0.5/24 from eth0"]);
  });

  it("moves the deadline on each renewal, and an empty hold cancels it", async () => {
    const w = start();
    await w.host.run(["ip", "addr", "add", "10.0.0.5/24", "dev", "eth0"]);
    await w.say({ vips: [vip], remainingMs: 500 });
    await vi.advanceTimersByTimeAsync(300);
    await w.say({ vips: [vip], remainingMs: 1200 });
    await vi.advanceTimersByTimeAsync(1199);
    expect(await hasVip(w.host, vip)).toBe(true);
    await w.say({ vips: [], remainingMs: 0 });
    await vi.advanceTimersByTimeAsync(10_000);
    // The agent gave it up itself: the watchdog touched nothing.
    expect(await hasVip(w.host, vip)).toBe(true);
    expect(w.log).toEqual([]);
  });

  it("ignores a line that is not a hold, and keeps the deadline it had", async () => {
    const w = start();
    await w.host.run(["ip", "addr", "add", "10.0.0.5/24", "dev", "eth0"]);
    await w.say({ vips: [vip], remainingMs: 500 });
    await w.say({ vips: [vip], remainingMs: -1 });
    await w.say({ vips: "eth0", remainingMs: 5000 });
    await vi.advanceTimersByTimeAsync(500);
    expect(await hasVip(w.host, vip)).toBe(false);
  });

  it("after the pipe closes, ends only once the lease ran out and the VIP is gone", async () => {
    const w = start();
    await w.host.run(["ip", "addr", "add", "10.0.0.5/24", "dev", "eth0"]);
    await w.say({ vips: [vip], remainingMs: 400 });
    w.input.end();
    await vi.advanceTimersByTimeAsync(399);
    expect(w.ended()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await w.done;
    expect(await hasVip(w.host, vip)).toBe(false);
  });

  it("ends at once when the pipe closes with nothing held", async () => {
    const w = start();
    await w.say({ vips: [], remainingMs: 0 });
    w.input.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.ended()).toBe(true);
  });

  it("logs a VIP it could not remove and still removes the others", async () => {
    const w = start();
    await w.host.run(["ip", "addr", "add", "10.0.0.5/24", "dev", "eth0"]);
    const gone = { cidr: "10.0.0.6/24", interface: "eth9" };
    await w.say({ vips: [gone, vip], remainingMs: 100 });
    w.input.end();
    await vi.advanceTimersByTimeAsync(100);
    await w.done;
    expect(w.log[0]).toMatch(/^removing 10\.0\.0\.6\/24: .*eth9/);
    expect(w.log[1]).toBe("lease ran out: removed 10.0.0.5/24 from eth0");
    expect(await hasVip(w.host, vip)).toBe(false);
  });
});

describe("the agent's side of the pipe", () => {
  it("starts the bundle as `watchdog` and writes one line per hold", async () => {
    vi.useRealTimers();
    const dir = mkdtempSync(path.join(tmpdir(), "vigil-watchdog-"));
    try {
      const out = path.join(dir, "lines");
      const bundle = path.join(dir, "bundle.cjs");
      // A stand-in bundle: records its argument and every line it is sent, and leaves after the release.
      writeFileSync(
        bundle,
        `const fs = require("node:fs");
         fs.appendFileSync(${JSON.stringify(out)}, process.argv[2] + "\\n");
         process.stdin.on("data", (d) => {
           fs.appendFileSync(${JSON.stringify(out)}, d);
           if (fs.readFileSync(${JSON.stringify(out)}, "utf8").includes('"remainingMs":0')) process.exit(0);
         });`,
      );
      const client = WatchdogClient.start(bundle);
      client.hold([vip], 1500);
      client.release();
      const want = `watchdog\n${JSON.stringify({ vips: [vip], remainingMs: 1500 })}\n${JSON.stringify({ vips: [], remainingMs: 0 })}\n`;
      await vi.waitFor(() => expect(readFileSync(out, "utf8")).toBe(want), { timeout: 10_000, interval: 20 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ends a watchdog an earlier run left, once this run holds the VIPs, and no process that is not one", async () => {
    vi.useRealTimers();
    const dir = mkdtempSync(path.join(tmpdir(), "vigil-watchdog-"));
    const started: number[] = [];
    try {
      const bundle = path.join(dir, "bundle.cjs");
      // A stand-in watchdog: says when it is told to end, and leaves on a release.
      writeFileSync(
        bundle,
        `const fs = require("node:fs");
         const log = (line) => fs.appendFileSync(${JSON.stringify(path.join(dir, "log"))}, process.pid + " " + line + "\\n");
         process.on("SIGTERM", () => { log("TERM"); process.exit(0); });
         process.stdin.on("data", (d) => { if (String(d).includes('"remainingMs":0')) process.exit(0); });
         log("up");`,
      );
      const log = () => (existsSync(path.join(dir, "log")) ? readFileSync(path.join(dir, "log"), "utf8") : "");
      // Decoys: a watchdog of another bundle, and this bundle run as something else. Neither may be ended.
      const other = path.join(dir, "other.cjs");
      copyFileSync(bundle, other);
      const decoys = [spawn(process.execPath, [other, "watchdog"]), spawn(process.execPath, [bundle, "realserver"])];
      for (const d of decoys) if (d.pid !== undefined) started.push(d.pid);
      let kept: number[] = [...decoys.map((d) => d.pid as number), process.pid];
      const pids = { load: () => kept, save: (p: number[]) => (kept = p) };
      WatchdogClient.start(bundle, pids);
      const earlier = kept[3] as number;
      started.push(earlier);
      await vi.waitFor(() => expect(log()).toContain(`${earlier} up`), { timeout: 10_000, interval: 20 });
      // The agent restarted: a new run, a new watchdog; the earlier one is still there.
      const client = WatchdogClient.start(bundle, pids);
      const own = kept[4] as number;
      started.push(own);
      expect(kept.slice(2)).toEqual([process.pid, earlier, own]);
      await vi.waitFor(() => expect(log()).toContain(`${own} up`), { timeout: 10_000, interval: 20 });
      // Its own process group: a signal to the agent's group does not reach it.
      expect(readFileSync(`/proc/${own}/stat`, "utf8").split(") ")[1]?.split(" ")[2]).toBe(String(own));
      // Holding nothing ends nothing.
      client.hold([], 500);
      expect(kept).toHaveLength(5);
      client.hold([vip], 3000);
      await vi.waitFor(() => expect(log()).toContain(`${earlier} TERM`), { timeout: 10_000, interval: 20 });
      // Nothing that is not one of this bundle's watchdogs is ended, and only this run's watchdog is kept.
      expect(kept).toEqual([own]);
      expect(log()).not.toContain(`${own} TERM`);
      expect(decoys.map((d) => [d.exitCode, d.signalCode])).toEqual([
        [null, null],
        [null, null],
      ]);
      client.release();
    } finally {
      for (const pid of started) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
