/**
 * LVS failovers in the qemu guest (test/ipvs/failover-guest.ts runs there), by Vigil or by
 * keepalived. Vigil's control plane is `npm start` on a fresh copy of the tree, on the host's
 * loopback, which the guest reaches through qemu's forward; keepalived is the host's, copied in.
 * `rounds` says, per round, whether connection sync is on. Shared by test/ipvs/failover.test.ts
 * and bench/failover. Needs the built agent (host-agent/dist/vigil-agent.cjs).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, freshCheckout, startVigil, stopVigil } from "../../bench/local-run.mjs";
import { runGuest } from "./guest-run.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function lvsFailover(system, rounds, { leaseTtl = 2 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-lvs-failover-"));
  const checkout = system === "vigil" ? freshCheckout() : null;
  const port = checkout ? await freePort() : 0;
  const controlPlane = checkout ? startVigil(checkout.dir, port) : null;
  try {
    const plan = path.join(dir, "plan.json");
    const admin = controlPlane ? await controlPlane.ready : undefined;
    writeFileSync(plan, JSON.stringify({ system, rounds, admin, leaseTtl }));
    return await runGuest(
      "failover-guest.ts",
      [
        plan,
        ...["rs-server.mjs", "stream-client.mjs", "tcp-relay.mjs"].map((f) => path.join(here, f)),
        path.join(here, "../../host-agent/dist/vigil-agent.cjs"),
      ],
      {
        hostPort: controlPlane ? port : undefined,
        timeoutSeconds: 120 + 90 * rounds.length,
        binaries: system === "keepalived" ? ["keepalived"] : [],
      },
    );
  } finally {
    if (controlPlane) await stopVigil(controlPlane.child);
    checkout?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}
