import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ClusterDocument, emptyCluster, validateCluster } from "../../src/core/cluster.js";

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

/** Applies `edit` to a copy of the example and returns the cross-reference issues, as [field, code, message]. */
function refIssues(edit: (doc: any) => void): [string, string, string][] {
  const raw = example();
  edit(raw);
  const doc = ClusterDocument.parse(raw);
  return validateCluster(doc).map((i) => [i.field, i.code, i.message]);
}

describe("validateCluster", () => {
  it.each<[string, (doc: any) => void, [string, string, string][]]>([
    [
      "unknown member node",
      (d) => (d.vipGroups[0].members[1].node = "lb9"),
      [["vipGroups[0].members[1].node", "unknown_reference", "no node named lb9 in this cluster"]],
    ],
    [
      "unknown tracked check",
      (d) => (d.vipGroups[0].track = [{ check: "nope", weight: -20 }]),
      [["vipGroups[0].track[0].check", "unknown_reference", "no check named nope in this cluster"]],
    ],
    [
      "unknown VIP group",
      (d) => (d.virtualServices[0].vipGroup = "VI_9"),
      [["virtualServices[0].vipGroup", "unknown_reference", "no VIP group named VI_9 in this cluster"]],
    ],
    [
      "address not a VIP",
      (d) => (d.virtualServices[0].address = "192.168.88.99"),
      [["virtualServices[0].address", "unknown_reference", "192.168.88.99 is not a VIP of group VI_1"]],
    ],
    [
      "unknown real server check",
      (d) => (d.virtualServices[0].realServers[0].check = "gone"),
      [["virtualServices[0].realServers[0].check", "unknown_reference", "no check named gone in this cluster"]],
    ],
    [
      "unknown check among a real server's checks",
      (d) => {
        const rs = d.virtualServices[0].realServers[0];
        rs.checks = [rs.check, "gone"];
        delete rs.check;
      },
      [["virtualServices[0].realServers[0].checks[1]", "unknown_reference", "no check named gone in this cluster"]],
    ],
    [
      "unknown agent observer",
      (d) => (d.checks[0].observers.agents = ["lb3"]),
      [["checks[0].observers.agents[0]", "unknown_reference", "no node named lb3 in this cluster"]],
    ],
    [
      "duplicate node",
      (d) => d.nodes.push({ ...d.nodes[0] }),
      [["nodes[2].name", "duplicate_name", "lb1 is already used by another entry"]],
    ],
    [
      "two services on one endpoint",
      (d) => d.virtualServices.push({ ...d.virtualServices[0], name: "web-again" }),
      [["virtualServices[1].port", "duplicate_name", "tcp 192.168.88.15:80 is already served by web"]],
    ],
    [
      "unknown group in a sync group",
      (d) => (d.syncGroups = [{ name: "s", vipGroups: ["VI_1", "VI_2"] }]),
      [["syncGroups[0].vipGroups[1]", "unknown_reference", "no VIP group named VI_2 in this cluster"]],
    ],
    [
      "a tracked tcp check without its own port",
      (d) => {
        d.checks.push({ name: "sshd", type: "tcp", observers: { regions: ["weur"] } });
        d.vipGroups[0].track = [{ check: "sshd", weight: 0 }];
      },
      [
        [
          "vipGroups[0].track[0].check",
          "invalid_field",
          "tracked check sshd runs on each member's own address: give it a connectPort",
        ],
      ],
    ],
    [
      "a tracked tcp check with its own port",
      (d) => {
        d.checks.push({ name: "sshd", type: "tcp", connectPort: 22, observers: { regions: ["weur"] } });
        d.vipGroups[0].track = [{ check: "sshd", weight: 0 }];
      },
      [],
    ],
    [
      "one VIP in two VIP groups, spelled with another prefix",
      (d) =>
        d.vipGroups.push({ ...d.vipGroups[0], name: "VI_2", vips: [{ cidr: "192.168.88.15/32", interface: "eth1" }] }),
      [
        [
          "vipGroups[1].vips[0].cidr",
          "duplicate_vip",
          "VIP 192.168.88.15 is already in VIP group VI_1; it cannot be in VI_2 too",
        ],
      ],
    ],
    [
      "two services on one firewall mark",
      (d) => {
        const { address: _a, port: _p, ...rest } = d.virtualServices[0];
        d.virtualServices = [
          { ...rest, name: "m1", fwmark: 5 },
          { ...rest, name: "m2", fwmark: 5 },
        ];
      },
      [["virtualServices[1].fwmark", "duplicate_name", "fwmark 5 is already served by m1"]],
    ],
    [
      "one address on two ports, and a UDP service on a TCP one's port",
      (d) => {
        d.virtualServices.push({ ...d.virtualServices[0], name: "w2", port: 8080, forwarding: "nat" });
        d.virtualServices.push({ ...d.virtualServices[0], name: "w3", protocol: "udp" });
      },
      [],
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
      ["syncGroups[1].vipGroups[0]", "invalid_field", "VI_2 is already in sync group a"],
      ["syncGroups[1].vipGroups[1]", "invalid_field", "VI_1 is already in sync group a"],
    ]);
  });
});

describe("LVS connection sync", () => {
  it("is off unless set; set, its syncid defaults to 0, and a bad interface is named", () => {
    expect(ClusterDocument.parse(example()).vipGroups[0]?.lvsSync).toBeUndefined();
    const raw = example();
    raw.vipGroups[0].lvsSync = { interface: "eth1" };
    expect(ClusterDocument.parse(raw).vipGroups[0]?.lvsSync).toEqual({ interface: "eth1", syncId: 0 });
    raw.vipGroups[0].lvsSync = { interface: "eth1", syncId: 256 };
    const bad = ClusterDocument.safeParse(raw);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["vipGroups.0.lvsSync.syncId"]);
  });

  it("refuses a second VIP group with lvsSync on the same director, naming the node and the group", () => {
    const second = (d: any, members: { node: string; priority: number }[]) => {
      d.vipGroups[0].lvsSync = { interface: "eth1", syncId: 5 };
      d.vipGroups.push({
        ...d.vipGroups[0],
        name: "VI_2",
        members,
        vips: [{ cidr: "192.168.88.16/24", interface: "eth0" }],
      });
    };
    expect(refIssues((d) => second(d, d.vipGroups[0].members))).toEqual([
      [
        "vipGroups[1].lvsSync",
        "invalid_field",
        "node lb1 already syncs connections for VIP group VI_1: a director runs one sync daemon, so one of its groups may set lvsSync",
      ],
    ]);
    // Other directors may sync their own group.
    const elsewhere = (d: any) => {
      d.nodes.push({ ...d.nodes[0], name: "lb3", address: "192.168.88.3" });
      second(d, [{ node: "lb3", priority: 100 }]);
    };
    expect(refIssues(elsewhere)).toEqual([]);
  });
});

describe("a new cluster", () => {
  it("holds nothing but its settings", () => {
    const settings = ClusterDocument.parse({ cluster: { name: "c" } }).cluster;
    expect(emptyCluster(settings)).toEqual({
      cluster: settings,
      nodes: [],
      checks: [],
      vipGroups: [],
      syncGroups: [],
      virtualServices: [],
    });
  });
});
