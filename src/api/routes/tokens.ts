/** API tokens for operators and enrollment tokens for agents. A token is shown once, when made. */
import * as z from "zod";
import { ApiToken, ApiTokenInput, EnrollmentToken, EnrollmentTokenInput } from "../../core/token.js";
import {
  type ApiTokenRow,
  apiTokenNameTaken,
  deleteApiToken,
  deleteEnrollmentToken,
  type EnrollmentTokenRow,
  insertApiToken,
  insertEnrollmentToken,
  listApiTokens,
  listEnrollmentTokens,
} from "../../storage/tokens.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError } from "../errors.js";
import type { Router } from "../router.js";
import { newToken, sha256Hex, tokenPrefix } from "../secrets.js";

const CreatedApiToken = ApiToken.extend({ token: z.string() }).meta({ id: "CreatedApiToken" });
const CreatedEnrollmentToken = EnrollmentToken.extend({ token: z.string() }).meta({ id: "CreatedEnrollmentToken" });
const Me = z.object({ id: z.string(), name: z.string(), role: z.string() }).meta({ id: "Me" });

const apiTokenView = ({ hash: _, ...row }: ApiTokenRow) => row;
const enrollmentView = ({ hash: _, ...row }: EnrollmentTokenRow) => row;

export function registerTokens(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/me",
      operationId: "whoAmI",
      summary: "The token this request is made with",
      tag: "tokens",
      role: "read",
      response: Me,
    },
    async (c) => c.json(c.get("principal")),
  );

  router.add(
    {
      method: "get",
      path: "/v1/tokens",
      operationId: "listTokens",
      summary: "List API tokens",
      tag: "tokens",
      role: "admin",
      response: z.array(ApiToken),
    },
    async (c) => c.json((await listApiTokens(c.get("db"))).map(apiTokenView)),
  );

  router.add(
    {
      method: "post",
      path: "/v1/tokens",
      operationId: "createToken",
      summary: "Make an API token; the response is the only time the token is shown",
      tag: "tokens",
      role: "admin",
      body: ApiTokenInput,
      response: CreatedApiToken,
      status: 201,
      errors: ["already_exists"],
    },
    async (c, { body }) => {
      const db = c.get("db");
      if (await apiTokenNameTaken(db, body.name))
        throw new ApiError("already_exists", `a token named ${body.name} already exists`);
      const token = newToken("vgl");
      const row = await insertApiToken(db, { ...body, hash: await sha256Hex(token), prefix: tokenPrefix(token) });
      return c.json({ ...apiTokenView(row), token }, 201);
    },
  );

  router.add(
    {
      method: "delete",
      path: "/v1/tokens/:id",
      operationId: "revokeToken",
      summary: "Revoke an API token",
      tag: "tokens",
      role: "admin",
    },
    async (c) => {
      if (!(await deleteApiToken(c.get("db"), param(c, "id"))))
        throw new ApiError("not_found", `no API token with id ${param(c, "id")}`);
      return c.body(null, 204);
    },
  );

  const base = "/v1/clusters/:cluster/enrollment-tokens";
  router.add(
    {
      method: "get",
      path: base,
      operationId: "listEnrollmentTokens",
      summary: "List enrollment tokens",
      tag: "enrollment",
      role: "admin",
      response: z.array(EnrollmentToken),
    },
    async (c) => {
      const db = c.get("db");
      const cluster = param(c, "cluster");
      await loadCluster(db, cluster);
      const rows = await listEnrollmentTokens(db, cluster);
      return c.json(rows.map(enrollmentView));
    },
  );

  router.add(
    {
      method: "post",
      path: base,
      operationId: "createEnrollmentToken",
      summary: "Make a single-use token that enrolls one node's agent",
      tag: "enrollment",
      role: "admin",
      body: EnrollmentTokenInput,
      response: CreatedEnrollmentToken,
      status: 201,
      errors: ["unknown_reference"],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const cluster = param(c, "cluster");
      const { doc } = await loadCluster(db, cluster);
      if (!doc.nodes.some((n) => n.name === body.node)) {
        throw ApiError.fromIssues([
          {
            code: "unknown_reference",
            path: ["node"],
            field: "node",
            message: `no node named ${body.node} in cluster ${cluster}`,
          },
        ]);
      }
      const token = newToken("vge");
      const row = await insertEnrollmentToken(db, {
        cluster,
        node: body.node,
        hash: await sha256Hex(token),
        prefix: tokenPrefix(token),
        expiresAt: new Date(Date.now() + body.ttl * 1000).toISOString(),
      });
      return c.json({ ...enrollmentView(row), token }, 201);
    },
  );

  router.add(
    {
      method: "delete",
      path: `${base}/:id`,
      operationId: "revokeEnrollmentToken",
      summary: "Revoke an enrollment token",
      tag: "enrollment",
      role: "admin",
    },
    async (c) => {
      if (!(await deleteEnrollmentToken(c.get("db"), param(c, "cluster"), param(c, "id"))))
        throw new ApiError("not_found", `no enrollment token with id ${param(c, "id")}`);
      return c.body(null, 204);
    },
  );
}
