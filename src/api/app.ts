/**
 * The control plane's HTTP API under /v1. Every route is declared through the Router, so
 * validation, authorization and the OpenAPI document come from one place.
 */
import { Hono } from "hono";
import { VERSION } from "../core/version.js";
import { openDb } from "../storage/db.js";
import { registerUi } from "../ui/routes.js";
import { blocked, countFailure, tooManyFailures } from "./auth-failures.js";
import type { AppEnv } from "./context.js";
import { ApiError, sendError } from "./errors.js";
import { registerMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { Router } from "./router.js";
import { registerAgents } from "./routes/agents.js";
import { registerBackends } from "./routes/backends.js";
import { registerClusterResources } from "./routes/cluster-resources.js";
import { registerClusters, registerRevisions } from "./routes/clusters.js";
import { registerEnrollment } from "./routes/enroll.js";
import { registerEvents } from "./routes/events.js";
import { registerHealth } from "./routes/health.js";
import { registerHistory } from "./routes/history.js";
import { registerLeases } from "./routes/leases.js";
import { registerTokens } from "./routes/tokens.js";
import { registerWebhooks } from "./routes/webhooks.js";

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const router = new Router(app);

  app.use("*", async (c, next) => {
    if (blocked(c)) return sendError(c, tooManyFailures());
    c.set("db", openDb(c.env.DB));
    await next();
  });

  app.get("/v1/health", (c) => c.json({ ok: true, version: VERSION }));
  let openapi: unknown;
  app.get("/v1/openapi.json", (c) => {
    openapi ??= openApiDocument(router.routes, VERSION);
    return c.json(openapi);
  });

  registerClusters(router);
  registerClusterResources(router);
  registerRevisions(router);
  registerTokens(router);
  registerWebhooks(router);
  registerEvents(router);
  registerHealth(router);
  registerLeases(router);
  registerHistory(router);
  registerBackends(router);
  registerEnrollment(router);
  registerAgents(router);
  registerUi(app);
  registerMetrics(app);

  app.notFound((c) => {
    const allowed = router.methodsFor(c.req.path);
    if (allowed.length > 0) {
      c.header("Allow", allowed.map((m) => m.toUpperCase()).join(", "));
      return sendError(
        c,
        new ApiError(
          "method_not_allowed",
          `${c.req.method} is not allowed here; use ${allowed.join(", ").toUpperCase()}`,
        ),
      );
    }
    return sendError(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`));
  });

  app.onError(async (err, c) => {
    if (err instanceof ApiError) {
      if (err.code === "unauthorized" && (await countFailure(c))) return sendError(c, tooManyFailures());
      return sendError(c, err);
    }
    console.error("unhandled error", c.req.method, c.req.path, err);
    return sendError(c, new ApiError("internal_error", "internal error; the control plane logged the details"));
  });

  return app;
}
