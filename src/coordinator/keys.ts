/**
 * The coordinator's Ed25519 signing keys, from the secret VIGIL_COORDINATOR_KEY:
 * `kid:seed[,kid:seed...]` (seed: 32 bytes, base64url). The first signs; all are offered for
 * pinning, so a new key can be announced under the old one before it takes over.
 */
import { fromBase64url } from "../core/base64url.js";
import { type KeyPair, keyPairFromSeed } from "../core/envelope.js";

export interface CoordinatorKey extends KeyPair {
  kid: string;
}

const cache = new Map<string, Promise<CoordinatorKey[]>>();

export function coordinatorKeys(secret: string | undefined): Promise<CoordinatorKey[]> {
  if (!secret)
    throw new Error(
      "VIGIL_COORDINATOR_KEY is not set: run `npm start` locally, or `wrangler secret put VIGIL_COORDINATOR_KEY`",
    );
  let keys = cache.get(secret);
  if (!keys) {
    keys = Promise.all(
      secret.split(",").map(async (entry) => {
        const [kid = "", seed = ""] = entry.trim().split(":");
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(kid)) throw new Error("VIGIL_COORDINATOR_KEY: expected kid:seed entries");
        return { kid, ...(await keyPairFromSeed(fromBase64url(seed))) };
      }),
    );
    cache.set(secret, keys);
  }
  return keys;
}
