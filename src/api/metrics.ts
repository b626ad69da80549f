/**
 * GET /metrics: the Prometheus text exposition of every cluster, for a read (or admin) API
 * token or the separate VIGIL_METRICS_TOKEN, which can read nothing else.
 */
import type { Hono } from "hono";
import { type MetricsSnapshot, renderMetrics } from "../core/metrics.js";
import { metricsRows } from "../storage/metrics.js";
import { authenticate } from "./auth.js";
import type { AppEnv } from "./context.js";
import { ApiError, sendError } from "./errors.js";
import { sameDigest, sha256Hex } from "./secrets.js";

export function registerMetrics(app: Hono<AppEnv>): void {
  app.get("/metrics", async (c) => {
    const presented = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const metricsToken = c.env.VIGIL_METRICS_TOKEN;
    const byMetricsToken =
      presented !== undefined &&
      metricsToken !== undefined &&
      sameDigest(await sha256Hex(presented), await sha256Hex(metricsToken));
    if (!byMetricsToken) {
      try {
        await authenticate(c);
      } catch (err) {
        if (err instanceof ApiError) return sendError(c, err);
        throw err;
      }
    }
    const { clusters, nodes, deliveries } = await metricsRows(c.get("db"));
    const snapshot: MetricsSnapshot = {
      clusters: await Promise.all(
        clusters.map(async (name) => ({
          name,
          coordinator: await c.env.COORDINATOR.getByName(name).metrics(),
          nodes: nodes.filter((n) => n.cluster === name).map((n) => ({ name: n.name, online: n.online === true })),
        })),
      ),
      deliveries: deliveries.map((d) => ({ webhook: d.webhook, status: d.status, count: d.count })),
    };
    return c.body(renderMetrics(snapshot), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}
