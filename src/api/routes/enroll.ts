/**
 * Enrollment: an agent trades a single-use, expiring token for a place in its cluster. It
 * registers the public half of a key it made on the host (the private half never leaves)
 * and gets the coordinator keys to pin. A node enrolls once; an admin resets it to re-enroll.
 */
import * as z from "zod";
import { coordinatorKeys } from "../../coordinator/keys.js";
import { Enrollment, EnrollRequest } from "../../core/token.js";
import { findNodeKey } from "../../storage/clusters.js";
import { enroll, enrollmentTokenByHash, resetEnrollment } from "../../storage/tokens.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError } from "../errors.js";
import type { Router } from "../router.js";
import { sha256Hex } from "../secrets.js";

const ReleaseKey = z
  .object({
    /** The Ed25519 public key agent bundles are signed with (install.sh --release-key). */
    releaseKey: z.string(),
    /** The command that installs an agent from this control plane. */
    installCommand: z.string(),
  })
  .meta({ id: "ReleaseKey" });

export function registerEnrollment(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/release-key",
      operationId: "releaseKey",
      summary:
        "The key agent releases are signed with, and the install command: compare it with the key your build printed, since a tampered server could show another",
      tag: "enrollment",
      role: "read",
      response: ReleaseKey,
    },
    async (c) => {
      const origin = new URL(c.req.url).origin;
      const served = await c.env.ASSETS?.fetch(new Request(`${origin}/agent/release-key`));
      const releaseKey = served?.ok ? (await served.text()).trim() : "";
      if (!/^[A-Za-z0-9_-]{43}$/.test(releaseKey))
        throw new ApiError("not_found", "no signed agent release is served here: run npm run build:agent");
      const insecure = origin.startsWith("http:") ? " --insecure-http" : "";
      return c.json({
        releaseKey,
        installCommand: `curl -fsSL ${origin}/install.sh | sudo sh -s -- --url ${origin}${insecure} --release-key ${releaseKey} --token-file /root/vigil-token --node NODE`,
      });
    },
  );

  router.add(
    {
      method: "post",
      path: "/v1/enroll",
      operationId: "enroll",
      summary: "Enroll a node's agent with a single-use enrollment token",
      tag: "enrollment",
      role: "public",
      body: EnrollRequest,
      response: Enrollment,
      status: 201,
      errors: ["unauthorized", "forbidden", "conflict"],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const hash = await sha256Hex(body.token);
      const token = await enrollmentTokenByHash(db, hash);
      if (!token) throw new ApiError("unauthorized", "the enrollment token is not valid");
      if (token.usedAt) throw new ApiError("unauthorized", `the enrollment token was already used at ${token.usedAt}`);
      const now = new Date().toISOString();
      if (token.expiresAt <= now)
        throw new ApiError("unauthorized", `the enrollment token expired at ${token.expiresAt}`);
      if (token.node !== body.node)
        throw new ApiError("forbidden", `this token enrolls node ${token.node}, not ${body.node}`);
      const node = await findNodeKey(db, token.cluster, body.node);
      if (!node) throw new ApiError("not_found", `node ${body.node} is no longer in cluster ${token.cluster}`);
      if (node.key !== null) {
        throw new ApiError(
          "conflict",
          `node ${body.node} is already enrolled; an admin must reset it first: DELETE /v1/clusters/${token.cluster}/nodes/${body.node}/enrollment`,
        );
      }
      if (!(await enroll(db, token, { name: body.node, publicKey: body.publicKey }, now)))
        throw new ApiError("conflict", "the token or the node was used by another enrollment at the same moment");
      const keys = await coordinatorKeys(c.env.VIGIL_COORDINATOR_KEY);
      return c.json(
        {
          cluster: token.cluster,
          node: body.node,
          agentKid: `agent:${body.node}`,
          coordinatorKeys: keys.map(({ kid, publicKey }) => ({ kid, publicKey })),
        },
        201,
      );
    },
  );

  router.add(
    {
      method: "delete",
      path: "/v1/clusters/:cluster/nodes/:name/enrollment",
      operationId: "resetEnrollment",
      summary: "Forget a node's agent key, so the node can enroll again (its agent is refused until then)",
      tag: "enrollment",
      role: "admin",
    },
    async (c) => {
      const db = c.get("db");
      const cluster = param(c, "cluster");
      await loadCluster(db, cluster);
      if (!(await resetEnrollment(db, cluster, param(c, "name"))))
        throw new ApiError("not_found", `no node named ${param(c, "name")}`);
      await c.env.COORDINATOR.getByName(cluster).revokeAgent(param(c, "name"));
      return c.body(null, 204);
    },
  );
}
