/** Random tokens and their hashes; WebCrypto only, so the same code runs in workerd and Node. */
import { toBase64, toBase64url } from "../core/base64url.js";
import { toHex } from "../core/bytes.js";

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toHex(digest);
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A bearer token such as `vgl_3q2+...` made URL-safe: prefix plus 32 random bytes. */
export function newToken(prefix: "vgl" | "vge"): string {
  return `${prefix}_${toBase64url(randomBytes(32))}`;
}

/** A Standard Webhooks signing secret: `whsec_` and base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(randomBytes(32))}`;
}

/** What is shown of a token after it is made: enough to tell it apart, too little to use. */
export function tokenPrefix(token: string): string {
  return token.slice(0, 10);
}

/** Compares two equal-length hex digests without an early exit. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
