/** Clusters and their whole configuration document (config as code). */
import * as z from "zod";
import { ClusterDocument, ClusterSettings, emptyCluster } from "../../core/cluster.js";
import { Change } from "../../core/diff.js";
import { deleteCluster, readCluster } from "../../storage/cluster-store.js";
import { type ClusterRow, findClusterRow, listClusterRows, listRevisions } from "../../storage/clusters.js";
import { announce, commit, loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError, requireSameName } from "../errors.js";
import type { Router } from "../router.js";

const ClusterView = ClusterSettings.extend({
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: "ClusterView" });

const Revision = z
  .object({ revision: z.number().int(), actor: z.string(), at: z.string(), changes: z.array(Change) })
  .meta({ id: "Revision" });
const RevisionQuery = z.strictObject({
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const ApplyResult = z
  .object({
    cluster: z.string(),
    dryRun: z.boolean(),
    /** The revision after the apply (unchanged by a dry run or an empty diff). */
    revision: z.number().int(),
    changes: z.array(Change),
  })
  .meta({ id: "ApplyResult" });

const ApplyQuery = z.strictObject({
  dry_run: z.enum(["true", "false"], { error: "expected true or false" }).default("false"),
});
const DeleteQuery = z.strictObject({
  force: z.enum(["true", "false"], { error: "expected true or false" }).default("false"),
});

const ClusterUpdate = ClusterSettings.partial({ name: true }).meta({ id: "ClusterUpdateInput" });

const viewOf = (row: ClusterRow) => ({
  name: row.name,
  description: row.description,
  revision: row.revision,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export function registerClusters(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters",
      operationId: "listClusters",
      summary: "List clusters",
      tag: "clusters",
      role: "read",
      response: z.array(ClusterView),
    },
    async (c) => {
      const rows = await listClusterRows(c.get("db"));
      return c.json(rows.map(viewOf));
    },
  );

  router.add(
    {
      method: "post",
      path: "/v1/clusters",
      operationId: "createCluster",
      summary: "Create an empty cluster",
      tag: "clusters",
      role: "admin",
      body: ClusterSettings,
      response: ClusterView,
      status: 201,
      errors: ["already_exists"],
    },
    async (c, { body }) => {
      const db = c.get("db");
      if (await readCluster(db, body.name))
        throw new ApiError("already_exists", `a cluster named ${body.name} already exists`);
      await commit(c, null, emptyCluster(body));
      return c.json(viewOf(await clusterRow(c.get("db"), body.name)), 201);
    },
  );

  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster",
      operationId: "getCluster",
      summary: "Get a cluster",
      tag: "clusters",
      role: "read",
      response: ClusterView,
    },
    async (c) => c.json(viewOf(await clusterRow(c.get("db"), param(c, "cluster")))),
  );

  router.add(
    {
      method: "put",
      path: "/v1/clusters/:cluster",
      operationId: "updateCluster",
      summary: "Change a cluster's settings",
      tag: "clusters",
      role: "admin",
      body: ClusterUpdate,
      response: ClusterView,
    },
    async (c, { body }) => {
      const db = c.get("db");
      const name = param(c, "cluster");
      requireSameName(name, body.name);
      const stored = await loadCluster(db, name);
      await commit(c, stored, { ...stored.doc, cluster: { ...stored.doc.cluster, ...body, name } });
      return c.json(viewOf(await clusterRow(db, name)));
    },
  );

  router.add(
    {
      method: "delete",
      path: "/v1/clusters/:cluster",
      operationId: "deleteCluster",
      summary: "Delete a cluster (refused while it holds resources, unless force=true)",
      tag: "clusters",
      role: "admin",
      query: DeleteQuery,
      errors: ["in_use"],
    },
    async (c, { query }) => {
      const db = c.get("db");
      const name = param(c, "cluster");
      const { doc } = await loadCluster(db, name);
      const held =
        doc.nodes.length +
        doc.checks.length +
        doc.vipGroups.length +
        doc.syncGroups.length +
        doc.virtualServices.length;
      if (held > 0 && query.force !== "true") {
        throw new ApiError("in_use", `cluster ${name} still holds ${held} resource(s); delete them or pass force=true`);
      }
      await deleteCluster(db, name);
      c.executionCtx.waitUntil(announce(c.env, name, [doc]));
      return c.body(null, 204);
    },
  );

  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/config",
      operationId: "getClusterConfig",
      summary: "Export the cluster as one document",
      tag: "config",
      role: "read",
      response: ClusterDocument,
    },
    async (c) => c.json((await loadCluster(c.get("db"), param(c, "cluster"))).doc),
  );

  router.add(
    {
      method: "put",
      path: "/v1/clusters/:cluster/config",
      operationId: "applyClusterConfig",
      summary: "Apply a whole cluster document in one transaction; dry_run=true only reports the diff",
      tag: "config",
      role: "admin",
      body: ClusterDocument,
      query: ApplyQuery,
      response: ApplyResult,
      errors: ["unknown_reference", "duplicate_name", "duplicate_vip", "conflict"],
    },
    async (c, { body, query }) => {
      const name = param(c, "cluster");
      requireSameName(name, body.cluster.name, ["cluster", "name"]);
      const db = c.get("db");
      const stored = await readCluster(db, name);
      const dryRun = query.dry_run === "true";
      const result = await commit(c, stored, body, { dryRun });
      return c.json({ cluster: name, dryRun, revision: result.revision, changes: result.changes });
    },
  );
}

export function registerRevisions(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/revisions",
      operationId: "listRevisions",
      summary: "Who changed the cluster's configuration, when, and what changed; newest first",
      tag: "config",
      role: "read",
      query: RevisionQuery,
      response: z.array(Revision),
    },
    async (c, { query }) => {
      const db = c.get("db");
      const cluster = param(c, "cluster");
      await loadCluster(db, cluster);
      const rows = await listRevisions(db, cluster, query);
      return c.json(rows);
    },
  );
}

async function clusterRow(db: Parameters<typeof readCluster>[0], name: string) {
  const row = await findClusterRow(db, name);
  if (!row) throw new ApiError("not_found", `no cluster named ${name}`);
  return row;
}
