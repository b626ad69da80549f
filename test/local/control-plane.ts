/** `npm start` on a fresh checkout, on a free loopback port, with an admin API client for the tests. */
import { freePort, freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";

export interface ControlPlane {
  url: string;
  /** The fresh checkout it runs from (its build wrote host-agent/.release-key and dist/). */
  dir: string;
  admin: string;
  /** Calls the API as admin; answers the parsed JSON body (null for none). */
  call(method: string, route: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const checkout = freshCheckout();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = startVigil(checkout.dir, port);
  const admin = await started.ready;
  return {
    url,
    dir: checkout.dir,
    admin,
    call: async (method, route, body) => {
      const text = await (
        await fetch(`${url}${route}`, {
          method,
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
      ).text();
      // A 204 has no body.
      return text ? JSON.parse(text) : null;
    },
    async stop() {
      await stopVigil(started.child);
      checkout.remove();
    },
  };
}
