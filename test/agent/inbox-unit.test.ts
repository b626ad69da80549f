/**
 * The agent's inbox in this process, on a real state directory: it runs a verified command and
 * acks it, signed, with the result; refuses replays, stale epochs and foreign signatures with
 * the reason in a signed ack; keeps the cursor across a reload; pins a rotated key and forgets
 * retired ones; and signs its own frames in seq order under each unit's highest epoch.
 * inbox.test.ts runs the same code as its own process and kills it with SIGKILL between frames.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Executors, Inbox, PartialFailure } from "../../host-agent/src/inbox.js";
import { StateStore } from "../../host-agent/src/state.js";
import type { Command } from "../../src/core/command.js";
import {
  EMPTY_CURSOR,
  envelope,
  importPublicKey,
  type KeyPair,
  keyPairFromSeed,
  open,
  seal,
} from "../../src/core/envelope.js";

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
let dir: string;
let state: StateStore;
let coordinator: KeyPair;
let agent: KeyPair;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "vigil-inbox-unit-"));
  state = new StateStore(dir);
  coordinator = await keyPairFromSeed(new Uint8Array(32).fill(1));
  agent = await keyPairFromSeed(new Uint8Array(32).fill(2));
  state.saveIdentity({
    cluster: "c1",
    node: "lb1",
    agentKid: "agent:lb1",
    seed: agent.seed,
    publicKey: agent.publicKey,
    coordinatorKeys: { "coord-1": coordinator.publicKey },
    enrolledAt: new Date(NOW).toISOString(),
  });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const frame = (seq: number, command: Command, epoch = 0, key = coordinator, kid = "coord-1") =>
  seal(
    envelope({ kid, cluster: "c1", agent: "lb1", id: `m-${seq}`, seq, epoch, command, now: NOW, ttlMs: 30_000 }),
    key.privateKey,
  );
const ping = (nonce: string): Command => ({ type: "ping", nonce });
const release = (group: string): Command => ({ type: "vip.release", group, vips: [] });

/** The ack as the coordinator reads it: signed by this agent's key. */
async function readAck(ack: string) {
  const key = await importPublicKey(agent.publicKey);
  const opened = await open(
    ack,
    (kid) => (kid === "agent:lb1" ? key : undefined),
    { cluster: "c1", agent: "lb1" },
    EMPTY_CURSOR,
    Date.now(),
  );
  if (!opened.ok) throw new Error(`the ack does not verify: ${opened.reason} ${opened.detail}`);
  return opened.envelope.command as Extract<Command, { type: "ack" }>;
}

const running = (run: Executors["run"]): Executors => ({ run });

describe("the inbox", () => {
  it("runs a verified command and acks it, signed, with its result", async () => {
    const ran: [string, number][] = [];
    const inbox = await Inbox.load(
      state,
      running(async (c, epoch) => {
        ran.push([c.type, epoch]);
        return { done: c.type };
      }),
    );
    const out = await inbox.receive(await frame(5, release("VI_1"), 3), NOW);
    expect(out).toMatchObject({ accepted: true, reason: null });
    expect(ran).toEqual([["vip.release", 3]]);
    expect(await readAck(out.ack)).toEqual({
      type: "ack",
      of: "m-5",
      ok: true,
      error: null,
      result: { done: "vip.release" },
    });
    expect(state.cursor()).toEqual({ seq: 5, epochs: { VI_1: 3 } });
  });

  it("refuses a replay, an older epoch and a foreign key, and acks each refusal with its reason", async () => {
    const inbox = await Inbox.load(state);
    const first = await frame(5, release("VI_1"), 3);
    // Accepted (verified, cursor stored) though pingOnly cannot run it: its ack says so.
    expect((await inbox.receive(first, NOW)).accepted).toBe(true);
    const replay = await inbox.receive(first, NOW);
    expect(replay).toMatchObject({ accepted: false, reason: "REPLAY" });
    expect(await readAck(replay.ack)).toMatchObject({ of: "m-5", ok: false, error: "REPLAY: seq 5 is not after 5" });
    const stale = await inbox.receive(await frame(6, release("VI_1"), 2), NOW);
    expect(stale.reason).toBe("STALE_EPOCH");
    const stranger = await keyPairFromSeed(new Uint8Array(32).fill(7));
    const forged = await inbox.receive(await frame(7, ping("x"), 0, stranger), NOW);
    expect(forged.reason).toBe("BAD_SIGNATURE");
    const garbage = await inbox.receive("v1.coord-1.not-a-frame", NOW);
    expect(garbage.reason).toBe("BAD_FORMAT");
    expect(await readAck(garbage.ack)).toMatchObject({ of: "unknown", ok: false });
    // Nothing refused moved the cursor.
    expect(state.cursor()).toEqual({ seq: 5, epochs: { VI_1: 3 } });
  });

  it("acks a command whose executor failed at length, its error cut to the ack's 500 characters", async () => {
    const long = `ipvsadm -R exited 2: ${"line that went wrong\n".repeat(60)}`;
    const inbox = await Inbox.load(
      state,
      running(async () => {
        throw new Error(long);
      }),
    );
    const out = await inbox.receive(await frame(5, release("VI_1"), 3), NOW);
    const ack = await readAck(out.ack);
    expect(ack).toMatchObject({ of: "m-5", ok: false });
    expect(ack.error).toHaveLength(500);
    expect(ack.error?.startsWith(long.slice(0, 400))).toBe(true);
    expect(ack.error?.endsWith("(cut short)")).toBe(true);
    // One of exactly 500 characters fits, and is sent whole.
    const fits = "e".repeat(500);
    const whole = await Inbox.load(
      state,
      running(async () => {
        throw new Error(fits);
      }),
    );
    expect((await readAck((await whole.receive(await frame(6, release("VI_1"), 3), NOW)).ack)).error).toBe(fits);
  });

  it("on its own, answers a ping and refuses any other command by name", async () => {
    const inbox = await Inbox.load(state);
    expect(await readAck((await inbox.receive(await frame(1, ping("n-1")), NOW)).ack)).toMatchObject({
      ok: true,
      result: { pong: "n-1" },
    });
    expect(await readAck((await inbox.receive(await frame(2, release("VI_1")), NOW)).ack)).toMatchObject({
      ok: false,
      error: "vip.release is not supported here",
    });
  });

  it("acks a forged frame under the id it claims, cut to 64 characters, or as unknown", async () => {
    const inbox = await Inbox.load(state);
    const forged = async (claims: unknown) => {
      const [v, kid, , signature] = (await frame(1, ping("x"))).split(".");
      const payload = Buffer.from(JSON.stringify({ id: claims })).toString("base64url");
      const out = await inbox.receive([v, kid, payload, signature].join("."), NOW);
      expect(out.reason).toBe("BAD_SIGNATURE");
      return (await readAck(out.ack)).of;
    };
    expect(await forged("i".repeat(100))).toBe("i".repeat(64));
    expect(await forged(42)).toBe("unknown");
    expect(await forged(["an", "array"])).toBe("unknown");
  });

  it("keeps the cursor across a reload: a frame accepted before is refused after", async () => {
    const f = await frame(9, release("VI_1"));
    expect((await (await Inbox.load(state)).receive(f, NOW)).accepted).toBe(true);
    const again = await Inbox.load(new StateStore(dir));
    expect((await again.receive(f, NOW)).reason).toBe("REPLAY");
    expect((await again.receive(await frame(10, ping("b")), NOW)).accepted).toBe(true);
  });

  it("answers a ping without storing the cursor, refuses its replay while it runs, and stores it with the next command that acts", async () => {
    const inbox = await Inbox.load(state);
    const first = await frame(3, ping("a"));
    expect((await inbox.receive(first, NOW)).accepted).toBe(true);
    // No write for what changes nothing on the host.
    expect(state.cursor()).toEqual(EMPTY_CURSOR);
    expect((await inbox.receive(first, NOW)).reason).toBe("REPLAY");
    // After a restart the ping may be answered again: that changes nothing either.
    expect((await (await Inbox.load(new StateStore(dir))).receive(first, NOW)).accepted).toBe(true);
    // A command that acts stores the cursor past the pings before it.
    expect((await inbox.receive(await frame(4, release("VI_1"), 2), NOW)).accepted).toBe(true);
    expect(state.cursor()).toEqual({ seq: 4, epochs: { VI_1: 2 } });
    const reloaded = await Inbox.load(new StateStore(dir));
    expect((await reloaded.receive(first, NOW)).reason).toBe("REPLAY");
  });

  it("acks a failed command with the error, and a partial failure with what was done", async () => {
    const inbox = await Inbox.load(
      state,
      running(async (c) => {
        if (c.type === "ping") throw new Error("no such thing");
        throw new PartialFailure("one VIP of two", { added: ["10.0.0.5/24"] });
      }),
    );
    const failed = await inbox.receive(await frame(1, ping("a")), NOW);
    expect(failed).toMatchObject({ accepted: true, reason: null });
    expect(await readAck(failed.ack)).toMatchObject({ ok: false, error: "no such thing", result: null });
    const partial = await inbox.receive(await frame(2, release("VI_1")), NOW);
    expect(await readAck(partial.ack)).toMatchObject({
      ok: false,
      error: "one VIP of two",
      result: { added: ["10.0.0.5/24"] },
    });
  });

  it("pins a rotated key, forgets the retired one, and says so on disk", async () => {
    const inbox = await Inbox.load(state);
    const next = await keyPairFromSeed(new Uint8Array(32).fill(3));
    const rotated = await inbox.receive(
      await frame(1, { type: "key.rotate", kid: "coord-2", publicKey: next.publicKey, retire: ["coord-1", "coord-2"] }),
      NOW,
    );
    expect(rotated.accepted).toBe(true);
    expect(await readAck(rotated.ack)).toMatchObject({ ok: true, result: { pinned: ["coord-2"] } });
    expect(state.identity()?.coordinatorKeys).toEqual({ "coord-2": next.publicKey });
    expect(inbox.pinned()).toEqual(["coord-2"]);
    expect((await inbox.receive(await frame(2, ping("new"), 0, next, "coord-2"), NOW)).accepted).toBe(true);
    expect((await inbox.receive(await frame(3, ping("old")), NOW)).reason).toBe("UNKNOWN_KEY");
    // A reload trusts what was saved.
    const reloaded = await Inbox.load(new StateStore(dir));
    expect((await reloaded.receive(await frame(4, ping("new")), NOW)).reason).toBe("UNKNOWN_KEY");
    expect((await reloaded.receive(await frame(5, ping("new"), 0, next, "coord-2"), NOW)).accepted).toBe(true);
  });

  it("signs its own frames in seq order, each under its unit's highest epoch, and delivers them in that order", async () => {
    const inbox = await Inbox.load(state);
    await inbox.receive(await frame(1, release("VI_1"), 4), NOW);
    const delivered: string[] = [];
    const sent = await Promise.all([
      inbox.signed(ping("a"), "VI_1", NOW, (f) => delivered.push(f)),
      inbox.signed(ping("b"), null, NOW, (f) => delivered.push(f)),
      inbox.signed(ping("c"), "VI_9", NOW, (f) => delivered.push(f)),
    ]);
    expect(delivered).toEqual(sent.map((s) => s.frame));
    const key = await importPublicKey(agent.publicKey);
    const read = await Promise.all(
      sent.map((s) => open(s.frame, () => key, { cluster: "c1", agent: "lb1" }, EMPTY_CURSOR, NOW)),
    );
    const envelopes = read.map((r) => (r.ok ? r.envelope : null));
    const seqs = envelopes.map((e) => e?.seq ?? 0);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(3);
    expect(envelopes.map((e) => e?.epoch)).toEqual([4, 0, 0]);
    expect(sent.map((s) => s.id)).toEqual(seqs.map((n) => `lb1-${n}`));
  });

  it("will not start without an identity", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "vigil-inbox-empty-"));
    try {
      await expect(Inbox.load(new StateStore(empty))).rejects.toThrow(
        /^not enrolled: no identity in .*; run vigil-agent enroll first$/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
