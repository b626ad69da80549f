/**
 * An LVS failover in the qemu guest against a real control plane (test/ipvs/failover-guest.ts
 * runs in the guest): `npm start` on a fresh copy of the tree, on the host's loopback, which
 * the guest reaches through qemu's forward. `rounds` says, per round, whether connection sync
 * is on. Shared by test/ipvs/failover.test.ts and bench/failover. Needs the built agent
 * (host-agent/dist/vigil-agent.cjs).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";
import { runGuest } from "./guest-run.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function lvsFailover(rounds, { leaseTtl = 2 } = {}) {
  const checkout = freshCheckout();
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-lvs-failover-"));
  const port = await freePort();
  const started = startVigil(checkout.dir, port);
  try {
    const plan = path.join(dir, "plan.json");
    writeFileSync(plan, JSON.stringify({ admin: await started.ready, rounds, leaseTtl }));
    return await runGuest(
      "failover-guest.ts",
      [
        plan,
        ...["rs-server.mjs", "stream-client.mjs", "tcp-relay.mjs"].map((f) => path.join(here, f)),
        path.join(here, "../../host-agent/dist/vigil-agent.cjs"),
      ],
      { hostPort: port, timeoutSeconds: 120 + 90 * rounds.length },
    );
  } finally {
    await stopVigil(started.child);
    checkout.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}
