/** API tokens (operators) and enrollment tokens (agents joining a cluster). */
import * as z from "zod";
import { toBase64url } from "./base64url.js";
import { Ident, intRange, Text } from "./primitives.js";
import { TOKEN_ROLES } from "./vocabulary.js";

export const ApiTokenInput = z
  .strictObject({
    name: Ident,
    role: z.enum(TOKEN_ROLES),
    description: Text.default(""),
  })
  .meta({ id: "ApiTokenInput" });
export type ApiTokenInput = z.infer<typeof ApiTokenInput>;

export const ApiToken = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(TOKEN_ROLES),
    description: z.string(),
    /** The first characters of the token, to tell tokens apart; the token itself is shown once. */
    prefix: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: "ApiToken" });
export type ApiToken = z.infer<typeof ApiToken>;

export const EnrollmentTokenInput = z
  .strictObject({
    /** The node this token may enroll; it must exist in the cluster. */
    node: Ident,
    /** Seconds until the token expires: 1 minute to 7 days, default 1 hour. */
    ttl: intRange(60, 604800).default(3600),
  })
  .meta({ id: "EnrollmentTokenInput" });
export type EnrollmentTokenInput = z.infer<typeof EnrollmentTokenInput>;

export const EnrollmentToken = z
  .object({
    id: z.string(),
    cluster: z.string(),
    node: z.string(),
    prefix: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    usedAt: z.string().nullable(),
  })
  .meta({ id: "EnrollmentToken" });
export type EnrollmentToken = z.infer<typeof EnrollmentToken>;

/**
 * Encodings that are not a key anyone holds the secret of: all zeros and the group's identity
 * (01 then zeros) verify forged signatures in lax implementations.
 */
const WEAK_KEYS = new Set([
  toBase64url(new Uint8Array(32)),
  toBase64url(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))),
]);

/** What an agent sends to enroll: the single-use token and the public half of the key it made. */
export const EnrollRequest = z
  .strictObject({
    token: z.string().min(10).max(200),
    node: Ident,
    /** Ed25519 public key: 32 bytes, base64url. */
    publicKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, { error: "expected a 32-byte Ed25519 public key in base64url" })
      .refine((key) => !WEAK_KEYS.has(key), { error: "expected a real Ed25519 public key, not a weak one" }),
  })
  .meta({ id: "EnrollRequest" });
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const Enrollment = z
  .object({
    cluster: z.string(),
    node: z.string(),
    /** The key id the agent signs its acks with. */
    agentKid: z.string(),
    /** Coordinator keys to pin; the first signs today. */
    coordinatorKeys: z.array(z.object({ kid: z.string(), publicKey: z.string() })),
  })
  .meta({ id: "Enrollment" });
export type Enrollment = z.infer<typeof Enrollment>;
