/**
 * CRUD for the resources inside a cluster: nodes, checks, VIP groups, sync groups,
 * virtual services and their real servers. One generic set of handlers; each kind says
 * where its list lives in the cluster document.
 */
import type { Context } from "hono";
import * as z from "zod";
import { Check } from "../../core/check.js";
import type { ClusterDocument } from "../../core/cluster.js";
import { Node, NodeView } from "../../core/node.js";
import { SyncGroup, VipGroup } from "../../core/vip-group.js";
import { RealServer, VirtualService } from "../../core/virtual-service.js";
import { readNodeStatus } from "../../storage/node-status.js";
import { commit, loadCluster } from "../cluster-ops.js";
import { type AppEnv, param } from "../context.js";
import { ApiError, requireSameName } from "../errors.js";
import type { Router } from "../router.js";

type Named = { name: string };
type Params = Record<string, string>;

interface Kind<T extends Named> {
  segment: string;
  /** For operation ids: createVipGroup, listVipGroups. */
  op: string;
  label: string;
  tag: string;
  /** Hono path of the collection's parent. */
  parent: string;
  schema: z.ZodType<T>;
  /** The list in the document and its path there; null when a parent resource is missing. */
  locate(doc: ClusterDocument, params: Params): { items: T[]; path: (string | number)[] } | null;
  /** What the API returns for an item; defaults to the item itself. */
  view?: { schema: z.ZodType; render(c: Context<AppEnv>, cluster: string, items: T[]): Promise<unknown[]> };
}

const inCluster = "/v1/clusters/:cluster";
const top =
  <K extends "nodes" | "checks" | "vipGroups" | "syncGroups" | "virtualServices">(key: K) =>
  (doc: ClusterDocument) => ({ items: doc[key] as Named[], path: [key] });

const KINDS: Kind<Named>[] = [
  {
    segment: "nodes",
    op: "Node",
    label: "node",
    tag: "nodes",
    parent: inCluster,
    schema: Node,
    locate: top("nodes"),
    view: {
      schema: NodeView,
      async render(c, cluster, items) {
        const status = await readNodeStatus(c.get("db"), cluster);
        return items.map((n) => ({ ...n, status: status.get(n.name) }));
      },
    },
  },
  {
    segment: "checks",
    op: "Check",
    label: "check",
    tag: "checks",
    parent: inCluster,
    schema: Check,
    locate: top("checks"),
  },
  {
    segment: "vip-groups",
    op: "VipGroup",
    label: "VIP group",
    tag: "vip-groups",
    parent: inCluster,
    schema: VipGroup,
    locate: top("vipGroups"),
  },
  {
    segment: "sync-groups",
    op: "SyncGroup",
    label: "sync group",
    tag: "sync-groups",
    parent: inCluster,
    schema: SyncGroup,
    locate: top("syncGroups"),
  },
  {
    segment: "virtual-services",
    op: "VirtualService",
    label: "virtual service",
    tag: "virtual-services",
    parent: inCluster,
    schema: VirtualService,
    locate: top("virtualServices"),
  },
  {
    segment: "real-servers",
    op: "RealServer",
    label: "real server",
    tag: "virtual-services",
    parent: `${inCluster}/virtual-services/:service`,
    schema: RealServer,
    locate(doc, params) {
      const i = doc.virtualServices.findIndex((vs) => vs.name === params.service);
      const vs = doc.virtualServices[i];
      return vs ? { items: vs.realServers, path: ["virtualServices", i, "realServers"] } : null;
    },
  },
] as Kind<Named>[];

export function registerClusterResources(router: Router): void {
  for (const kind of KINDS) registerKind(router, kind);
}

function registerKind<T extends Named>(router: Router, kind: Kind<T>): void {
  const collection = `${kind.parent}/${kind.segment}`;
  const item = `${collection}/:name`;
  const op = kind.op;
  const itemSchema = kind.view?.schema ?? kind.schema;
  const render = async (c: Context<AppEnv>, items: T[]) =>
    kind.view ? kind.view.render(c, param(c, "cluster"), items) : items;

  const locate = (doc: ClusterDocument, params: Params) => {
    const found = kind.locate(doc, params);
    if (!found)
      throw new ApiError("not_found", `no virtual service named ${params.service} in cluster ${params.cluster}`);
    return found;
  };
  const find = (items: T[], name: string) => {
    const index = items.findIndex((i) => i.name === name);
    if (index < 0) throw new ApiError("not_found", `no ${kind.label} named ${name}`);
    return index;
  };

  router.add(
    {
      method: "get",
      path: collection,
      operationId: `list${op}s`,
      summary: `List ${kind.label}s`,
      tag: kind.tag,
      role: "read",
      response: z.array(itemSchema),
    },
    async (c) => {
      const { doc } = await loadCluster(c.get("db"), param(c, "cluster"));
      return c.json(await render(c, locate(doc, c.req.param()).items));
    },
  );

  router.add(
    {
      method: "get",
      path: item,
      operationId: `get${op}`,
      summary: `Get a ${kind.label}`,
      tag: kind.tag,
      role: "read",
      response: itemSchema,
    },
    async (c) => {
      const { doc } = await loadCluster(c.get("db"), param(c, "cluster"));
      const { items } = locate(doc, c.req.param());
      const found = items[find(items, param(c, "name"))] as T;
      return c.json((await render(c, [found]))[0]);
    },
  );

  router.add(
    {
      method: "post",
      path: collection,
      operationId: `create${op}`,
      summary: `Create a ${kind.label}`,
      tag: kind.tag,
      role: "admin",
      body: kind.schema,
      response: itemSchema,
      status: 201,
      errors: ["already_exists", "unknown_reference", "duplicate_vip"],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const stored = await loadCluster(db, param(c, "cluster"));
      const after = structuredClone(stored.doc);
      const { items, path } = locate(after, c.req.param());
      if (items.some((i) => i.name === body.name)) {
        throw new ApiError("already_exists", `a ${kind.label} named ${body.name} already exists`);
      }
      items.push(body);
      const result = await commit(c, stored, after, { focus: [...path, items.length - 1] });
      const saved = locate(result.doc, c.req.param()).items.find((i) => i.name === body.name) as T;
      return c.json((await render(c, [saved]))[0], 201);
    },
  );

  router.add(
    {
      method: "put",
      path: item,
      operationId: `put${op}`,
      summary: `Create or replace a ${kind.label}`,
      tag: kind.tag,
      role: "admin",
      body: kind.schema,
      bodyDefaults: (c) => ({ name: param(c, "name") }),
      response: itemSchema,
      errors: ["unknown_reference", "duplicate_vip"],
    },
    async (c, { body }) => {
      const name = param(c, "name");
      requireSameName(name, body.name);
      const db = c.get("db");
      const stored = await loadCluster(db, param(c, "cluster"));
      const after = structuredClone(stored.doc);
      const { items, path } = locate(after, c.req.param());
      let index = items.findIndex((i) => i.name === name);
      const created = index < 0;
      if (created) index = items.push(body) - 1;
      else items[index] = body;
      const result = await commit(c, stored, after, { focus: [...path, index] });
      const saved = locate(result.doc, c.req.param()).items[index] as T;
      return c.json((await render(c, [saved]))[0], created ? 201 : 200);
    },
  );

  router.add(
    {
      method: "delete",
      path: item,
      operationId: `delete${op}`,
      summary: `Delete a ${kind.label}`,
      tag: kind.tag,
      role: "admin",
      errors: ["in_use"],
    },
    async (c) => {
      const db = c.get("db");
      const stored = await loadCluster(db, param(c, "cluster"));
      const after = structuredClone(stored.doc);
      const { items } = locate(after, c.req.param());
      items.splice(find(items, param(c, "name")), 1);
      try {
        await commit(c, stored, after);
      } catch (err) {
        if (err instanceof ApiError && err.code === "unknown_reference") {
          const users = err.issues.map((i) => i.field).join(", ");
          throw new ApiError(
            "in_use",
            `${kind.label} ${param(c, "name")} is still referred to by ${users}`,
            err.issues,
          );
        }
        throw err;
      }
      return c.body(null, 204);
    },
  );
}
