/** API tokens (operators) and enrollment tokens (agents joining a cluster). */
import { z } from "zod";
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
