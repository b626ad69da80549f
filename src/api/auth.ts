/**
 * Bearer-token authentication. Tokens are stored as SHA-256 hashes; the bootstrap admin
 * token comes from the VIGIL_ADMIN_TOKEN secret and is compared by hash as well.
 */
import type { Context } from "hono";
import type { TokenRole } from "../core/vocabulary.js";
import { apiTokenBy, touchApiToken } from "../storage/tokens.js";
import { sessionTokenId } from "../storage/ui-sessions.js";
import type { AppEnv, Principal } from "./context.js";
import { ApiError } from "./errors.js";
import { sameDigest, sha256Hex } from "./secrets.js";

export type Role = TokenRole | "public";

/** Don't write last_used_at more often than this per token. */
const TOUCH_EVERY_MS = 60_000;

export async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match?.[1]) {
    c.header("WWW-Authenticate", 'Bearer realm="vigil"');
    throw new ApiError("unauthorized", "send an API token as Authorization: Bearer <token>");
  }
  const hash = await sha256Hex(match[1]);
  const bootstrap = c.env.VIGIL_ADMIN_TOKEN;
  if (bootstrap && sameDigest(hash, await sha256Hex(bootstrap))) return BOOTSTRAP;
  const db = c.get("db");
  if (match[1].startsWith(SESSION_PREFIX)) return sessionPrincipal(c, hash);
  const row = await apiTokenBy(db, { hash });
  if (!row) {
    c.header("WWW-Authenticate", 'Bearer realm="vigil", error="invalid_token"');
    throw new ApiError("unauthorized", "the API token is not valid");
  }
  const now = Date.now();
  if (!row.lastUsedAt || now - Date.parse(row.lastUsedAt) > TOUCH_EVERY_MS) {
    c.executionCtx.waitUntil(touchApiToken(db, row.id, now));
  }
  return { id: row.id, name: row.name, role: row.role };
}

const BOOTSTRAP: Principal = { id: "bootstrap", name: "bootstrap", role: "admin" };

/** Dashboard session secrets start with this; the dashboard calls the API with them. */
export const SESSION_PREFIX = "vgs_";

/** A dashboard session acts as the API token it was opened with, while that token exists. */
async function sessionPrincipal(c: Context<AppEnv>, hash: string): Promise<Principal> {
  const db = c.get("db");
  const tokenId = await sessionTokenId(db, hash);
  if (tokenId === "bootstrap" && c.env.VIGIL_ADMIN_TOKEN) return BOOTSTRAP;
  const row = tokenId ? await apiTokenBy(db, { id: tokenId }) : null;
  if (!row) throw new ApiError("unauthorized", "the session has ended (signed out, expired, or its token revoked)");
  return { id: row.id, name: row.name, role: row.role };
}

export function authorize(principal: Principal, role: Role): void {
  if (role === "admin" && principal.role !== "admin") {
    throw new ApiError("forbidden", `this needs an admin token; ${principal.name} is a ${principal.role} token`);
  }
}
