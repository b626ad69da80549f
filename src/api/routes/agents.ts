/** The agent channel's entry point, and a signed ping an operator can send to any agent. */
import * as z from "zod";
import { Ident } from "../../core/primitives.js";
import { findNodeKey } from "../../storage/clusters.js";
import { countFailure, tooManyFailures } from "../auth-failures.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError } from "../errors.js";
import type { Router } from "../router.js";

const PingResult = z
  .object({
    ok: z.boolean(),
    /** Round trip of the signed ping and the agent's signed ack, in milliseconds. */
    rttMs: z.number(),
    error: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "PingResult" });

export function registerAgents(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/agents/:node/connect",
      operationId: "connectAgent",
      summary: "The agent's WebSocket; it is trusted once it answers the challenge with its enrolled key",
      tag: "agents",
      role: "public",
    },
    async (c) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new ApiError("invalid_field", "this endpoint takes a WebSocket upgrade");
      }
      const cluster = param(c, "cluster");
      const node = param(c, "node");
      // Nothing reaches (or creates) a Durable Object for a name that is not an enrolled node.
      const unknown = async (message: string) => {
        if (await countFailure(c)) throw tooManyFailures();
        throw new ApiError("not_found", message);
      };
      if (!Ident.safeParse(cluster).success || !Ident.safeParse(node).success) await unknown("no such cluster or node");
      const row = await findNodeKey(c.get("db"), cluster, node);
      if (!row) return unknown(`no node ${node} in cluster ${cluster}`);
      if (!row.key) throw new ApiError("unauthorized", `node ${node} is not enrolled; enroll its agent first`);
      const url = new URL(c.req.url);
      url.search = new URLSearchParams({ cluster, node }).toString();
      return c.env.COORDINATOR.getByName(cluster).fetch(new Request(url, c.req.raw));
    },
  );

  router.add(
    {
      method: "post",
      path: "/v1/clusters/:cluster/nodes/:name/ping",
      operationId: "pingAgent",
      summary: "Send a signed ping to a node's agent and wait for its signed ack",
      tag: "agents",
      role: "admin",
      response: PingResult,
      errors: ["conflict"],
    },
    async (c) => {
      const cluster = param(c, "cluster");
      await loadCluster(c.get("db"), cluster);
      const nonce = crypto.randomUUID();
      const reply = await c.env.COORDINATOR.getByName(cluster).sendCommand(param(c, "name"), {
        type: "ping",
        nonce,
      });
      if ("notConnected" in reply) throw new ApiError("conflict", reply.notConnected);
      return c.json(reply);
    },
  );
}
