/** VIP group leases: who holds what, operator switchover, and draining a node. */
import * as z from "zod";
import { LeaseView } from "../../core/lease-view.js";
import { Ident } from "../../core/primitives.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError } from "../errors.js";
import type { Router } from "../router.js";

/** How long switchover and drain wait for the handover before they answer. */
const HANDOVER_WAIT_MS = 15_000;

const Switchover = z.strictObject({ to: Ident.meta({ description: "The member node to move the group to" }) });
const DrainResult = z
  .object({
    node: z.string(),
    drained: z.boolean(),
    /** Groups the node still holds: empty once the drain has handed everything over. */
    holding: z.array(z.string()),
  })
  .meta({ id: "DrainResult" });

export function registerLeases(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/leases",
      operationId: "listLeases",
      summary: "Every VIP group (and sync group): holder, epoch, time left, members with effective priority",
      tag: "leases",
      role: "read",
      response: z.array(LeaseView),
    },
    async (c) => {
      const cluster = param(c, "cluster");
      await loadCluster(c.get("db"), cluster);
      return c.json(await c.env.COORDINATOR.getByName(cluster).leases());
    },
  );

  router.add(
    {
      method: "post",
      path: "/v1/clusters/:cluster/vip-groups/:name/switchover",
      operationId: "switchover",
      summary: "Move a VIP group (or sync group) to a named member; answers once that member holds it",
      tag: "leases",
      role: "admin",
      body: Switchover,
      response: LeaseView,
      errors: ["conflict"],
    },
    async (c, { body }) => {
      const cluster = param(c, "cluster");
      await loadCluster(c.get("db"), cluster);
      const out = await c.env.COORDINATOR.getByName(cluster).switchover(param(c, "name"), body.to, HANDOVER_WAIT_MS);
      if (out.error !== null) throw new ApiError(out.error, out.message ?? "switchover failed");
      return c.json(out.view);
    },
  );

  for (const drained of [true, false]) {
    router.add(
      {
        method: drained ? "post" : "delete",
        path: "/v1/clusters/:cluster/nodes/:name/drain",
        operationId: drained ? "drainNode" : "undrainNode",
        summary: drained
          ? "Take a node out of every VIP group gracefully; answers once it holds nothing (or after 15 s)"
          : "Let a drained node hold VIP groups again",
        tag: "leases",
        role: "admin",
        response: DrainResult,
      },
      async (c) => {
        const cluster = param(c, "cluster");
        const node = param(c, "name");
        const stored = await loadCluster(c.get("db"), cluster);
        if (!stored.doc.nodes.some((n) => n.name === node))
          throw new ApiError("not_found", `no node named ${node} in ${cluster}`);
        const out = await c.env.COORDINATOR.getByName(cluster).drain(node, drained, HANDOVER_WAIT_MS);
        return c.json({ node, drained, holding: out.holding });
      },
    );
  }
}
