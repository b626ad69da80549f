/**
 * `npm run demo` on a fresh checkout: each tour step prints what Vigil did with the time it
 * took, alerts arrive with verified signatures, the VIP moves (as root, on the real interfaces of
 * the demo's namespace lab; otherwise shown, not applied), and Ctrl-C stops and removes
 * everything the demo started, namespaces included.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, freshCheckout, stopVigil } from "../../bench/local-run.mjs";

let checkout: ReturnType<typeof freshCheckout>;
let demo: ChildProcess | null = null;

beforeAll(() => {
  checkout = freshCheckout();
});

afterAll(async () => {
  if (demo) await stopVigil(demo);
  checkout.remove();
});

/** Resolves once `output()` matches `pattern`; rejects when the demo exits first or after `ms`. */
function waitFor(child: ChildProcess, output: () => string, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms:\n${output()}`)), ms);
    const check = () => {
      if (!pattern.test(output())) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output()}`));
    });
  });
}

describe("npm run demo", () => {
  it("tours voting, an alert and a failover with measured times, then cleans up on Ctrl-C", async () => {
    const port = await freePort();
    const child = spawn("npm", ["run", "demo"], {
      cwd: checkout.dir,
      env: { ...process.env, VIGIL_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    demo = child;
    let out = "";
    child.stdout?.on("data", (c) => {
      out += c;
    });
    child.stderr?.on("data", (c) => {
      out += c;
    });
    await waitFor(child, () => out, /The demo keeps running/, 150_000);

    const ready =
      /Ready (\d+\.\d) s after the demo started: web1, web2 and web3 are up by the votes of wnam, weur, apac; lb1 holds VI_1\./.exec(
        out,
      );
    expect(ready, out).not.toBeNull();
    expect(Number(ready?.[1])).toBeLessThan(60);
    // Each step, then what Vigil did, with the measured time.
    const steps = [
      /\[tour 1\/4\] web3 fails for the probes of apac only\.\n(?: {2}alert .*\n)* {2}apac voted web3 down after \d+\.\d s; the verdict stays up: 2 of 3 regions see it up/,
      /\[tour 2\/4\] web3 fails for everyone\.\n(?: {2}alert .*\n)* {2}web3 is down by the quorum after \d+\.\d s; the target\.down alert reached the receiver after \d+\.\d s, and its mail the relay after \d+\.\d s/,
      /web3 answers again: up after \d+\.\d s, target\.up alert after \d+\.\d s/,
      /\[tour 3\/4\] lb1's agent is stopped as a crash \(SIGKILL\)[^\n]*\n(?: {2}(?:alert|lb\d).*\n)* {2}lb2 holds VI_1 after \d+\.\d s/,
      /\[tour 4\/4\] lb1's agent starts again\.\n(?: {2}(?:alert|lb\d).*\n)* {2}lb1 holds VI_1 again after \d+\.\d s/,
    ];
    for (const step of steps) expect(out).toMatch(step);
    expect(out).toContain("alert received, signature verified: target.down web/web3");
    expect(out).toMatch(/alert mail taken by the relay: \[vigil\] DOWN web\/web3 \(\d of \d observers/);
    if (process.getuid?.() === 0) {
      // As root (CI runs as root): the namespace lab, with the VIP on a real interface, and only on one.
      expect(out).toMatch(
        /Root: lb1 and lb2 run in network namespaces (vgdemo-\w+)-lb1 and \1-lb2 on an isolated bridge/,
      );
      expect(out).toMatch(
        /ip: 192\.0\.2\.15 is on lb2's eth0, and on no other director's, \d+\.\d s after the step began/,
      );
      expect(out).toMatch(/ip: 192\.0\.2\.15 is on lb1's eth0, and on no other director's/);
    } else {
      // Without root (test/browser/demo.test.ts runs this path with --show wherever it runs).
      expect(out).toContain("Not root: VIP actions are shown, not applied");
      expect(out).toContain("lb2: shown, not applied: ip addr add 192.0.2.15/24 dev vigil0");
    }
    expect(out).toMatch(new RegExp(`Dashboard: +http://127\\.0\\.0\\.1:${port}/ui`));
    const dir = /its log: (\S+)\/control-plane\.log/.exec(out)?.[1] ?? "";
    expect(existsSync(dir)).toBe(true);
    const namespaces = /network namespaces (vgdemo-\w+)-lb1/.exec(out)?.[1] ?? null;

    // Ctrl-C reaches the whole foreground group, npm included (which ends at once); the demo's
    // own process then ends everything it started.
    process.kill(-(child.pid as number), "SIGINT");
    const gone = async () => {
      const answers = await fetch(`http://127.0.0.1:${port}/v1/health`).then(
        () => true,
        () => false,
      );
      const labLeft =
        namespaces !== null && execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).includes(namespaces);
      return !existsSync(dir) && !answers && !labLeft;
    };
    await expect.poll(gone, { timeout: 20_000, interval: 250 }).toBe(true);
    expect(out).toContain("Stopping the demo: agents, web servers, receiver, mail relay, control plane.");
    demo = null;
  });
});
