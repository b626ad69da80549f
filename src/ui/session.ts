/**
 * The dashboard's session: the API token the operator signed in with, in a Secure, HttpOnly,
 * SameSite=Strict cookie; every page reads the API with it, so a read token sees everything
 * and changes nothing. Forms that change something carry a CSRF token derived from the
 * session (HMAC of the API token), and a cross-site request is refused whatever it carries.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { sameDigest } from "../api/secrets.js";
import { toBase64url } from "../core/base64url.js";

export const SESSION_COOKIE = "__Host-vigil_session";
const EIGHT_HOURS = 8 * 3600;

export function sessionToken(c: Context): string | null {
  const value = getCookie(c, SESSION_COOKIE);
  return value && /^[A-Za-z0-9_-]{10,200}$/.test(value) ? value : null;
}

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    maxAge: EIGHT_HOURS,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
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
