/**
 * Failed authentication, counted per client address with the platform's rate-limiting binding:
 * a bad API token, a bad enrollment token, an agent connection for a node that is not enrolled.
 * Past the limit the client is answered 429 with Retry-After, and this isolate answers it so
 * without reading D1 until the window has passed. A request without a client address (local
 * tools that set none) is not counted.
 */
import type { Context } from "hono";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/** wrangler.toml's period for AUTH_FAILURES. */
export const AUTH_FAILURE_WINDOW_S = 60;

const blockedUntil = new Map<string, number>();

function clientOf(c: Context<AppEnv>): string | null {
  return c.req.header("cf-connecting-ip") ?? null;
}

/** Whether this client is over its limit now (answered without touching anything else). */
export function blocked(c: Context<AppEnv>): boolean {
  const client = clientOf(c);
  if (client === null) return false;
  const until = blockedUntil.get(client);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  blockedUntil.delete(client);
  return false;
}

/** Counts one failure; true when it takes the client over its limit. */
export async function countFailure(c: Context<AppEnv>): Promise<boolean> {
  const client = clientOf(c);
  const limiter = c.env.AUTH_FAILURES;
  if (client === null || !limiter) return false;
  const { success } = await limiter.limit({ key: client });
  if (success) return false;
  blockedUntil.set(client, Date.now() + AUTH_FAILURE_WINDOW_S * 1000);
  return true;
}

export function tooManyFailures(): ApiError {
  return new ApiError(
    "too_many_requests",
    `too many failed authentications from this address; try again in ${AUTH_FAILURE_WINDOW_S} s`,
    [],
    AUTH_FAILURE_WINDOW_S,
  );
}
