/**
 * The peer link's frames in-process: a sealed frame opens only for its cluster and node, fresh,
 * newer than the last from its sender, and with the sender's own key; each refusal says why.
 * test/agent/peers.test.ts sends the same frames over real UDP sockets.
 */
import { describe, expect, it } from "vitest";
import { toBase64url } from "../../src/core/base64url.js";
import { CLOCK_SKEW_MS, importPublicKey, keyPairFromSeed } from "../../src/core/envelope.js";
import { openPeer, type PeerFrame, sealPeer } from "../../src/core/peer.js";

const NOW = 1_800_000_000_000;
const lb1 = keyPairFromSeed(new Uint8Array(32).fill(1));
const stranger = keyPairFromSeed(new Uint8Array(32).fill(9));
const frame = (over: Partial<PeerFrame> = {}): PeerFrame => ({
  v: 1,
  cluster: "c1",
  from: "lb1",
  to: "lb2",
  seq: 10,
  sentAt: NOW,
  message: { type: "state", unit: "VI_1", eligible: true, priority: 100, holding: false, epoch: 3 },
  ...over,
});

async function opened(text: string, lastSeq = 9, now = NOW) {
  const pub = await importPublicKey((await lb1).publicKey);
  return openPeer(
    text,
    (node) => (node === "lb1" ? pub : undefined),
    { cluster: "c1", to: "lb2" },
    (node) => (node === "lb1" ? lastSeq : -1),
    now,
  );
}

describe("peer frames", () => {
  it("open for their cluster and node, fresh and newer than the last", async () => {
    const f = frame();
    expect(await opened(await sealPeer(f, (await lb1).privateKey))).toEqual({ ok: true, frame: f });
  });

  it.each<[string, () => Promise<string>, string, number?, number?]>([
    ["not a peer frame", async () => "GET / HTTP/1.0", "not a peer frame (expected p1.<from>.<payload>.<sig>)"],
    ["three parts", async () => "p1.lb1.abc", "not a peer frame (expected p1.<from>.<payload>.<sig>)"],
    [
      "another version",
      async () => (await sealPeer(frame(), (await lb1).privateKey)).replace(/^p1/, "p2"),
      "not a peer frame (expected p1.<from>.<payload>.<sig>)",
    ],
    [
      "a stranger",
      async () => sealPeer(frame({ from: "lb9" }), (await stranger).privateKey),
      "lb9 is not a peer of this node",
    ],
    [
      "a peer's name signed by another key",
      async () => sealPeer(frame(), (await stranger).privateKey),
      "bad signature from lb1",
    ],
    [
      "a signature that is not base64url",
      async () => `${(await sealPeer(frame(), (await lb1).privateKey)).split(".").slice(0, 3).join(".")}.!!!`,
      "bad signature from lb1",
    ],
    [
      "another cluster",
      async () => sealPeer(frame({ cluster: "c2" }), (await lb1).privateKey),
      "frame from lb1 is for cluster c2",
    ],
    ["another node", async () => sealPeer(frame({ to: "lb3" }), (await lb1).privateKey), "frame from lb1 is for lb3"],
    [
      "a replay",
      async () => sealPeer(frame({ seq: 9 }), (await lb1).privateKey),
      "replayed or reordered frame from lb1 (seq 9)",
    ],
    [
      "too old",
      async () => sealPeer(frame({ sentAt: NOW - CLOCK_SKEW_MS - 1 }), (await lb1).privateKey),
      `frame from lb1 sent ${CLOCK_SKEW_MS + 1} ms ago`,
    ],
    [
      "from the future",
      async () => sealPeer(frame({ sentAt: NOW + CLOCK_SKEW_MS + 1 }), (await lb1).privateKey),
      `frame from lb1 sent ${-CLOCK_SKEW_MS - 1} ms ago`,
    ],
  ])("refuse %s", async (_name, make, reason) => {
    expect(await opened(await make())).toEqual({ ok: false, reason });
  });

  it("takes a frame at the edge of the clock allowance, and the next seq", async () => {
    const edge = frame({ sentAt: NOW - CLOCK_SKEW_MS, seq: 10 });
    expect((await opened(await sealPeer(edge, (await lb1).privateKey))).ok).toBe(true);
  });

  it("refuses a payload signed by the sender that is not a frame, or that names another sender", async () => {
    const key = (await lb1).privateKey;
    const sign = async (payload: string) => {
      const signed = `p1.lb1.${payload}`;
      const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signed)));
      return `${signed}.${toBase64url(sig)}`;
    };
    const unreadable = await opened(await sign(toBase64url(new Uint8Array([0xff, 0xfe]))));
    expect(unreadable.ok === false && unreadable.reason).toMatch(/^unreadable payload from lb1: /);
    const malformed = await opened(await sign(toBase64url(new TextEncoder().encode(JSON.stringify({ v: 2 })))));
    expect(malformed.ok === false && malformed.reason).toMatch(/^malformed frame from lb1: /);
    const claims = await opened(
      await sign(toBase64url(new TextEncoder().encode(JSON.stringify(frame({ from: "lb3" }))))),
    );
    expect(claims).toEqual({ ok: false, reason: "frame signed by lb1 claims to be from lb3" });
  });

  it("refuses non-UTF-8 inside a string or a byte order mark, and says which field is malformed", async () => {
    const key = (await lb1).privateKey;
    const sign = async (bytes: Uint8Array) => {
      const signed = `p1.lb1.${toBase64url(bytes)}`;
      const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signed)));
      return `${signed}.${toBase64url(sig)}`;
    };
    const json = new TextEncoder().encode(JSON.stringify(frame({ cluster: "c#" })));
    json[json.indexOf("#".charCodeAt(0))] = 0xff;
    const invalid = await opened(await sign(json));
    expect(invalid.ok === false && invalid.reason).toMatch(/^unreadable payload from lb1: ./);
    // A byte order mark is not what sealPeer writes: refused as the envelope refuses it.
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(JSON.stringify(frame()))]);
    const marked = await opened(await sign(bom));
    expect(marked.ok === false && marked.reason).toMatch(/^unreadable payload from lb1: ./);
    const malformed = await opened(await sign(new TextEncoder().encode(JSON.stringify({ ...frame(), seq: -1 }))));
    expect(malformed).toEqual({ ok: false, reason: "malformed frame from lb1: Too small: expected number to be >=0" });
  });

  it("names an unknown sender by its first 64 characters, and refuses a key that cannot verify Ed25519", async () => {
    const long = `p1.${"n".repeat(100)}.e30.sig`;
    expect(await opened(long)).toEqual({ ok: false, reason: `${"n".repeat(64)} is not a peer of this node` });
    const hmac = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    const text = await sealPeer(frame(), (await lb1).privateKey);
    const out = await openPeer(
      text,
      () => hmac,
      { cluster: "c1", to: "lb2" },
      () => -1,
      NOW,
    );
    expect(out).toEqual({ ok: false, reason: "bad signature from lb1" });
  });
});
