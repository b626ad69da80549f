/** DesiredTables, updated one verdict change at a time, always answers what desiredBackends would. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { desiredBackends } from "../../src/core/backends.js";
import { ClusterDocument } from "../../src/core/cluster.js";
import { DesiredTables } from "../../src/core/desired-tables.js";
import { serverTargets } from "../../src/core/virtual-service.js";
import { VOTE_STATES, type VoteState } from "../../src/core/vote.js";

const CHECKS = [[], ["http"], ["tcp", "http"]] as const;

const documents = fc
  .array(
    fc.record({
      group: fc.constantFrom("VI_1", "VI_2"),
      inhibitOnFailure: fc.boolean(),
      minHealthy: fc.nat({ max: 3 }),
      sorry: fc.boolean(),
      servers: fc.array(fc.constantFrom(0, 1, 2), { minLength: 1, maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((services) =>
    ClusterDocument.parse({
      cluster: { name: "c" },
      nodes: ["lb1", "lb2", "lb3", "lb4"].map((name, i) => ({ name, address: `10.0.0.${11 + i}` })),
      checks: ["http", "tcp"].map((name) => ({ name, type: name, observers: { agents: ["lb1"] } })),
      vipGroups: [
        { name: "VI_1", members: ["lb1", "lb2"] },
        { name: "VI_2", members: ["lb2", "lb3"] },
      ].map((g, i) => ({
        name: g.name,
        vips: [{ cidr: `10.0.${i}.100/24`, interface: "eth0" }],
        members: g.members.map((node, p) => ({ node, priority: 100 - p })),
      })),
      virtualServices: services.map((s, v) => ({
        name: `s${v}`,
        vipGroup: s.group,
        address: `10.0.9.${v + 1}`,
        port: 80,
        inhibitOnFailure: s.inhibitOnFailure,
        minHealthy: Math.min(s.minHealthy, s.servers.length),
        ...(s.sorry ? { sorryServer: { address: "10.0.9.99" } } : {}),
        realServers: s.servers.map((c, r) => ({
          name: `r${r}`,
          address: `10.0.8.${r + 1}`,
          port: 80,
          ...(CHECKS[c].length === 1 ? { check: CHECKS[c][0] } : CHECKS[c].length > 1 ? { checks: CHECKS[c] } : {}),
        })),
      })),
    }),
  );

/** Every target the document's services could name, and some it does not. */
function targetsOf(doc: ClusterDocument): string[] {
  const names = doc.virtualServices.flatMap((vs) =>
    vs.realServers.flatMap((rs) => [
      `${vs.name}/${rs.name}`,
      `${vs.name}/${rs.name}/tcp`,
      `${vs.name}/${rs.name}/http`,
    ]),
  );
  return [...names, "nowhere/r0"];
}

function expectSame(tables: DesiredTables, doc: ClusterDocument, verdict: (t: string) => VoteState): void {
  const want = desiredBackends(doc, verdict);
  expect(tables.nodes()).toEqual([...want.keys()]);
  for (const [node, services] of want) {
    const got = tables.tables(node);
    expect(got.services).toEqual(services);
    expect(got.json).toBe(JSON.stringify(services));
  }
}

describe("desired tables, kept up to date", () => {
  it("answer what desiredBackends would after every verdict change", () => {
    fc.assert(
      fc.property(
        documents.chain((doc) =>
          fc.tuple(
            fc.constant(doc),
            fc.array(
              fc.array(fc.tuple(fc.constantFrom(...targetsOf(doc)), fc.constantFrom(...VOTE_STATES)), { maxLength: 3 }),
              {
                maxLength: 12,
              },
            ),
          ),
        ),
        ([doc, steps]) => {
          const states = new Map<string, VoteState>();
          const verdict = (t: string) => states.get(t) ?? "unknown";
          const tables = new DesiredTables(doc);
          tables.update(verdict);
          expectSame(tables, doc, verdict);
          for (const step of steps) {
            for (const [target, state] of step) states.set(target, state);
            const { services, nodes } = tables.update(
              verdict,
              step.map(([target]) => target),
            );
            expectSame(tables, doc, verdict);
            // What it recomputed is the services that check a changed target, and whoever programs them.
            const changed = new Set(step.map(([t]) => t));
            const named = doc.virtualServices.filter((vs) =>
              vs.realServers.some((rs) => serverTargets(vs.name, rs).some(({ target }) => changed.has(target))),
            );
            expect(services.map((s) => s.table.name)).toEqual(named.map((vs) => vs.name));
            const members = new Set(
              named.flatMap(
                (vs) => doc.vipGroups.find((g) => g.name === vs.vipGroup)?.members.map((m) => m.node) ?? [],
              ),
            );
            expect(nodes).toEqual(members);
          }
          // And a full update after all those steps, told nothing of what changed.
          for (const target of targetsOf(doc)) states.set(target, "down");
          expect(tables.update(verdict).services).toHaveLength(doc.virtualServices.length);
          expectSame(tables, doc, verdict);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("computes every service the first time, whatever it is told changed", () => {
    const doc = fc.sample(documents, { numRuns: 1, seed: 7 })[0] as ClusterDocument;
    const tables = new DesiredTables(doc);
    const { services } = tables.update(() => "up", ["nowhere/r0"]);
    expect(services.map((s) => s.table.name)).toEqual(doc.virtualServices.map((vs) => vs.name));
    expectSame(tables, doc, () => "up");
  });

  it("gives no node a service whose VIP group is gone", () => {
    const doc = fc.sample(documents, { numRuns: 1, seed: 3 })[0] as ClusterDocument;
    const orphaned: ClusterDocument = {
      ...doc,
      virtualServices: doc.virtualServices.map((vs) => ({ ...vs, vipGroup: "GONE" })),
    };
    const tables = new DesiredTables(orphaned);
    const { nodes } = tables.update(() => "down");
    expect(nodes.size).toBe(0);
    expectSame(tables, orphaned, () => "down");
  });
});
