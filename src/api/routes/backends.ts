/** Virtual services as the directors have them: the desired table and what each director last reported. */
import { BackendsView } from "../../core/backend-status.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import type { Router } from "../router.js";

export function registerBackends(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/backends",
      operationId: "getBackends",
      summary:
        "Per virtual service: the real servers and weights each director should have, its last sync, and its live table as last read (with its age)",
      tag: "virtual-services",
      role: "read",
      response: BackendsView,
    },
    async (c) => {
      const cluster = param(c, "cluster");
      await loadCluster(c.get("db"), cluster);
      return c.json(await c.env.COORDINATOR.getByName(cluster).backends());
    },
  );

  router.add(
    {
      method: "post",
      path: "/v1/clusters/:cluster/backends/refresh",
      operationId: "refreshBackends",
      summary:
        "Read every director's live table now (as ipvsadm -Ln or HAProxy's show servers state would), then answer the view",
      tag: "virtual-services",
      role: "read",
      response: BackendsView,
    },
    async (c) => {
      const cluster = param(c, "cluster");
      await loadCluster(c.get("db"), cluster);
      return c.json(await c.env.COORDINATOR.getByName(cluster).refreshBackends());
    },
  );
}
