import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ClusterDocument, validateCluster } from "../../src/core/cluster.js";

const example = () => JSON.parse(readFileSync("examples/classic-lvs.json", "utf8"));

describe("the example cluster document", () => {
  it("is the classic keepalived + LVS pair", () => {
    const doc = ClusterDocument.parse(example());
    expect(validateCluster(doc)).toEqual([]);
    const [group] = doc.vipGroups;
    expect(group?.vips.map((v) => v.cidr)).toEqual(["192.168.88.15/24"]);
    expect(group?.members.map((m) => [m.node, m.priority])).toEqual([
      ["lb1", 100],
      ["lb2", 50],
    ]);
    const [vs] = doc.virtualServices;
    expect(vs).toMatchObject({ port: 80, scheduler: "wrr", forwarding: "dr", address: "192.168.88.15" });
    expect(vs?.realServers.map((r) => r.weight)).toEqual([1, 2]);
    const check = doc.checks.find((c) => c.name === vs?.realServers[0]?.check);
    expect(check).toMatchObject({ type: "tcp", timeout: 3, retries: 3 });
  });

  it("fills keepalived-like defaults", () => {
    const doc = ClusterDocument.parse(example());
    expect(doc.vipGroups[0]).toMatchObject({
      preempt: true,
      leaseTtl: 3,
      onCoordinatorLoss: "quorum",
      garp: { count: 5, interval: 0.2, refresh: 0 },
    });
  });
});

/** Applies `edit` to a copy of the example and returns the cross-reference issues, as [field, code]. */
function refIssues(edit: (doc: any) => void): [string, string][] {
  const raw = example();
  edit(raw);
  const doc = ClusterDocument.parse(raw);
  return validateCluster(doc).map((i) => [i.field, i.code]);
}

describe("validateCluster", () => {
  it.each<[string, (doc: any) => void, [string, string][]]>([
    [
      "unknown member node",
      (d) => (d.vipGroups[0].members[1].node = "lb9"),
      [["vipGroups[0].members[1].node", "unknown_reference"]],
    ],
    [
      "unknown tracked check",
      (d) => (d.vipGroups[0].track = [{ check: "nope", weight: -20 }]),
      [["vipGroups[0].track[0].check", "unknown_reference"]],
    ],
    [
      "unknown VIP group",
      (d) => (d.virtualServices[0].vipGroup = "VI_9"),
      [["virtualServices[0].vipGroup", "unknown_reference"]],
    ],
    [
      "address not a VIP",
      (d) => (d.virtualServices[0].address = "192.168.88.99"),
      [["virtualServices[0].address", "unknown_reference"]],
    ],
    [
      "unknown real server check",
      (d) => (d.virtualServices[0].realServers[0].check = "gone"),
      [["virtualServices[0].realServers[0].check", "unknown_reference"]],
    ],
    [
      "unknown agent observer",
      (d) => (d.checks[0].observers.agents = ["lb3"]),
      [["checks[0].observers.agents[0]", "unknown_reference"]],
    ],
    ["duplicate node", (d) => d.nodes.push({ ...d.nodes[0] }), [["nodes[2].name", "duplicate_name"]]],
    [
      "two services on one endpoint",
      (d) => d.virtualServices.push({ ...d.virtualServices[0], name: "web-again" }),
      [["virtualServices[1].port", "duplicate_name"]],
    ],
    [
      "unknown group in a sync group",
      (d) => (d.syncGroups = [{ name: "s", vipGroups: ["VI_1", "VI_2"] }]),
      [["syncGroups[0].vipGroups[1]", "unknown_reference"]],
    ],
  ])("%s", (_name, edit, expected) => {
    expect(refIssues(edit)).toEqual(expected);
  });

  it("refuses a VIP group in two sync groups", () => {
    const issues = refIssues((d) => {
      d.vipGroups.push({ ...d.vipGroups[0], name: "VI_2", vips: [{ cidr: "192.168.88.16/24", interface: "eth0" }] });
      d.syncGroups = [
        { name: "a", vipGroups: ["VI_1", "VI_2"] },
        { name: "b", vipGroups: ["VI_2", "VI_1"] },
      ];
    });
    expect(issues).toEqual([
      ["syncGroups[1].vipGroups[0]", "invalid_field"],
      ["syncGroups[1].vipGroups[1]", "invalid_field"],
    ]);
  });
});
