/**
 * Conversions between the zod shapes of src/core and the D1 rows of schema.ts.
 * Each `*Row` function returns exactly the configuration columns, so an upsert never
 * touches the state columns (enrollment, online) that belong to the running system.
 */
import { Check } from "../core/check.js";
import type { ClusterDocument } from "../core/cluster.js";
import type { Node } from "../core/node.js";
import type { SyncGroup, VipGroup } from "../core/vip-group.js";
import type { RealServer, VirtualService } from "../core/virtual-service.js";
import type * as t from "./schema.js";

type Row<T extends { $inferSelect: unknown }> = T["$inferSelect"];

/** Drops the keys whose value is undefined or null, so stored rows read back as the parsed input. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;
}

export const nodeRow = (cluster: string, n: Node) => ({
  cluster,
  name: n.name,
  address: n.address,
  peerPort: n.peerPort,
  labels: n.labels,
});
export const nodeFromRow = (r: Row<typeof t.nodes>): Node => ({
  name: r.name,
  address: r.address,
  peerPort: r.peerPort,
  labels: r.labels,
});

export function checkRow(cluster: string, c: Check) {
  const { name, type, interval, timeout, retries, delayBeforeRetry, rise, fall, observers, quorum, ...params } = c;
  return { cluster, name, type, interval, timeout, retries, delayBeforeRetry, rise, fall, observers, quorum, params };
}
export function checkFromRow(r: Row<typeof t.checks>): Check {
  const { cluster: _, params, ...schedule } = r;
  // Parsing restores the discriminated type; stored rows were valid when written.
  return Check.parse({ ...params, ...schedule });
}

/** Every column, lvsSync too when absent (null), so an update that drops it clears it. */
export function vipGroupRow(cluster: string, g: VipGroup) {
  return { cluster, ...g, lvsSync: g.lvsSync ?? null };
}
export function vipGroupFromRow(r: Row<typeof t.vipGroups>): VipGroup {
  const { cluster: _, lvsSync, ...g } = r;
  return (lvsSync ? { ...g, lvsSync } : g) as VipGroup;
}

export const syncGroupRow = (cluster: string, s: SyncGroup) => ({ cluster, ...s });
export function syncGroupFromRow(r: Row<typeof t.syncGroups>): SyncGroup {
  const { cluster: _, ...s } = r;
  return s as SyncGroup;
}

export function virtualServiceRow(cluster: string, vs: Omit<VirtualService, "realServers">) {
  const { driver, ...rest } = vs;
  return {
    cluster,
    ...rest,
    address: vs.address ?? null,
    port: vs.port ?? null,
    fwmark: vs.fwmark ?? null,
    persistence: vs.persistence ?? null,
    sorryServer: vs.sorryServer ?? null,
    driver: driver.type,
    haproxyBackend: driver.type === "haproxy" ? driver.backend : null,
  };
}
export function virtualServiceFromRow(r: Row<typeof t.virtualServices>, servers: RealServer[]): VirtualService {
  const { cluster: _, driver, haproxyBackend, ...rest } = r;
  return defined({
    ...rest,
    driver:
      driver === "haproxy" ? { type: "haproxy" as const, backend: haproxyBackend ?? "" } : { type: "ipvs" as const },
    realServers: servers,
  }) as VirtualService;
}

export const realServerRow = (cluster: string, virtualService: string, rs: RealServer) => ({
  cluster,
  virtualService,
  ...rs,
  check: rs.check ?? null,
  checks: rs.checks ?? null,
});
export const realServerFromRow = (r: Row<typeof t.realServers>): RealServer =>
  defined({
    name: r.name,
    address: r.address,
    port: r.port,
    weight: r.weight,
    check: r.check ?? undefined,
    checks: r.checks ?? undefined,
  });

/** The rows of one cluster, as read in one batch. */
export interface ClusterRows {
  cluster: Row<typeof t.clusters>;
  nodes: Row<typeof t.nodes>[];
  checks: Row<typeof t.checks>[];
  vipGroups: Row<typeof t.vipGroups>[];
  syncGroups: Row<typeof t.syncGroups>[];
  virtualServices: Row<typeof t.virtualServices>[];
  realServers: Row<typeof t.realServers>[];
}

export function documentFromRows(rows: ClusterRows): ClusterDocument {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    cluster: { name: rows.cluster.name, description: rows.cluster.description },
    nodes: rows.nodes.map(nodeFromRow).sort(byName),
    checks: rows.checks.map(checkFromRow).sort(byName),
    vipGroups: rows.vipGroups.map(vipGroupFromRow).sort(byName),
    syncGroups: rows.syncGroups.map(syncGroupFromRow).sort(byName),
    virtualServices: rows.virtualServices
      .map((vs) =>
        virtualServiceFromRow(
          vs,
          rows.realServers
            .filter((rs) => rs.virtualService === vs.name)
            .map(realServerFromRow)
            .sort(byName),
        ),
      )
      .sort(byName),
  };
}
