/**
 * base64 and base64url (no padding, for envelope frames and keys); no Buffer, so it runs
 * anywhere. Every agent frame is decoded twice on the coordinator (its seq, then its payload and
 * signature), so both directions work on the bytes through a table, not on strings.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const STANDARD = `${ALPHABET}+/`;
const URL_SAFE = `${ALPHABET}-_`;
/** A base64url character's six bits by its char code; -1 for every other code below 128. */
const SIXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < URL_SAFE.length; i++) SIXTETS[URL_SAFE.charCodeAt(i)] = i;

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  const char = (v: number, shift: number) => alphabet.charAt((v >> shift) & 63);
  let out = "";
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += char(v, 18) + char(v, 12) + char(v, 6) + char(v, 0);
  }
  const rest = bytes.length - whole;
  if (rest === 1) {
    const v = (bytes[whole] as number) << 16;
    out += char(v, 18) + char(v, 12) + (pad ? "==" : "");
  } else if (rest === 2) {
    const v = ((bytes[whole] as number) << 16) | ((bytes[whole + 1] as number) << 8);
    out += char(v, 18) + char(v, 12) + char(v, 6) + (pad ? "=" : "");
  }
  return out;
}

/** Standard base64 with padding (Standard Webhooks secrets and signatures). */
export function toBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD, true);
}

export function toBase64url(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

function sixtet(text: string, at: number): number {
  const code = text.charCodeAt(at);
  const bits = code < 128 ? (SIXTETS[code] as number) : -1;
  if (bits < 0) throw new Error("not base64url");
  return bits;
}

/** Decodes base64url; throws on characters outside the alphabet and on a length no encoding has. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const rest = text.length % 4;
  if (rest === 1) throw new Error("not base64url");
  const out = new Uint8Array((text.length * 3) >> 2);
  const whole = text.length - rest;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const v = (sixtet(text, i) << 18) | (sixtet(text, i + 1) << 12) | (sixtet(text, i + 2) << 6) | sixtet(text, i + 3);
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (rest >= 2) {
    const v =
      (sixtet(text, whole) << 18) | (sixtet(text, whole + 1) << 12) | (rest === 3 ? sixtet(text, whole + 2) << 6 : 0);
    out[o++] = v >> 16;
    if (rest === 3) out[o] = (v >> 8) & 255;
  }
  return out;
}
