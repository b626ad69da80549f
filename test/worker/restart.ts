import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";

const MARK = Symbol("instance before the restart");

/**
 * Resets a cluster's coordinator (or the object `stub` names), as a deploy or an eviction does: the instance ends where it
 * stands, and the next request starts a new one from what was stored (checked: the new
 * instance does not carry the mark put on the old one).
 */
export async function restart(
  cluster: string,
  stub: () => DurableObjectStub = () => env.COORDINATOR.getByName(cluster),
): Promise<void> {
  await runInDurableObject(stub(), (instance, state) => {
    (instance as unknown as Record<symbol, boolean>)[MARK] = true;
    try {
      state.abort("a restart, by the test");
    } catch {
      // abort() throws in its caller, as it ends the instance.
    }
  }).catch(() => undefined);
  const marked = await runInDurableObject(stub(), (instance) => MARK in (instance as object));
  expect(marked, "the coordinator restarted").toBe(false);
}
