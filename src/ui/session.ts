/**
 * The dashboard's session: a random secret in a Secure, HttpOnly, SameSite=Strict cookie,
 * whose hash D1 keeps with the API token the operator signed in with (the token itself is
 * never stored). Every page reads the API with the secret, which acts as that token, so a read
 * token sees everything and changes nothing; sign-out deletes the session. Forms that change
 * something carry a CSRF token derived from the session, and a cross-site request is refused
 * whatever it carries, sign-in included.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_PREFIX } from "../api/auth.js";
import type { AppEnv } from "../api/context.js";
import { sameDigest, sha256Hex } from "../api/secrets.js";
import { toBase64url } from "../core/base64url.js";
import { createSession, deleteSession } from "../storage/ui-sessions.js";

export const SESSION_COOKIE = "__Host-vigil_session";
const EIGHT_HOURS = 8 * 3600;

export function sessionToken(c: Context): string | null {
  const value = getCookie(c, SESSION_COOKIE);
  return value && new RegExp(`^${SESSION_PREFIX}[A-Za-z0-9_-]{43}$`).test(value) ? value : null;
}

/** Opens a session for an API token (its id: "bootstrap" or a token row's) and sets the cookie. */
export async function startSession(c: Context<AppEnv>, tokenId: string): Promise<void> {
  const secret = `${SESSION_PREFIX}${toBase64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  await createSession(c.get("db"), await sha256Hex(secret), tokenId, EIGHT_HOURS);
  setCookie(c, SESSION_COOKIE, secret, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    maxAge: EIGHT_HOURS,
  });
}

/** Ends the session on the server (its secret stops working at once) and clears the cookie. */
export async function endSession(c: Context<AppEnv>): Promise<void> {
  const secret = sessionToken(c);
  if (secret) await deleteSession(c.get("db"), await sha256Hex(secret));
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
}

/** Why a sign-in post must be refused (it comes from another site), or null. */
export function crossSite(c: Context): string | null {
  const origin = c.req.header("origin");
  if (origin && origin !== new URL(c.req.url).origin) return `a request from ${origin} may not sign in here`;
  const site = c.req.header("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return "a cross-site request may not sign in here";
  return null;
}

/** The CSRF token for a session: HMAC-SHA256 of a fixed label under the session's API token. */
export async function csrfToken(session: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(session),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return toBase64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("vigil-csrf"))));
}

/**
 * Why a state-changing form post must be refused, or null when it may go on: it must come
 * from this site (Origin or Sec-Fetch-Site) and carry the session's CSRF token.
 */
export async function csrfProblem(c: Context, session: string, sent: unknown): Promise<string | null> {
  const origin = c.req.header("origin");
  if (origin && origin !== new URL(c.req.url).origin) return `a request from ${origin} may not change anything here`;
  const site = c.req.header("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return "a cross-site request may not change anything here";
  if (typeof sent !== "string" || !sameDigest(sent, await csrfToken(session)))
    return "the form's CSRF token is missing or wrong: reload the page and try again";
  return null;
}
