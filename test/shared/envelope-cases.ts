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
  type KeyPair,
  keyPairFromSeed,
  open,
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

const claim = (epoch: number, seq: number): Envelope => ({
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

/** A frame with a valid signature over any payload text, as seal() would never make. */
async function signRaw(privateKey: CryptoKey, text: string): Promise<string> {
  const payload = toBase64url(new TextEncoder().encode(text));
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

    it.each<
      [
        string,
        (k: Awaited<ReturnType<typeof keys>>) => Promise<{ frame: string; cursor?: Cursor; now?: number }>,
        string,
      ]
    >([
      ["a changed payload", async () => ({ frame: tamper(golden.ping, 2, flip) }), "BAD_SIGNATURE"],
      ["a changed signature", async () => ({ frame: tamper(golden.ping, 3, flip) }), "BAD_SIGNATURE"],
      [
        "a frame moved to another pinned key",
        async () => ({ frame: tamper(golden.ping, 1, () => "coord-2") }),
        "BAD_SIGNATURE",
      ],
      [
        "an unknown key id",
        async (k) => ({ frame: await seal({ ...ping, kid: "coord-9" }, k.coordinator.privateKey) }),
        "UNKNOWN_KEY",
      ],
      [
        "the agent's key signing as the coordinator",
        async (k) => ({ frame: await seal(ping, k.agent.privateKey) }),
        "BAD_SIGNATURE",
      ],
      [
        "a message for another agent",
        async (k) => ({ frame: await seal({ ...ping, agent: "lb2" }, k.coordinator.privateKey) }),
        "WRONG_AGENT",
      ],
      [
        "a message for another cluster",
        async (k) => ({ frame: await seal({ ...ping, cluster: "other" }, k.coordinator.privateKey) }),
        "WRONG_CLUSTER",
      ],
      [
        "a message expired longer ago than the clocks may disagree",
        async () => ({ frame: golden.ping, now: NOW + 30_000 + CLOCK_SKEW_MS + 1 }),
        "EXPIRED",
      ],
      ["a message from the future", async () => ({ frame: golden.ping, now: NOW - 60_000 }), "NOT_YET_VALID"],
      ["a replayed message", async () => ({ frame: golden.ping, cursor: { seq: 7, epochs: {} } }), "REPLAY"],
      ["an older sequence number", async () => ({ frame: golden.ping, cursor: { seq: 100, epochs: {} } }), "REPLAY"],
      [
        "a lower epoch for the VIP group",
        async (k) => ({
          frame: await seal(claim(3, 8), k.coordinator.privateKey),
          cursor: { seq: 7, epochs: { VI_1: 5 } },
        }),
        "STALE_EPOCH",
      ],
      ["not a v1 frame", async () => ({ frame: golden.ping.replace(/^v1/, "v2") }), "BAD_FORMAT"],
      ["three parts", async () => ({ frame: golden.ping.split(".").slice(0, 3).join(".") }), "BAD_FORMAT"],
      [
        "signed bytes that are not JSON",
        async (k) => ({ frame: await signRaw(k.coordinator.privateKey, "not json") }),
        "BAD_MESSAGE",
      ],
      [
        "a signed command outside the closed set",
        async (k) => ({
          frame: await signRaw(
            k.coordinator.privateKey,
            JSON.stringify({ ...ping, command: { type: "shell", line: "reboot" } }),
          ),
        }),
        "BAD_MESSAGE",
      ],
    ])("refuses %s", async (_name, make, reason) => {
      const k = await keys();
      const { frame, cursor = EMPTY_CURSOR, now = NOW } = await make(k);
      const opened = await open(frame, k.lookup, expectLb1, cursor, now);
      expect(opened.ok).toBe(false);
      expect(!opened.ok && opened.reason).toBe(reason);
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
