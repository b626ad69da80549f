/**
 * Envelope tests shared by the Node (agent) and workerd (Worker) projects: golden frames that
 * both runtimes must produce byte for byte and accept, and a table of refusals with reasons.
 */
import { describe, expect, it } from "vitest";
import { toBase64url } from "../../src/core/base64url.js";
import {
  CLOCK_SKEW_MS,
  type Cursor,
  EMPTY_CURSOR,
  type Envelope,
  importPublicKey,
  KeyId,
  type KeyPair,
  keyPairFromSeed,
  open,
  type Rejection,
  seal,
} from "../../src/core/envelope.js";
import golden from "./envelope-golden.json";

export const NOW = Date.UTC(2026, 10, 22, 6, 0, 0);

export const ping: Envelope = {
  v: 1,
  kid: "coord-1",
  cluster: "classic-lvs",
  agent: "lb1",
  id: "m-1",
  seq: 7,
  epoch: 0,
  issuedAt: NOW,
  notAfter: NOW + 30_000,
  command: { type: "ping", nonce: "n-1" },
};

export const ack: Envelope = {
  ...ping,
  kid: "agent:lb1",
  id: "a-1",
  seq: 3,
  command: { type: "ack", of: "m-1", ok: true, error: null, result: { pong: "n-1" } },
};

export const claim = (epoch: number, seq: number): Envelope => ({
  ...ping,
  id: `c-${seq}`,
  seq,
  epoch,
  command: {
    type: "vip.claim",
    group: "VI_1",
    vips: [{ cidr: "192.168.88.15/24", interface: "eth0" }],
    garp: { count: 5, interval: 0.2, refresh: 0 },
    leaseMs: 3000,
    request: "lb1-7",
    leaseEpoch: epoch,
  },
});

async function keys(): Promise<{
  coordinator: KeyPair;
  agent: KeyPair;
  other: KeyPair;
  lookup: (kid: string) => CryptoKey | undefined;
}> {
  const coordinator = await keyPairFromSeed(new Uint8Array(32).fill(7));
  const agent = await keyPairFromSeed(new Uint8Array(32).fill(9));
  const other = await keyPairFromSeed(new Uint8Array(32).fill(11));
  const pinned = new Map<string, CryptoKey>([
    ["coord-1", await importPublicKey(coordinator.publicKey)],
    ["coord-2", await importPublicKey(other.publicKey)],
    ["agent:lb1", await importPublicKey(agent.publicKey)],
  ]);
  return { coordinator, agent, other, lookup: (kid) => pinned.get(kid) };
}

const expectLb1 = { cluster: "classic-lvs", agent: "lb1" };

/** A frame with a valid signature over any payload, as seal() would never make. */
async function signRaw(privateKey: CryptoKey, text: string | Uint8Array): Promise<string> {
  const payload = toBase64url(typeof text === "string" ? new TextEncoder().encode(text) : text);
  const signed = new TextEncoder().encode(`v1.coord-1.${payload}`);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, signed));
  return `v1.coord-1.${payload}.${toBase64url(signature)}`;
}

export function defineEnvelopeTests(runtime: string): void {
  describe(`envelope in ${runtime}`, () => {
    it("accepts a message at a receiver whose clock runs ahead by less than the allowed skew", async () => {
      const k = await keys();
      const late = NOW + 30_000 + CLOCK_SKEW_MS;
      expect((await open(golden.ping, k.lookup, expectLb1, EMPTY_CURSOR, late)).ok).toBe(true);
    });

    it("produces the golden frames byte for byte and accepts them", async () => {
      const k = await keys();
      expect(k.coordinator.publicKey).toBe(golden.coordinatorPublicKey);
      expect(await seal(ping, k.coordinator.privateKey)).toBe(golden.ping);
      expect(await seal(ack, k.agent.privateKey)).toBe(golden.ack);
      const opened = await open(golden.ping, k.lookup, expectLb1, EMPTY_CURSOR, NOW);
      expect(opened).toEqual({ ok: true, envelope: ping, cursor: { seq: 7, epochs: {} } });
      expect((await open(golden.ack, k.lookup, expectLb1, EMPTY_CURSOR, NOW)).ok).toBe(true);
    });

    const tamper = (frame: string, part: number, edit: (s: string) => string) =>
      frame
        .split(".")
        .map((p, i) => (i === part ? edit(p) : p))
        .join(".");
    const flip = (s: string) =>
      s[10] === "A" ? `${s.slice(0, 10)}B${s.slice(11)}` : `${s.slice(0, 10)}A${s.slice(11)}`;

    type Keys = Awaited<ReturnType<typeof keys>>;
    type Case = { frame: string; cursor?: Cursor; now?: number; lookup?: Keys["lookup"] };
    it.each<[string, (k: Keys) => Promise<Case>, Rejection, string | RegExp]>([
      [
        "a changed payload",
        async () => ({ frame: tamper(golden.ping, 2, flip) }),
        "BAD_SIGNATURE",
        "the signature does not match the message",
      ],
      [
        "a changed signature",
        async () => ({ frame: tamper(golden.ping, 3, flip) }),
        "BAD_SIGNATURE",
        "the signature does not match the message",
      ],
      [
        "a signature that is not base64url",
        async () => ({ frame: tamper(golden.ping, 3, () => "not+base64/url") }),
        "BAD_SIGNATURE",
        "the signature does not match the message",
      ],
      [
        "a key pinned under the id that cannot verify Ed25519",
        async () => {
          const hmac = await crypto.subtle.importKey(
            "raw",
            new Uint8Array(32),
            { name: "HMAC", hash: "SHA-256" },
            false,
            ["verify"],
          );
          return { frame: golden.ping, lookup: () => hmac };
        },
        "BAD_SIGNATURE",
        "the signature does not match the message",
      ],
      [
        "a frame moved to another pinned key",
        async () => ({ frame: tamper(golden.ping, 1, () => "coord-2") }),
        "BAD_SIGNATURE",
        "the signature does not match the message",
      ],
      [
        "an unknown key id",
        async (k) => ({ frame: await seal({ ...ping, kid: "coord-9" }, k.coordinator.privateKey) }),
        "UNKNOWN_KEY",
        "no pinned key coord-9",
      ],
      [
        "an unknown key id of any length, named by its first 64 characters",
        async () => ({ frame: tamper(golden.ping, 1, () => "k".repeat(100)) }),
        "UNKNOWN_KEY",
        `no pinned key ${"k".repeat(64)}`,
      ],
      [
        "the agent's key signing as the coordinator",
        async (k) => ({ frame: await seal(ping, k.agent.privateKey) }),
        "BAD_SIGNATURE",
        "the signature does not match the message",
      ],
      [
        "a message for another agent",
        async (k) => ({ frame: await seal({ ...ping, agent: "lb2" }, k.coordinator.privateKey) }),
        "WRONG_AGENT",
        "for agent lb2, not lb1",
      ],
      [
        "a message for another cluster",
        async (k) => ({ frame: await seal({ ...ping, cluster: "other" }, k.coordinator.privateKey) }),
        "WRONG_CLUSTER",
        "for cluster other, not classic-lvs",
      ],
      [
        "a message expired longer ago than the clocks may disagree",
        async () => ({ frame: golden.ping, now: NOW + 30_000 + CLOCK_SKEW_MS + 1 }),
        "EXPIRED",
        `expired ${CLOCK_SKEW_MS + 1} ms ago`,
      ],
      [
        "a message from further in the future than the clocks may disagree",
        async () => ({ frame: golden.ping, now: NOW - CLOCK_SKEW_MS - 1 }),
        "NOT_YET_VALID",
        `issued ${CLOCK_SKEW_MS + 1} ms in the future`,
      ],
      [
        "a replayed message",
        async () => ({ frame: golden.ping, cursor: { seq: 7, epochs: {} } }),
        "REPLAY",
        "seq 7 is not after 7",
      ],
      [
        "an older sequence number",
        async () => ({ frame: golden.ping, cursor: { seq: 100, epochs: {} } }),
        "REPLAY",
        "seq 7 is not after 100",
      ],
      [
        "a lower epoch for the VIP group",
        async (k) => ({
          frame: await seal(claim(3, 8), k.coordinator.privateKey),
          cursor: { seq: 7, epochs: { VI_1: 5 } },
        }),
        "STALE_EPOCH",
        "epoch 3 of VI_1 is older than 5",
      ],
      [
        "not a v1 frame",
        async () => ({ frame: golden.ping.replace(/^v1/, "v2") }),
        "BAD_FORMAT",
        "expected v1.<kid>.<payload>.<signature>",
      ],
      [
        "three parts",
        async () => ({ frame: golden.ping.split(".").slice(0, 3).join(".") }),
        "BAD_FORMAT",
        "expected v1.<kid>.<payload>.<signature>",
      ],
      [
        "signed bytes that are not JSON",
        async (k) => ({ frame: await signRaw(k.coordinator.privateKey, "not json") }),
        "BAD_MESSAGE",
        /^unreadable payload: ./,
      ],
      [
        "signed bytes that are not UTF-8, even inside a string",
        async (k) => {
          const bytes = new TextEncoder().encode(JSON.stringify({ ...ping, id: "m-#" }));
          bytes[bytes.indexOf("#".charCodeAt(0))] = 0xff;
          return { frame: await signRaw(k.coordinator.privateKey, bytes) };
        },
        "BAD_MESSAGE",
        /^unreadable payload: ./,
      ],
      [
        "a signed message behind a byte order mark",
        async (k) => {
          const json = new TextEncoder().encode(JSON.stringify(ping));
          return { frame: await signRaw(k.coordinator.privateKey, Uint8Array.from([0xef, 0xbb, 0xbf, ...json])) };
        },
        "BAD_MESSAGE",
        /^unreadable payload: ./,
      ],
      [
        "a signed key id other than the frame's",
        async (k) => ({ frame: await signRaw(k.coordinator.privateKey, JSON.stringify({ ...ping, kid: "coord-2" })) }),
        "BAD_MESSAGE",
        "the signed key id differs from the frame's",
      ],
      [
        "a signed command outside the closed set",
        async (k) => ({
          frame: await signRaw(
            k.coordinator.privateKey,
            JSON.stringify({ ...ping, seq: -1, command: { type: "shell", line: "reboot" } }),
          ),
        }),
        "BAD_MESSAGE",
        // Every issue, each with its path, joined.
        /^seq: [^;]+; command\.type: [^;]*'ping'/,
      ],
    ])("refuses %s", async (_name, make, reason, detail) => {
      const k = await keys();
      const { frame, cursor = EMPTY_CURSOR, now = NOW, lookup = k.lookup } = await make(k);
      const opened = await open(frame, lookup, expectLb1, cursor, now);
      expect(opened.ok ? null : { reason: opened.reason, detail: opened.detail }).toEqual({
        reason,
        detail: typeof detail === "string" ? detail : expect.stringMatching(detail),
      });
    });

    it("accepts a message issued as far in the future as the clocks may disagree", async () => {
      const k = await keys();
      expect((await open(golden.ping, k.lookup, expectLb1, EMPTY_CURSOR, NOW - CLOCK_SKEW_MS)).ok).toBe(true);
    });

    it("keeps the epochs as they are for a message about no VIP group, and starts one for a new group", async () => {
      const k = await keys();
      const kept = await open(golden.ping, k.lookup, expectLb1, { seq: 1, epochs: { VI_1: 5 } }, NOW);
      expect(kept.ok && kept.cursor).toEqual({ seq: 7, epochs: { VI_1: 5 } });
      const first = await open(
        await seal(claim(3, 8), k.coordinator.privateKey),
        k.lookup,
        expectLb1,
        EMPTY_CURSOR,
        NOW,
      );
      expect(first.ok && first.cursor).toEqual({ seq: 8, epochs: { VI_1: 3 } });
    });

    it("takes key ids of letters, digits, '_', ':' and '-' only, 1 to 64 of them", () => {
      for (const good of ["coord-1", "agent:lb1", "a_b", "k".repeat(64)])
        expect(KeyId.safeParse(good).success).toBe(true);
      for (const bad of ["", "k".repeat(65), "a b", "x!", "!x", "a.b"]) {
        expect(KeyId.safeParse(bad).error?.issues[0]?.message, bad).toBe(
          "expected a key id of letters, digits, '_', ':' or '-'",
        );
      }
    });

    it("refuses to seal what the envelope's schema refuses, naming the field", async () => {
      const { privateKey } = await keyPairFromSeed(new Uint8Array(32).fill(7));
      const sealing = seal({ ...ping, seq: -1 }, privateKey);
      await expect(sealing).rejects.toThrow(/seq/);
      await expect(seal({ ...ping, command: { type: "ping", nonce: "n".repeat(65) } }, privateKey)).rejects.toThrow(
        /nonce/,
      );
    });

    it("builds a key only from a 32-byte seed, and pins public keys for verifying only", async () => {
      await expect(keyPairFromSeed(new Uint8Array(31))).rejects.toThrow("an Ed25519 seed is 32 bytes");
      const pair = await keyPairFromSeed(new Uint8Array(32).fill(7));
      const pinned = await importPublicKey(pair.publicKey);
      expect({ extractable: pinned.extractable, usages: pinned.usages }).toEqual({
        extractable: false,
        usages: ["verify"],
      });
    });

    it("accepts an equal or higher epoch and remembers the highest per group", async () => {
      const k = await keys();
      let cursor: Cursor = { seq: 7, epochs: { VI_1: 5 } };
      for (const [epoch, seq] of [
        [5, 8],
        [6, 9],
      ] as const) {
        const opened = await open(
          await seal(claim(epoch, seq), k.coordinator.privateKey),
          k.lookup,
          expectLb1,
          cursor,
          NOW,
        );
        expect(opened.ok).toBe(true);
        if (opened.ok) cursor = opened.cursor;
      }
      expect(cursor).toEqual({ seq: 9, epochs: { VI_1: 6 } });
    });
  });
}
