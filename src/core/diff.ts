/**
 * What applying a cluster document changes, resource by resource. The same list is
 * returned to the operator (`PUT .../config` and its dry run) and drives the storage writes.
 */
import * as z from "zod";
import type { ClusterDocument } from "./cluster.js";

export const RESOURCE_KINDS = [
  "cluster",
  "node",
  "check",
  "vipGroup",
  "syncGroup",
  "virtualService",
  "realServer",
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const Change = z
  .object({
    op: z.enum(["create", "update", "delete"]),
    kind: z.enum(RESOURCE_KINDS),
    /** The resource's name; a real server is `service/server`. */
    name: z.string(),
    /** For updates: the top-level fields whose value differs. */
    fields: z.array(z.string()).optional(),
  })
  .meta({ id: "Change" });
export type Change = z.infer<typeof Change>;

type Named = { name: string };

/** Each resource of a document under its kind and name, real servers flattened out of their services. */
export function resources(doc: ClusterDocument): Map<ResourceKind, Map<string, object>> {
  const byName = <T extends Named>(items: T[], key = (i: T) => i.name) =>
    new Map(items.map((i) => [key(i), i as object]));
  const services = doc.virtualServices.map(({ realServers: _, ...vs }) => vs);
  const realServers = doc.virtualServices.flatMap((vs) => vs.realServers.map((rs) => ({ ...rs, service: vs.name })));
  return new Map<ResourceKind, Map<string, object>>([
    ["cluster", new Map([[doc.cluster.name, doc.cluster]])],
    ["node", byName(doc.nodes)],
    ["check", byName(doc.checks)],
    ["vipGroup", byName(doc.vipGroups)],
    ["syncGroup", byName(doc.syncGroups)],
    ["virtualService", byName(services)],
    ["realServer", byName(realServers, (rs) => `${rs.service}/${rs.name}`)],
  ]);
}

/**
 * Changes that turn `before` into `after`, parents before children for creates and
 * updates, children before parents for deletes.
 */
export function diffClusters(before: ClusterDocument | null, after: ClusterDocument): Change[] {
  const old = before ? resources(before) : new Map<ResourceKind, Map<string, object>>();
  const next = resources(after);
  const upserts: Change[] = [];
  const deletes: Change[] = [];
  for (const kind of RESOURCE_KINDS) {
    const was = old.get(kind) ?? new Map<string, object>();
    const now = next.get(kind) ?? new Map<string, object>();
    for (const [name, value] of now) {
      const prior = was.get(name);
      if (prior === undefined) upserts.push({ op: "create", kind, name });
      else {
        const fields = changedFields(prior, value);
        if (fields.length > 0) upserts.push({ op: "update", kind, name, fields });
      }
    }
    for (const name of was.keys()) if (!now.has(name)) deletes.push({ op: "delete", kind, name });
  }
  return [...upserts, ...deletes.reverse()];
}

function changedFields(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys]
    .filter((k) => canonical((a as Record<string, unknown>)[k]) !== canonical((b as Record<string, unknown>)[k]))
    .sort();
}

/** JSON with object keys sorted, so key order never counts as a change. */
export function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, (v as Record<string, unknown>)[k]]),
          )
        : v,
    ) ?? "undefined"
  );
}
