import { describe, expect, it } from "vitest";
import { ClusterDocument } from "../../src/core/cluster.js";
import { candidates, faultsOf, leaseUnits, specFor } from "../../src/core/lease-units.js";
import { targetsOf, trackedTargetId } from "../../src/core/targets.js";
import type { VoteState } from "../../src/core/vote.js";

const doc = ClusterDocument.parse({
  cluster: { name: "c" },
  nodes: [
    { name: "lb1", address: "10.0.0.11" },
    { name: "lb2", address: "10.0.0.12" },
    { name: "lb3", address: "10.0.0.13" },
  ],
  checks: [
    { name: "haproxy", type: "process", observers: { agents: ["lb1"] } },
    { name: "uplink", type: "icmp", observers: { agents: ["lb1"] } },
  ],
  vipGroups: [
    {
      name: "VI_1",
      vips: [{ cidr: "10.0.0.100/24", interface: "eth0" }],
      members: [
        { node: "lb1", priority: 100 },
        { node: "lb2", priority: 90 },
      ],
      track: [
        { check: "haproxy", weight: 0 },
        { check: "uplink", weight: -20 },
      ],
      leaseTtl: 2,
    },
    {
      name: "VI_2",
      vips: [{ cidr: "10.0.1.100/24", interface: "eth1" }],
      members: [
        { node: "lb1", priority: 100 },
        { node: "lb2", priority: 90 },
        { node: "lb3", priority: 80 },
      ],
      preempt: false,
      leaseTtl: 3,
    },
    {
      name: "VI_3",
      vips: [{ cidr: "10.0.2.100/24", interface: "eth0" }],
      members: [{ node: "lb3", priority: 50 }],
      preemptDelay: 10,
    },
  ],
  syncGroups: [{ name: "SG", vipGroups: ["VI_1", "VI_2"] }],
  virtualServices: [],
});

describe("lease units", () => {
  it("makes a sync group one unit of all its VIPs, with the members they share", () => {
    const units = leaseUnits(doc);
    expect(units.map((u) => u.name)).toEqual(["SG", "VI_3"]);
    const [sg, vi3] = units;
    expect(sg?.spec.vips.map((v) => v.cidr)).toEqual(["10.0.0.100/24", "10.0.1.100/24"]);
    expect(sg?.members).toEqual([
      { node: "lb1", priorities: [100, 100] },
      { node: "lb2", priorities: [90, 90] },
    ]);
    // The shortest TTL, preempt only if every group preempts, a node must be eligible one TTL first.
    expect(sg?.config).toEqual({
      ttlMs: 2000,
      graceMs: 300,
      marginMs: 200,
      drift: 0.01,
      preempt: false,
      preemptDelayMs: 2000,
    });
    expect(sg?.spec).toMatchObject({
      onCoordinatorLoss: "quorum",
      members: [
        { node: "lb1", peerPort: 7441, publicKey: null, priority: 200 },
        { node: "lb2", peerPort: 7441, publicKey: null, priority: 180 },
      ],
      track: [],
    });
    expect(vi3?.config).toMatchObject({ ttlMs: 3000, preempt: true, preemptDelayMs: 10_000 });
  });

  it.each([
    [["quorum", "release"], "release"],
    [["hold", "quorum"], "quorum"],
    [["hold", "hold"], "hold"],
  ] as const)("a sync group of %j groups runs on the safest of them: %s", (policies, want) => {
    const mixed = ClusterDocument.parse({
      ...doc,
      vipGroups: doc.vipGroups.map((g, i) => ({ ...g, onCoordinatorLoss: policies[i] ?? "quorum" })),
    });
    expect(leaseUnits(mixed).find((u) => u.name === "SG")?.spec.onCoordinatorLoss).toBe(want);
  });

  it("carries a group's lvsSync into its unit, the sync group's included, and none where no group sets it", () => {
    const synced = ClusterDocument.parse({
      ...doc,
      vipGroups: doc.vipGroups.map((g) =>
        g.name === "VI_2" ? { ...g, lvsSync: { interface: "eth1", syncId: 7 } } : g,
      ),
    });
    const units = leaseUnits(synced);
    expect(units.find((u) => u.name === "SG")?.spec.lvsSync).toEqual({ interface: "eth1", syncId: 7 });
    expect(specFor(units[0] as (typeof units)[0], "lb1", new Map()).lvsSync).toEqual({ interface: "eth1", syncId: 7 });
    expect(units.find((u) => u.name === "VI_3")?.spec).not.toHaveProperty("lvsSync");
  });

  it("gives each member its peers' keys and its own tracked targets", () => {
    const [sg] = leaseUnits(doc);
    if (!sg) throw new Error("no unit");
    const spec = specFor(sg, "lb1", new Map([["lb2", "k".repeat(43)]]));
    expect(spec.members.map((m) => m.publicKey)).toEqual([null, "k".repeat(43)]);
    expect(spec.track.map((t) => t.target).every((t) => t.startsWith("node:lb1/"))).toBe(true);
    expect(spec.track.length).toBeGreaterThan(0);
  });

  it.each<[string, Record<string, VoteState>, { lb1: [boolean, number]; lb2: [boolean, number] }]>([
    ["nothing known yet", {}, { lb1: [true, 200], lb2: [true, 180] }],
    ["lb1's haproxy down (weight 0: fault)", { "lb1/haproxy": "down" }, { lb1: [false, 200], lb2: [true, 180] }],
    ["lb1's uplink down (weight -20)", { "lb1/uplink": "down" }, { lb1: [true, 180], lb2: [true, 180] }],
    [
      "everything up",
      { "lb1/haproxy": "up", "lb1/uplink": "up", "lb2/uplink": "up" },
      { lb1: [true, 200], lb2: [true, 180] },
    ],
  ])("candidates when %s", (_name, states, want) => {
    const [sg] = leaseUnits(doc);
    if (!sg) throw new Error("no unit");
    const verdict = (target: string) => {
      const key = Object.keys(states).find((k) => {
        const [node, check] = k.split("/");
        return trackedTargetId(node ?? "", check ?? "") === target;
      });
      return key ? (states[key] ?? "unknown") : "unknown";
    };
    const view = candidates(sg, () => ({ live: true, drained: false }), verdict);
    expect(view.map((c) => [c.node, c.eligible, c.priority])).toEqual([
      ["lb1", ...want.lb1],
      ["lb2", ...want.lb2],
    ]);
  });

  it("says why a member cannot hold the unit", () => {
    const [sg] = leaseUnits(doc);
    if (!sg) throw new Error("no unit");
    const view = candidates(
      sg,
      (node) => ({ live: node !== "lb2", drained: node === "lb2" }),
      (target) => (target === trackedTargetId("lb1", "haproxy") ? "down" : "up"),
    );
    expect(view.map((c) => c.reasons)).toEqual([
      ["tracked check haproxy is down"],
      ["agent not connected or not asking for the lease", "drained"],
    ]);
  });

  it("tracks interfaces as keepalived's track_interface does: weight 0 faults, a weight moves the priority", () => {
    const tracked = ClusterDocument.parse({
      cluster: { name: "c" },
      nodes: [
        { name: "lb1", address: "10.0.0.11" },
        { name: "lb2", address: "10.0.0.12" },
      ],
      vipGroups: [
        {
          name: "VI_1",
          vips: [{ cidr: "10.0.0.100/24", interface: "eth0" }],
          members: [
            { node: "lb1", priority: 100 },
            { node: "lb2", priority: 90 },
          ],
          trackInterfaces: [
            { interface: "eth0", weight: 0 },
            { interface: "eth1", weight: -20 },
          ],
        },
      ],
    });
    const [unit] = leaseUnits(tracked);
    if (!unit) throw new Error("no unit");
    const targets = targetsOf(tracked);
    expect(targets.map((t) => [t.id, t.check.type, t.observers])).toEqual([
      ["node:lb1/interface.eth0", "interface", ["agent:lb1"]],
      ["node:lb1/interface.eth1", "interface", ["agent:lb1"]],
      ["node:lb2/interface.eth0", "interface", ["agent:lb2"]],
      ["node:lb2/interface.eth1", "interface", ["agent:lb2"]],
    ]);
    const down = new Set(["node:lb1/interface.eth1", "node:lb2/interface.eth0"]);
    const view = candidates(
      unit,
      () => ({ live: true, drained: false }),
      (t) => (down.has(t) ? "down" : "up"),
    );
    expect(view.map((c) => [c.node, c.eligible, c.priority, c.reasons])).toEqual([
      ["lb1", true, 80, []],
      ["lb2", false, 90, ["interface eth0 is down"]],
    ]);
    const verdict = (t: string) => (down.has(t) ? "down" : "up");
    expect([faultsOf(unit, "lb1", verdict), faultsOf(unit, "lb2", verdict)]).toEqual([[], ["interface eth0"]]);
  });

  const hook = (path: string) => ({ master: { path, args: [] } });
  const wired = ClusterDocument.parse({
    cluster: { name: "c" },
    nodes: [
      { name: "lb1", address: "10.0.0.11" },
      { name: "lb2", address: "10.0.0.12", peerPort: 7500 },
      { name: "lb3", address: "10.0.0.13" },
    ],
    checks: [{ name: "web", type: "tcp", observers: { agents: ["lb1", "lb2"] } }],
    vipGroups: [
      {
        name: "BIG",
        vips: [{ cidr: "10.0.1.100/24", interface: "eth1" }],
        members: [
          { node: "lb1", priority: 100 },
          { node: "lb2", priority: 90 },
          { node: "lb3", priority: 80 },
        ],
        track: [{ check: "web", weight: 15 }],
        notify: hook("/etc/vigil/big.sh"),
      },
      {
        name: "SMALL",
        vips: [{ cidr: "10.0.0.100/24", interface: "eth0" }],
        members: [
          { node: "lb2", priority: 90 },
          { node: "lb1", priority: 100 },
        ],
        notify: hook("/etc/vigil/small.sh"),
      },
      {
        name: "ALONE",
        vips: [{ cidr: "10.0.2.100/24", interface: "eth0" }],
        members: [{ node: "lb3", priority: 50 }],
        notify: hook("/etc/vigil/alone.sh"),
      },
    ],
    syncGroups: [{ name: "SG", vipGroups: ["BIG", "SMALL"], notify: hook("/etc/vigil/sg.sh") }],
  });

  it("keeps only the members every group of a sync group has, whichever group is listed first", () => {
    const [sg] = leaseUnits(wired);
    expect(sg?.members).toEqual([
      { node: "lb1", priorities: [100, 100] },
      { node: "lb2", priorities: [90, 90] },
    ]);
  });

  it("gives each member its node's address and peer port, and each unit its groups' hooks, then the sync group's", () => {
    const [sg, alone] = leaseUnits(wired);
    expect(sg?.spec.members.map((m) => [m.node, m.address, m.peerPort])).toEqual([
      ["lb1", "10.0.0.11", 7441],
      ["lb2", "10.0.0.12", 7500],
    ]);
    expect(sg?.spec.notify.map((n) => n.master?.path)).toEqual([
      "/etc/vigil/big.sh",
      "/etc/vigil/small.sh",
      "/etc/vigil/sg.sh",
    ]);
    expect(alone?.spec.notify.map((n) => n.master?.path)).toEqual(["/etc/vigil/alone.sh"]);
  });

  it("makes no unit of a sync group that names no known VIP group", () => {
    const odd: ClusterDocument = {
      ...wired,
      syncGroups: [{ ...(wired.syncGroups[0] as ClusterDocument["syncGroups"][number]), vipGroups: ["GONE"] }],
    };
    expect(leaseUnits(odd).map((u) => u.name)).toEqual(["BIG", "SMALL", "ALONE"]);
  });

  it.each<[VoteState, number]>([
    ["up", 115],
    ["degraded", 115],
    ["unknown", 100],
    ["down", 100],
  ])("adds a positive track weight only on a verdict of up or degraded: %s", (state, priority) => {
    const [sg] = leaseUnits(wired);
    if (!sg) throw new Error("no unit");
    const view = candidates(
      sg,
      () => ({ live: true, drained: false }),
      (t) => (t === trackedTargetId("lb1", "web") ? state : "unknown"),
    );
    // lb1: 100 in BIG (plus the weight) and 100 in SMALL.
    expect(view.find((c) => c.node === "lb1")).toMatchObject({ eligible: true, priority: priority + 100 });
  });
});
