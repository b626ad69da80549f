/**
 * Standard Webhooks signatures: HMAC-SHA256 over `id.timestamp.body` with each active secret
 * (`whsec_` + base64 key), sent as `v1,<base64>` entries separated by spaces, so receivers
 * keep verifying while a secret is rotated.
 */

import { toBase64 } from "./base64url.js";

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export async function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestampS: number,
  body: string,
): Promise<SignedHeaders> {
  const content = new TextEncoder().encode(`${id}.${timestampS}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const key = await crypto.subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]);
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
      return `v1,${toBase64(mac)}`;
    }),
  );
  return { "webhook-id": id, "webhook-timestamp": String(timestampS), "webhook-signature": signatures.join(" ") };
}

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const raw = atob(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
}
