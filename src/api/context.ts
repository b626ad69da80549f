import type { TokenRole } from "../core/vocabulary.js";
import type { Env } from "../env.js";
import type { Db } from "../storage/cluster-store.js";

/** Who made a request: an API token, a dashboard session acting as one, or the bootstrap token. */
export interface Principal {
  /** Token id, or "bootstrap" for VIGIL_ADMIN_TOKEN. */
  id: string;
  name: string;
  role: TokenRole;
}

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
