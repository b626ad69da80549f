/**
 * Coordinator Durable Object: one per cluster. It will hold leases and quorum state; for
 * now it answers who it is, so bindings and routing can be exercised end to end.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env.js";

export class Coordinator extends DurableObject<Env> {
  /** The cluster this coordinator serves, recorded on first contact. */
  async describe(cluster: string): Promise<{ cluster: string; since: string }> {
    const stored = await this.ctx.storage.get<{ cluster: string; since: string }>("identity");
    if (stored) return stored;
    const identity = { cluster, since: new Date().toISOString() };
    await this.ctx.storage.put("identity", identity);
    return identity;
  }
}
