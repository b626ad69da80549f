/** The cluster's health: every target's verdict and every observer's vote, from the coordinator. */
import { HealthReport } from "../../core/health.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import type { Router } from "../router.js";

export function registerHealth(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/health",
      operationId: "getHealth",
      summary: "Targets x observers: each observer's vote, latency, last error and since when; the quorum verdict",
      tag: "health",
      role: "read",
      response: HealthReport,
    },
    async (c) => {
      const cluster = param(c, "cluster");
      await loadCluster(c.get("db"), cluster);
      return c.json(await c.env.COORDINATOR.getByName(cluster).health());
    },
  );
}
