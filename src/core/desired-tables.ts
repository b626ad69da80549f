/**
 * Each node's desired backend tables for one configuration, brought up to date a verdict
 * change at a time. A changed target recomputes only its own virtual service, and only the
 * members of that service's VIP group can have new tables: a verdict change costs one
 * service, not the whole configuration. At every step `tables(node)` is what
 * `desiredBackends` would answer (test/core/desired-tables.test.ts).
 */
import { type DesiredService, desiredService } from "./backends.js";
import type { ClusterDocument } from "./cluster.js";
import { serverTargets, type VirtualService } from "./virtual-service.js";
import type { VoteState } from "./vote.js";

export interface Recomputed {
  /** The services recomputed, each with its desired table. */
  services: { service: VirtualService; table: DesiredService }[];
  /** The nodes that program any of them. */
  nodes: Set<string>;
}

export class DesiredTables {
  /** A target's virtual service, by its index in the configuration. */
  private readonly serviceOf = new Map<string, number>();
  /** Per service: the members of its VIP group (none when the group does not exist). */
  private readonly membersOf: string[][];
  /** Per node: the indexes of the services it programs, in the configuration's order. */
  private readonly servicesOf: Map<string, number[]>;
  /** Per service: its desired table and that table's JSON; null until first computed. */
  private readonly desired: ({ table: DesiredService; json: string } | null)[];

  constructor(readonly doc: ClusterDocument) {
    this.membersOf = doc.virtualServices.map(
      (vs) => doc.vipGroups.find((g) => g.name === vs.vipGroup)?.members.map((m) => m.node) ?? [],
    );
    this.servicesOf = new Map(doc.nodes.map((n) => [n.name, []]));
    doc.virtualServices.forEach((vs, i) => {
      for (const rs of vs.realServers)
        for (const { target } of serverTargets(vs.name, rs)) this.serviceOf.set(target, i);
      for (const node of this.membersOf[i] ?? []) this.servicesOf.get(node)?.push(i);
    });
    this.desired = doc.virtualServices.map(() => null);
  }

  /**
   * Recomputes the services that the `changed` targets belong to, or every service when
   * `changed` is omitted or nothing was computed yet.
   */
  update(verdict: (target: string) => VoteState, changed?: Iterable<string>): Recomputed {
    const all = changed === undefined || this.desired.includes(null);
    const indexes = all ? this.doc.virtualServices.map((_, i) => i) : this.indexesOf(changed);
    const out: Recomputed = { services: [], nodes: new Set() };
    for (const i of indexes) {
      const vs = this.doc.virtualServices[i];
      if (!vs) continue;
      const table = desiredService(vs, verdict);
      this.desired[i] = { table, json: JSON.stringify(table) };
      out.services.push({ service: vs, table });
      for (const node of this.membersOf[i] ?? []) out.nodes.add(node);
    }
    return out;
  }

  /** Every node of the configuration, each of which has tables (maybe empty). */
  nodes(): string[] {
    return [...this.servicesOf.keys()];
  }

  /** The node's services, as of the last update, with their JSON (the same as JSON.stringify of the list). */
  tables(node: string): { services: DesiredService[]; json: string } {
    const computed = (this.servicesOf.get(node) ?? []).map((i) => this.desired[i]).filter((d) => d != null);
    return { services: computed.map((d) => d.table), json: `[${computed.map((d) => d.json).join(",")}]` };
  }

  private indexesOf(targets: Iterable<string>): number[] {
    const indexes = new Set<number>();
    for (const target of targets) {
      const i = this.serviceOf.get(target);
      if (i !== undefined) indexes.add(i);
    }
    return [...indexes].sort((a, b) => a - b);
  }
}
