import type { Env } from "../env.js";
import type { Db } from "../storage/cluster-store.js";
import type { Principal } from "./auth.js";

export type AppEnv = {
  Bindings: Env;
  Variables: { db: Db; principal: Principal };
};

/** A path parameter that the route's path declares. */
export function param(c: { req: { param(name: string): string | undefined } }, name: string): string {
  const value = c.req.param(name);
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}
