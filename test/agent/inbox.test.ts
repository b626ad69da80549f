/**
 * The replay cursor survives a restart, kill -9 included: a frame accepted before the agent
 * died is refused after it comes back.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStore } from "../../host-agent/src/state.js";
import { toBase64url } from "../../src/core/base64url.js";
import { EMPTY_CURSOR, type Envelope, importPublicKey, keyPairFromSeed, open, seal } from "../../src/core/envelope.js";
import { NOW, ping } from "../shared/envelope-cases.js";
import golden from "../shared/envelope-golden.json";

const dir = mkdtempSync(path.join(tmpdir(), "vigil-inbox-"));
const harness = path.join(dir, "harness.cjs");
const state = path.join(dir, "state");

beforeAll(async () => {
  await build({
    entryPoints: [path.join(import.meta.dirname, "inbox-harness.ts")],
    outfile: harness,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    logLevel: "error",
  });
  const agent = await keyPairFromSeed(new Uint8Array(32).fill(9));
  new StateStore(state).saveIdentity({
    cluster: "classic-lvs",
    node: "lb1",
    agentKid: "agent:lb1",
    seed: toBase64url(new Uint8Array(32).fill(9)),
    publicKey: agent.publicKey,
    coordinatorKeys: { "coord-1": golden.coordinatorPublicKey },
    enrolledAt: new Date(NOW).toISOString(),
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A running harness; `send` resolves with the harness's verdict on one frame. */
function startHarness(): {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  send(frame: string): Promise<{ accepted: boolean; reason: string | null }>;
} {
  const child = spawn("node", [harness, state, String(NOW)]);
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffer = "";
  child.stdout.on("data", (chunk) => {
    buffer += chunk.toString();
    while (buffer.includes("\n")) {
      const line = buffer.slice(0, buffer.indexOf("\n"));
      buffer = buffer.slice(line.length + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift() as string) : waiters.push(resolve)));
  return {
    child,
    ready: next().then((line) => expect(line).toBe("ready")),
    async send(frame) {
      child.stdin.write(`${frame}\n`);
      return JSON.parse(await next());
    },
  };
}

const killed = (child: ChildProcessWithoutNullStreams) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

describe("the agent's replay cursor", () => {
  it("refuses after a kill -9 what it accepted before", async () => {
    const coordinator = await keyPairFromSeed(new Uint8Array(32).fill(7));
    const frame = (seq: number): Promise<string> =>
      // A command that acts on the host: its cursor is stored before it is acked.
      seal(
        { ...ping, id: `m-${seq}`, seq, command: { type: "vip.release", group: "VI_1", vips: [] } } as Envelope,
        coordinator.privateKey,
      );
    const [first, second, third] = await Promise.all([frame(7), frame(8), frame(9)]);

    const before = startHarness();
    await before.ready;
    expect(await before.send(first as string)).toEqual({ accepted: true, reason: null });
    expect(await before.send(second as string)).toEqual({ accepted: true, reason: null });
    await killed(before.child);

    const after = startHarness();
    await after.ready;
    expect(await after.send(first as string)).toEqual({ accepted: false, reason: "REPLAY" });
    expect(await after.send(second as string)).toEqual({ accepted: false, reason: "REPLAY" });
    expect(await after.send(third as string)).toEqual({ accepted: true, reason: null });
    await killed(after.child);
    expect(new StateStore(state).cursor().seq).toBe(9);
  });
});

describe("coordinator key rotation", () => {
  it("pins a new key announced under the current one, and forgets the retired key, without re-enrolling", async () => {
    const { Inbox } = await import("../../host-agent/src/inbox.js");
    const rotated = path.join(dir, "rotated");
    const store = new StateStore(rotated);
    store.saveIdentity({ ...(new StateStore(state).identity() as NonNullable<ReturnType<StateStore["identity"]>>) });
    const inbox = await Inbox.load(store);
    const current = await keyPairFromSeed(new Uint8Array(32).fill(7));
    const next = await keyPairFromSeed(new Uint8Array(32).fill(13));
    const rotate = await seal(
      {
        ...ping,
        id: "r-1",
        seq: 20,
        command: { type: "key.rotate", kid: "coord-2", publicKey: next.publicKey, retire: ["coord-1"] },
      },
      current.privateKey,
    );
    expect(await inbox.receive(rotate, NOW)).toMatchObject({ accepted: true });
    expect(Object.keys(store.identity()?.coordinatorKeys ?? {})).toEqual(["coord-2"]);
    const byOld = await seal({ ...ping, id: "m-21", seq: 21 }, current.privateKey);
    expect(await inbox.receive(byOld, NOW)).toMatchObject({ accepted: false, reason: "UNKNOWN_KEY" });
    const byNew = await seal({ ...ping, kid: "coord-2", id: "m-22", seq: 22 }, next.privateKey);
    expect(await inbox.receive(byNew, NOW)).toMatchObject({ accepted: true });
  });
});

describe("acks", () => {
  it("carries what a command did before it failed part-way, with the reason", async () => {
    const { Inbox, PartialFailure } = await import("../../host-agent/src/inbox.js");
    const partial = path.join(dir, "partial");
    const store = new StateStore(partial);
    store.saveIdentity({ ...(new StateStore(state).identity() as NonNullable<ReturnType<StateStore["identity"]>>) });
    const inbox = await Inbox.load(store, {
      run: async () => {
        throw new PartialFailure("ipvs: no module", { haproxy: { sent: ["set weight be/web1 2"] } });
      },
    });
    const coordinator = await keyPairFromSeed(new Uint8Array(32).fill(7));
    const frame = await seal({ ...ping, id: "s-1", seq: 30 }, coordinator.privateKey);
    const { ack } = await inbox.receive(frame, NOW);
    const agentKey = await importPublicKey(store.identity()?.publicKey ?? "");
    const opened = await open(ack, () => agentKey, { cluster: "classic-lvs", agent: "lb1" }, EMPTY_CURSOR, Date.now());
    if (!opened.ok) throw new Error(`ack did not open: ${opened.reason} ${opened.detail}`);
    expect(opened.envelope.command).toEqual({
      type: "ack",
      of: "s-1",
      ok: false,
      error: "ipvs: no module",
      result: { haproxy: { sent: ["set weight be/web1 2"] } },
    });
  });
});
