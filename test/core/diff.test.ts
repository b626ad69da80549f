import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClusterDocument } from "../../src/core/cluster.js";
import { type Change, canonical, diffClusters } from "../../src/core/diff.js";

const node = (name: string, last: number) => ({ name, address: `10.0.0.${last}`, labels: {} });
const check = (name: string, interval: number) => ({ name, type: "tcp", interval, observers: { regions: ["weur"] } });

/** A document made of a subset of a small pool of nodes and checks, with varying settings. */
const documents = fc
  .record({
    description: fc.constantFrom("", "edge"),
    nodes: fc.uniqueArray(
      fc.record({ name: fc.constantFrom("a", "b", "c", "d"), last: fc.integer({ min: 1, max: 3 }) }),
      {
        selector: (n) => n.name,
      },
    ),
    checks: fc.uniqueArray(
      fc.record({ name: fc.constantFrom("x", "y", "z"), interval: fc.integer({ min: 5, max: 7 }) }),
      {
        selector: (c) => c.name,
      },
    ),
  })
  .map((d) =>
    ClusterDocument.parse({
      cluster: { name: "p", description: d.description },
      nodes: d.nodes.map((n) => node(n.name, n.last)),
      checks: d.checks.map((c) => check(c.name, c.interval)),
    }),
  );

const names = (changes: Change[], op: Change["op"], kind: Change["kind"]) =>
  changes
    .filter((c) => c.op === op && c.kind === kind)
    .map((c) => c.name)
    .sort();

describe("diffClusters", () => {
  it("finds nothing between a document and itself", () => {
    fc.assert(
      fc.property(documents, (doc) => {
        expect(diffClusters(doc, structuredClone(doc))).toEqual([]);
      }),
    );
  });

  it("creates, updates and deletes exactly what differs", () => {
    fc.assert(
      fc.property(documents, documents, (a, b) => {
        const changes = diffClusters(a, b);
        for (const [kind, key] of [
          ["node", "nodes"],
          ["check", "checks"],
        ] as const) {
          const before = new Map<string, object>(a[key].map((i) => [i.name, i]));
          const after = new Map<string, object>(b[key].map((i) => [i.name, i]));
          expect(names(changes, "create", kind)).toEqual([...after.keys()].filter((n) => !before.has(n)).sort());
          expect(names(changes, "delete", kind)).toEqual([...before.keys()].filter((n) => !after.has(n)).sort());
          const changed = [...after.keys()].filter(
            (n) => before.has(n) && canonical(before.get(n)) !== canonical(after.get(n)),
          );
          expect(names(changes, "update", kind)).toEqual(changed.sort());
        }
      }),
    );
  });

  it("treats a missing document as all creates, parents first", () => {
    const doc = ClusterDocument.parse({
      cluster: { name: "p" },
      nodes: [node("a", 1)],
      vipGroups: [
        { name: "g", vips: [{ cidr: "10.0.0.9/24", interface: "eth0" }], members: [{ node: "a", priority: 9 }] },
      ],
      virtualServices: [
        {
          name: "s",
          vipGroup: "g",
          address: "10.0.0.9",
          port: 80,
          realServers: [{ name: "r", address: "10.0.0.2", port: 80 }],
        },
      ],
    });
    expect(diffClusters(null, doc).map((c) => `${c.op} ${c.kind} ${c.name}`)).toEqual([
      "create cluster p",
      "create node a",
      "create vipGroup g",
      "create virtualService s",
      "create realServer s/r",
    ]);
    const emptied = { ...doc, nodes: [], vipGroups: [], virtualServices: [] };
    expect(diffClusters(doc, emptied).map((c) => `${c.op} ${c.kind} ${c.name}`)).toEqual([
      "delete realServer s/r",
      "delete virtualService s",
      "delete vipGroup g",
      "delete node a",
    ]);
  });

  it("names the fields of an update and ignores key order", () => {
    const a = ClusterDocument.parse({
      cluster: { name: "p" },
      nodes: [{ name: "a", address: "10.0.0.1", labels: { x: "1", y: "2" } }],
    });
    const b = ClusterDocument.parse({
      cluster: { name: "p" },
      nodes: [{ labels: { y: "2", x: "1" }, address: "10.0.0.2", name: "a" }],
    });
    expect(diffClusters(a, b)).toEqual([{ op: "update", kind: "node", name: "a", fields: ["address"] }]);
  });
});
