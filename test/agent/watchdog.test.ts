/**
 * The watchdog keeps the lease's promise after the agent is gone: its pipe closes (as it does
 * when the agent is SIGKILLed), and the VIP is removed when the lease runs out, not before.
 * Runs the real bundle inside a network namespace this test creates and removes (root).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessRunner } from "../../host-agent/src/runner.js";
import { ensureVip, hasVip } from "../../host-agent/src/vip.js";

const root = path.join(import.meta.dirname, "../..");
const bundle = path.join(root, "host-agent/dist/vigil-agent.cjs");
const ns = `vigil-wd-${process.pid}`;
const inNs = new ProcessRunner(5000, ["ip", "netns", "exec", ns]);
const vip = { cidr: "10.77.8.15/24", interface: "wd0" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to create a network namespace; CI runs as root");
  execFileSync("node", [path.join(root, "host-agent/build.mjs")]);
  execFileSync("ip", ["netns", "add", ns]);
  execFileSync("ip", ["netns", "exec", ns, "ip", "link", "add", "wd0", "type", "veth", "peer", "name", "wd0peer"]);
  execFileSync("ip", ["netns", "exec", ns, "ip", "link", "set", "wd0", "up"]);
});
afterAll(() => {
  execFileSync("ip", ["netns", "del", ns]);
});

/** A watchdog in the namespace; `exited` resolves with the time it ended. */
function watchdog(): { child: ChildProcessWithoutNullStreams; exited: Promise<number> } {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, bundle, "watchdog"]);
  return { child, exited: new Promise((resolve) => child.once("exit", () => resolve(Date.now()))) };
}

/**
 * When the VIP left the interface (polled every 20 ms, up to 10 s). The watchdog must remove it
 * at the lease's end, not before, and within the margin and grace a 3 s lease leaves between
 * the holder's deadline and anyone else's promise (300 + 300 ms).
 */
const SLACK_MS = 600;
async function vipGoneAt(): Promise<number> {
  const ceiling = Date.now() + 10_000;
  while (await hasVip(inNs, vip)) {
    if (Date.now() > ceiling) throw new Error("the VIP is still there 10 s on");
    await sleep(20);
  }
  return Date.now();
}

describe("the VIP watchdog", () => {
  it("removes the VIP when the lease runs out after the agent died, not before and not late", async () => {
    await ensureVip(inNs, vip, true);
    const { child, exited } = watchdog();
    const begun = Date.now();
    child.stdin.write(`${JSON.stringify({ vips: [vip], remainingMs: 800 })}\n`);
    child.stdin.end(); // the agent is gone
    const gone = (await vipGoneAt()) - begun;
    expect(gone).toBeGreaterThanOrEqual(800);
    expect(gone).toBeLessThan(800 + SLACK_MS);
    await exited;
  });

  it("outlives an agent killed with SIGKILL, whose pipe the kernel closes", { timeout: 15_000 }, async () => {
    await ensureVip(inNs, vip, true);
    // A stand-in agent: starts the watchdog as WatchdogClient.start does, holds the VIP for 1 s, hangs.
    const agent = spawn("ip", [
      "netns",
      "exec",
      ns,
      process.execPath,
      "-e",
      `const { spawn } = require("node:child_process");
       const w = spawn(process.execPath, [${JSON.stringify(bundle)}, "watchdog"], { stdio: ["pipe", "ignore", "inherit"], detached: true });
       const at = Date.now();
       w.stdin.write(JSON.stringify({ vips: [${JSON.stringify(vip)}], remainingMs: 1000 }) + "\\n");
       console.log("holding " + w.pid + " " + process.pid + " " + at);
       setInterval(() => {}, 1000);`,
    ]);
    // When the stand-in wrote the hold (the same wall clock): the watchdog reads it later, so
    // its 1000 ms cannot end before 1000 ms from then, however loaded the machine.
    const [watchdogPid, agentPid, begun] = await new Promise<[number, number, number]>((resolve) =>
      agent.stdout.on("data", (d) => {
        const m = d.toString().match(/holding (\d+) (\d+) (\d+)/);
        if (m) resolve([Number(m[1]), Number(m[2]), Number(m[3])]);
      }),
    );
    // The stand-in itself, by PID (ip netns exec may sit between it and us).
    process.kill(agentPid, "SIGKILL");
    const gone = (await vipGoneAt()) - begun;
    expect(gone).toBeGreaterThanOrEqual(1000 - 2);
    expect(gone).toBeLessThan(1000 + SLACK_MS);
    // The watchdog left once its work was done.
    for (let i = 0; i < 20 && alive(watchdogPid); i++) await sleep(100);
    expect(alive(watchdogPid)).toBe(false);
  });

  it("follows renewals, and leaves at once when nothing is held", async () => {
    await ensureVip(inNs, vip, true);
    const { child, exited } = watchdog();
    const begun = Date.now();
    child.stdin.write(`${JSON.stringify({ vips: [vip], remainingMs: 500 })}\n`);
    // A renewal 300 ms on, before the first lease's end: the VIP now stays to 1500 ms.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        child.stdin.write(`${JSON.stringify({ vips: [vip], remainingMs: 1200 })}\n`);
        child.stdin.end();
        resolve();
      }, 300),
    );
    const renewedAt = Date.now() - begun;
    const gone = (await vipGoneAt()) - begun;
    expect(gone).toBeGreaterThanOrEqual(renewedAt + 1200);
    expect(gone).toBeLessThan(renewedAt + 1200 + SLACK_MS);
    await exited;

    const idle = watchdog();
    idle.child.stdin.write(`${JSON.stringify({ vips: [], remainingMs: 0 })}\n`);
    idle.child.stdin.end();
    const quick = Date.now();
    expect((await idle.exited) - quick).toBeLessThan(1000);
  });
});
