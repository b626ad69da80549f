/**
 * The cluster's health: every target's verdict and every observer's vote, from the coordinator;
 * and its probers: each region's shards, what they probe and what they were billed for.
 */
import { HealthReport } from "../../core/health.js";
import { ProbersReport, regionShards } from "../../core/probe-shards.js";
import { loadCluster, proberFor } from "../cluster-ops.js";
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

  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/probers",
      operationId: "getProbers",
      summary:
        "Each region's prober shards: the targets each probes, probes run, and its requests and storage rows since it started",
      tag: "health",
      role: "read",
      response: ProbersReport,
    },
    async (c) => {
      const cluster = param(c, "cluster");
      const { doc } = await loadCluster(c.get("db"), cluster);
      const shards = [...regionShards(doc)].flatMap(([region, count]) =>
        Array.from({ length: count }, (_, shard) => ({ region, shard })),
      );
      const probers = await Promise.all(shards.map((s) => proberFor(c.env, cluster, s.region, s.shard).status()));
      return c.json({ cluster, probers });
    },
  );
}
