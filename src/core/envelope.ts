/**
 * Signed messages between the coordinator and agents. A frame is
 * `v1.<kid>.<payload>.<signature>` (base64url): the Ed25519 signature covers the exact bytes
 * `v1.<kid>.<payload>`, and the receiver verifies it before it parses the payload. Then the
 * payload must be for this cluster and agent, unexpired, newer than every message seen
 * (seq), and not from an older lease (epoch) than seen for its VIP group. The same code runs
 * in the Worker and in the agent.
 */
import * as z from "zod";
import { fromBase64url, toBase64url } from "./base64url.js";
import { Command } from "./command.js";
import { Ident } from "./primitives.js";
import { quickParse } from "./quick-check.js";

export const KeyId = z
  .string()
  .regex(/^[A-Za-z0-9_:-]{1,64}$/, { error: "expected a key id of letters, digits, '_', ':' or '-'" });

export const Envelope = z.strictObject({
  v: z.literal(1),
  kid: KeyId,
  cluster: Ident,
  /** The agent the message is for, or, for an ack, the agent it is from. */
  agent: Ident,
  id: z.string().min(1).max(64),
  /** Strictly increasing per sender. */
  seq: z.number().int().nonnegative(),
  /** The lease epoch of the command's VIP group; 0 when it concerns none. */
  epoch: z.number().int().nonnegative(),
  issuedAt: z.number().int().nonnegative(),
  notAfter: z.number().int().nonnegative(),
  command: Command,
});
export type Envelope = z.infer<typeof Envelope>;

export const REJECTIONS = [
  "BAD_FORMAT",
  "UNKNOWN_KEY",
  "BAD_SIGNATURE",
  "BAD_MESSAGE",
  "WRONG_CLUSTER",
  "WRONG_AGENT",
  "EXPIRED",
  "NOT_YET_VALID",
  "REPLAY",
  "STALE_EPOCH",
] as const;
export type Rejection = (typeof REJECTIONS)[number];

/** What a receiver has accepted from one sender; persisted atomically after each accept. */
export interface Cursor {
  seq: number;
  epochs: Record<string, number>;
}

export const EMPTY_CURSOR: Cursor = { seq: -1, epochs: {} };

export type Opened =
  | { ok: true; envelope: Envelope; cursor: Cursor }
  | { ok: false; reason: Rejection; detail: string };

/** Clocks may disagree this much, about issuedAt and notAfter alike. */
export const CLOCK_SKEW_MS = 30_000;

const encoder = new TextEncoder();
/** The envelope's fields in the schema's order, the order seal writes them in. */
const ENVELOPE_FIELDS = Object.keys(Envelope.shape) as (keyof Envelope)[];
/** Strict UTF-8 that keeps a byte order mark; one for every frame (decode without streaming keeps no state). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export async function seal(envelope: Envelope, privateKey: CryptoKey): Promise<string> {
  const checked = quickParse(Envelope, envelope);
  if (!checked.success) throw checked.error;
  // In the schema's order whatever the caller's: a receiver finds seq in the first bytes (frame-order.ts).
  const ordered = Object.fromEntries(ENVELOPE_FIELDS.map((k) => [k, checked.data[k]]));
  const payload = toBase64url(encoder.encode(JSON.stringify(ordered)));
  const signed = `v1.${envelope.kid}.${payload}`;
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, encoder.encode(signed)));
  return `${signed}.${toBase64url(signature)}`;
}

/** What a sender knows of a message; `envelope()` fills in the rest. */
export interface Outgoing {
  kid: string;
  cluster: string;
  agent: string;
  id: string;
  seq: number;
  epoch: number;
  command: Command;
  now: number;
  ttlMs: number;
}

/** The one way both ends build an envelope: valid from `now` for `ttlMs`. */
export function envelope(out: Outgoing): Envelope {
  const { now, ttlMs, ...rest } = out;
  return { v: 1, ...rest, issuedAt: now, notAfter: now + ttlMs };
}

export async function open(
  frame: string,
  keys: (kid: string) => CryptoKey | undefined,
  expect: { cluster: string; agent: string },
  cursor: Cursor,
  now: number,
): Promise<Opened> {
  const refuse = (reason: Rejection, detail: string): Opened => ({ ok: false, reason, detail });
  const parts = frame.split(".");
  if (parts.length !== 4 || parts[0] !== "v1") return refuse("BAD_FORMAT", "expected v1.<kid>.<payload>.<signature>");
  const [, kid, payload, signature] = parts as [string, string, string, string];
  const key = keys(kid);
  if (!key) return refuse("UNKNOWN_KEY", `no pinned key ${kid.slice(0, 64)}`);
  if (!(await verifies(key, signature, `v1.${kid}.${payload}`)))
    return refuse("BAD_SIGNATURE", "the signature does not match the message");
  // Only now, with the bytes authenticated, is the payload parsed.
  let parsed: z.ZodSafeParseResult<Envelope>;
  try {
    parsed = quickParse(Envelope, signedJson(payload));
  } catch (err) {
    return refuse("BAD_MESSAGE", `unreadable payload: ${(err as Error).message}`);
  }
  if (!parsed.success)
    return refuse("BAD_MESSAGE", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const e = parsed.data;
  if (e.kid !== kid) return refuse("BAD_MESSAGE", "the signed key id differs from the frame's");
  if (e.cluster !== expect.cluster) return refuse("WRONG_CLUSTER", `for cluster ${e.cluster}, not ${expect.cluster}`);
  if (e.agent !== expect.agent) return refuse("WRONG_AGENT", `for agent ${e.agent}, not ${expect.agent}`);
  // The same allowance as for issuedAt: a receiver whose clock runs ahead must not see every command expired.
  if (e.notAfter + CLOCK_SKEW_MS < now) return refuse("EXPIRED", `expired ${now - e.notAfter} ms ago`);
  if (e.issuedAt > now + CLOCK_SKEW_MS) return refuse("NOT_YET_VALID", `issued ${e.issuedAt - now} ms in the future`);
  if (e.seq <= cursor.seq) return refuse("REPLAY", `seq ${e.seq} is not after ${cursor.seq}`);
  if (!("group" in e.command)) return { ok: true, envelope: e, cursor: { seq: e.seq, epochs: cursor.epochs } };
  const group = e.command.group;
  const seen = cursor.epochs[group] ?? 0;
  if (e.epoch < seen) return refuse("STALE_EPOCH", `epoch ${e.epoch} of ${group} is older than ${seen}`);
  return { ok: true, envelope: e, cursor: { seq: e.seq, epochs: { ...cursor.epochs, [group]: e.epoch } } };
}

/**
 * A signed payload's JSON, read only as the sealing side writes it: base64url of strict UTF-8,
 * with a byte order mark kept (so not JSON). Throws what was wrong.
 */
export function signedJson(payload: string): unknown {
  return JSON.parse(strictUtf8.decode(fromBase64url(payload)));
}

/** Whether `signature` is the key's Ed25519 signature of `text`: not for a signature that is not base64url, nor a key that cannot verify Ed25519. */
export async function verifies(key: CryptoKey, signature: string, text: string): Promise<boolean> {
  try {
    return await crypto.subtle.verify("Ed25519", key, fromBase64url(signature), encoder.encode(text));
  } catch {
    return false;
  }
}

/** PKCS#8 for an Ed25519 private key from its 32-byte seed. */
function pkcs8(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
  return Uint8Array.from([...prefix, ...seed]);
}

export interface KeyPair {
  privateKey: CryptoKey;
  /** The raw 32-byte public key, base64url: what is registered and pinned. */
  publicKey: string;
  /** The 32-byte seed, base64url: what the owner stores (0600) to load the key again. */
  seed: string;
}

export async function keyPairFromSeed(seed: Uint8Array): Promise<KeyPair> {
  if (seed.byteLength !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8(seed), { name: "Ed25519" }, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  // An exported Ed25519 private key always carries its public half, x.
  return { privateKey, publicKey: jwk.x as string, seed: toBase64url(seed) };
}

export function newKeyPair(): Promise<KeyPair> {
  return keyPairFromSeed(crypto.getRandomValues(new Uint8Array(32)));
}

export function importPublicKey(publicKey: string): Promise<CryptoKey> {
  // A pinned key only verifies: nothing needs it back out.
  return crypto.subtle.importKey("raw", fromBase64url(publicKey), { name: "Ed25519" }, false, ["verify"]);
}
