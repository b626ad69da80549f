/**
 * Messages between the directors of one lease unit, on their LAN: promises and what each says
 * of itself, nothing else. A frame is `p1.<from>.<payload>.<signature>` (base64url), signed
 * with the sending node's Ed25519 key (the one it enrolled with; the coordinator hands every
 * member its peers' keys in the signed unit spec). The receiver checks the signature before it
 * parses, then that the frame is for this cluster and this node, fresh, and newer than the
 * last one from that sender.
 *
 * Safety does not rest on replay protection: a promise counts from when the candidate sent its
 * request, so a replayed grant adds nothing, and a release names an epoch its holder never
 * uses again. The checks keep stale traffic out of the logs and the state.
 */
import * as z from "zod";
import { toBase64url } from "./base64url.js";
import { CLOCK_SKEW_MS, signedJson, verifies } from "./envelope.js";
import { Ident } from "./primitives.js";

const Epoch = z.number().int().nonnegative();

export const PeerMessage = z.discriminatedUnion("type", [
  /** A candidate asks for a promise (or its renewal). `because` is what entitles it. */
  z.strictObject({
    type: z.literal("ask"),
    unit: Ident,
    epoch: Epoch,
    id: z.string().min(1).max(80),
    because: z.enum(["renew", "offer", "status-quo"]),
  }),
  /** A voter's answer to one ask. */
  z.strictObject({
    type: z.literal("answer"),
    unit: Ident,
    id: z.string().min(1).max(80),
    granted: z.boolean(),
    epoch: Epoch,
    ttlMs: z.number().int().nonnegative().max(120_000),
    reason: z.string().max(200).nullable(),
  }),
  /** The holder gave the unit up: the promise for this epoch ends now. */
  z.strictObject({ type: z.literal("release"), unit: Ident, epoch: Epoch }),
  /** What a member says of itself, every third of the TTL and on every change. */
  z.strictObject({
    type: z.literal("state"),
    unit: Ident,
    eligible: z.boolean(),
    priority: z.number().int(),
    holding: z.boolean(),
    epoch: Epoch,
  }),
]);
export type PeerMessage = z.infer<typeof PeerMessage>;

export const PeerFrame = z.strictObject({
  v: z.literal(1),
  cluster: Ident,
  from: Ident,
  to: Ident,
  /** Strictly increasing per sender, across its restarts (it starts from its wall clock). */
  seq: z.number().int().nonnegative(),
  sentAt: z.number().int().nonnegative(),
  message: PeerMessage,
});
export type PeerFrame = z.infer<typeof PeerFrame>;

export type PeerOpened = { ok: true; frame: PeerFrame } | { ok: false; reason: string };

const encoder = new TextEncoder();

export async function sealPeer(frame: PeerFrame, privateKey: CryptoKey): Promise<string> {
  const payload = toBase64url(encoder.encode(JSON.stringify(PeerFrame.parse(frame))));
  const signed = `p1.${frame.from}.${payload}`;
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, encoder.encode(signed)));
  return `${signed}.${toBase64url(signature)}`;
}

/**
 * Verifies one datagram. `keyOf` answers the sender's pinned key (undefined for a node that is
 * not a peer); `lastSeq` the highest seq accepted from it so far.
 */
export async function openPeer(
  text: string,
  keyOf: (node: string) => CryptoKey | undefined,
  expect: { cluster: string; to: string },
  lastSeq: (node: string) => number,
  now: number,
): Promise<PeerOpened> {
  const refuse = (reason: string): PeerOpened => ({ ok: false, reason });
  const parts = text.split(".");
  if (parts.length !== 4 || parts[0] !== "p1") return refuse("not a peer frame (expected p1.<from>.<payload>.<sig>)");
  const [, from = "", payload = "", signature = ""] = parts;
  const key = keyOf(from);
  if (!key) return refuse(`${from.slice(0, 64)} is not a peer of this node`);
  if (!(await verifies(key, signature, `p1.${from}.${payload}`))) return refuse(`bad signature from ${from}`);
  let parsed: z.ZodSafeParseResult<PeerFrame>;
  try {
    parsed = PeerFrame.safeParse(signedJson(payload));
  } catch (err) {
    return refuse(`unreadable payload from ${from}: ${(err as Error).message}`);
  }
  if (!parsed.success) return refuse(`malformed frame from ${from}: ${parsed.error.issues[0]?.message}`);
  const f = parsed.data;
  if (f.from !== from) return refuse(`frame signed by ${from} claims to be from ${f.from}`);
  if (f.cluster !== expect.cluster) return refuse(`frame from ${from} is for cluster ${f.cluster}`);
  if (f.to !== expect.to) return refuse(`frame from ${from} is for ${f.to}`);
  if (Math.abs(f.sentAt - now) > CLOCK_SKEW_MS) return refuse(`frame from ${from} sent ${now - f.sentAt} ms ago`);
  if (f.seq <= lastSeq(from)) return refuse(`replayed or reordered frame from ${from} (seq ${f.seq})`);
  return { ok: true, frame: f };
}
