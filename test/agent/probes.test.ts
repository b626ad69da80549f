/**
 * The checks the agent runs itself, against real loopback servers and real processes: TCP
 * connect, HTTP status, script exit status, ICMP echo, a process by name. Then rise/fall and
 * the votes they send.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AllowEntry, Allowlist, ProgramGate } from "../../host-agent/src/allowlist.js";
import { boundedMatch, LocalProbes, linkState, probeOnce, processRunning } from "../../host-agent/src/probes.js";
import { ProcessRunner } from "../../host-agent/src/runner.js";
import { Check } from "../../src/core/check.js";
import type { ProgramRefused } from "../../src/core/command.js";
import type { Vote } from "../../src/core/vote.js";

let server: Server;
let port = 0;
let status = 200;
const runner = new ProcessRunner(5000);

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.statusCode = status;
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const gate = (allow: AllowEntry[] = [], reported: ProgramRefused[] = []) =>
  new ProgramGate(
    new Allowlist(allow),
    async (r) => {
      reported.push(r);
      return "sent";
    },
    () => undefined,
  );

const probe = (check: Record<string, unknown>, p = port) => ({
  target: "node:lb1/c",
  address: "127.0.0.1",
  port: p,
  check: Check.parse({ name: "c", interval: 1, timeout: 0.5, observers: { agents: ["lb1"] }, ...check }),
});

describe("the agent's own checks", () => {
  it.each([
    ["tcp to a listening port", "up", null, () => probe({ type: "tcp" })],
    ["tcp to a closed port", "down", "refused", () => probe({ type: "tcp" }, 1)],
    ["http answering 200", "up", null, () => probe({ type: "http", path: "/" })],
    ["a script exiting 0", "up", null, () => probe({ type: "script", exec: { path: "/bin/true" } })],
    ["a script exiting 1", "down", "exit status 1", () => probe({ type: "script", exec: { path: "/bin/false" } })],
    ["icmp to loopback", "up", null, () => probe({ type: "icmp" })],
    [
      "a process that is not running",
      "down",
      "no process named no-such-proc",
      () => probe({ type: "process", name: "no-such-proc" }),
    ],
  ])("%s is %s", async (_name, state, reason, make) => {
    const result = await probeOnce(make(), runner);
    expect(result.state).toBe(state);
    expect(result.reason).toBe(reason);
  });

  it("sees an interface's link as keepalived's track_interface does (root: a veth pair in its own namespace)", async () => {
    if (process.getuid?.() !== 0) throw new Error("this test needs root: it makes a network namespace");
    const ns = `vigil-if-${process.pid}`;
    const ip = (...args: string[]) => execFileSync("ip", ["-n", ns, ...args]);
    execFileSync("ip", ["netns", "add", ns]);
    try {
      const inNs = new ProcessRunner(5000, ["ip", "netns", "exec", ns]);
      const link = (iface: string) =>
        probeOnce({ ...probe({ type: "interface", interface: iface }), target: `node:lb1/interface.${iface}` }, inNs);
      ip("link", "add", "vip0", "type", "veth", "peer", "name", "vip1");
      expect(await link("vip0")).toMatchObject({ state: "down", reason: "interface vip0 down" });
      // Up, but its peer is down: no carrier, as with a pulled cable.
      ip("link", "set", "vip0", "up");
      expect(await link("vip0")).toMatchObject({ state: "down", reason: "interface vip0 down" });
      ip("link", "set", "vip1", "up");
      await expect.poll(async () => (await link("vip0")).state, { timeout: 3000 }).toBe("up");
      ip("link", "set", "vip0", "down");
      expect(await link("vip0")).toMatchObject({ state: "down", reason: "interface vip0 down" });
      expect(await link("nope0")).toMatchObject({ state: "down", reason: "interface nope0 missing" });
    } finally {
      execFileSync("ip", ["netns", "delete", ns]);
    }
  });

  it("reads the link flags of ip -o link", () => {
    expect(linkState("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP")).toBe("up");
    expect(linkState("3: eth1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN")).toBe("down");
    expect(linkState("4: eth2: <BROADCAST,MULTICAST> mtu 1500 state DOWN")).toBe("down");
    expect(linkState('Device "eth9" does not exist.')).toBe("missing");
  });

  it("judges an HTTP status it was not told to expect as down", async () => {
    status = 503;
    try {
      expect(await probeOnce(probe({ type: "http" }), runner)).toMatchObject({ state: "down", reason: "status 503" });
    } finally {
      status = 200;
    }
  });

  it("sees a process by name while it runs, and not after it ended", async () => {
    // A copy of sleep under a name no other test uses (comm holds 15 characters).
    const name = `vgl${process.pid}`.slice(0, 15);
    const dir = mkdtempSync(path.join(tmpdir(), "vigil-proc-"));
    const binary = path.join(dir, name);
    copyFileSync("/bin/sleep", binary);
    chmodSync(binary, 0o755);
    const child = spawn(binary, ["30"]);
    try {
      await vi.waitFor(async () => expect(await processRunning(name)).toBe(true), { timeout: 10_000, interval: 20 });
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      // Reaped by the time "exit" fires: gone from the process table at the first look.
      expect(await processRunning(name)).toBe(false);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("votes on a change at once, after fall failures in a row", async () => {
    const votes: Vote[][] = [];
    const probes = new LocalProbes(
      runner,
      async (batch) => {
        votes.push(batch);
      },
      gate(),
    );
    probes.set([probe({ type: "tcp", rise: 1, fall: 2, interval: 1, retries: 0 }, 1)]);
    // The first attempt falls somewhere in the first interval, the second an interval (±10%) later.
    await vi.waitFor(() => expect(votes).toHaveLength(1), { timeout: 3000, interval: 20 });
    probes.stop();
    expect(votes[0]?.[0]).toMatchObject({
      target: "node:lb1/c",
      state: "down",
      error: "refused",
      probes: 2,
      failures: 2,
    });
  });

  it("never runs a script check its allowlist does not name: the vote is unknown with the refusal, reported once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigil-refused-"));
    const marker = path.join(dir, "marker");
    try {
      const votes: Vote[][] = [];
      const reported: ProgramRefused[] = [];
      const probes = new LocalProbes(
        runner,
        async (batch) => {
          votes.push(batch);
        },
        gate(["/bin/true", { path: "/usr/bin/touch", args: ["/nowhere/else"] }], reported),
      );
      const shell = probe({ type: "script", exec: { path: "/bin/sh", args: ["-c", `touch ${marker}`] }, interval: 1 });
      const touch = { ...probe({ type: "script", exec: { path: "/usr/bin/touch", args: [marker] }, interval: 1 }) };
      touch.target = "node:lb1/t";
      const allowed = { ...probe({ type: "script", exec: { path: "/bin/true" }, interval: 1, rise: 1 }) };
      allowed.target = "node:lb1/ok";
      probes.set([shell, touch, allowed]);
      // Each check ran at least once: the allowed one has voted up, and the refusals were reported.
      await vi.waitFor(
        () => {
          expect(votes.flat().some((v) => v.target === "node:lb1/ok" && v.state === "up")).toBe(true);
          expect(reported).toHaveLength(2);
        },
        { timeout: 10_000, interval: 20 },
      );
      probes.stop();
      expect(existsSync(marker)).toBe(false);
      expect(votes[0]).toEqual([
        expect.objectContaining({
          target: "node:lb1/c",
          state: "unknown",
          error: "refused: /bin/sh is not in the agent's allowlist",
        }),
        expect.objectContaining({
          target: "node:lb1/t",
          state: "unknown",
          error: `refused: /usr/bin/touch is in the agent's allowlist, but not with the arguments ["${marker}"]`,
        }),
      ]);
      expect(votes.flat().find((v) => v.target === "node:lb1/ok")?.state).toBe("up");
      expect(reported.map((r) => [r.kind, r.subject, r.program.path])).toEqual([
        ["check", "node:lb1/c", "/bin/sh"],
        ["check", "node:lb1/t", "/usr/bin/touch"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bounds a body pattern's time: a catastrophic match on a crafted body fails the check in about 200 ms", () => {
    const begun = performance.now();
    expect(() => boundedMatch("^(a|aa)+$", `${"a".repeat(60)}!`)).toThrow("the body pattern ran over 200 ms");
    expect(performance.now() - begun).toBeLessThan(1000);
    expect(boundedMatch("ok", "all ok")).toBe(true);
    expect(boundedMatch("^down$", "up")).toBe(false);
  });
});
