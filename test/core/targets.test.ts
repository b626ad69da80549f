/**
 * What is probed, by whom, where: a target per real server with a check, per member and tracked
 * check, per member and tracked interface; and when a vote goes stale.
 */
import { describe, expect, it } from "vitest";
import { ClusterDocument } from "../../src/core/cluster.js";
import {
  agentTargets,
  HEARTBEAT_MS,
  policyFor,
  regionTargets,
  staleAfterMs,
  targetsOf,
} from "../../src/core/targets.js";

const doc = ClusterDocument.parse({
  cluster: { name: "c" },
  nodes: [
    { name: "lb1", address: "10.0.0.11" },
    { name: "lb2", address: "10.0.0.12" },
  ],
  checks: [
    { name: "web", type: "http", observers: { regions: ["weur", "enam"] }, interval: 20 },
    { name: "alt", type: "tcp", connectPort: 8443, observers: { regions: ["weur"], agents: ["lb1"] }, quorum: 1 },
    { name: "up", type: "https", observers: { regions: ["enam"] } },
    { name: "proc", type: "process", observers: { agents: ["lb1"] } },
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
        { check: "up", weight: 0 },
        { check: "alt", weight: -10 },
      ],
      trackInterfaces: [{ interface: "eth1", weight: 0 }],
    },
    {
      name: "VI_2",
      vips: [{ cidr: "10.0.1.100/24", interface: "eth0" }],
      members: [{ node: "lb1", priority: 100 }],
      track: [{ check: "up", weight: 0 }],
      trackInterfaces: [{ interface: "eth1", weight: 0 }],
    },
  ],
  virtualServices: [
    {
      name: "www",
      vipGroup: "VI_1",
      address: "10.0.0.100",
      port: 80,
      realServers: [
        { name: "r1", address: "10.0.0.21", port: 8080, check: "web" },
        { name: "r2", address: "10.0.0.22", port: 8081, check: "alt" },
        { name: "r3", address: "10.0.0.23", port: 8082 },
      ],
    },
  ],
});

describe("targets", () => {
  it("probes each checked real server at its own port, or the check's, and each tracked check and interface once per member", () => {
    expect(targetsOf(doc).map((t) => [t.id, t.check.name, t.address, t.port, t.observers])).toEqual([
      ["www/r1", "web", "10.0.0.21", 8080, ["region:weur", "region:enam"]],
      ["www/r2", "alt", "10.0.0.22", 8443, ["region:weur", "agent:lb1"]],
      ["node:lb1/up", "up", "10.0.0.11", 443, ["region:enam", "agent:lb1"]],
      ["node:lb1/alt", "alt", "10.0.0.11", 8443, ["region:weur", "agent:lb1"]],
      ["node:lb1/interface.eth1", "interface.eth1", "10.0.0.11", 0, ["agent:lb1"]],
      ["node:lb2/up", "up", "10.0.0.12", 443, ["region:enam", "agent:lb2"]],
      ["node:lb2/alt", "alt", "10.0.0.12", 8443, ["region:weur", "agent:lb2"]],
      ["node:lb2/interface.eth1", "interface.eth1", "10.0.0.12", 0, ["agent:lb2"]],
    ]);
  });

  it("probes a real server with several checks once per check, as service/server/check", () => {
    const several = ClusterDocument.parse({
      ...doc,
      virtualServices: [
        {
          ...doc.virtualServices[0],
          realServers: [
            { name: "r1", address: "10.0.0.21", port: 8080, checks: ["web", "alt"] },
            { name: "r2", address: "10.0.0.22", port: 8081, checks: ["alt"] },
          ],
        },
      ],
    });
    expect(
      targetsOf(several)
        .filter((t) => t.id.startsWith("www/"))
        .map((t) => [t.id, t.check.name, t.port]),
    ).toEqual([
      ["www/r1/web", "web", 8080],
      ["www/r1/alt", "alt", 8443],
      ["www/r2", "alt", 8443],
    ]);
  });

  it("reads a tracked interface's link on the node itself, at once", () => {
    const iface = targetsOf(doc).find((t) => t.id === "node:lb2/interface.eth1")?.check;
    expect(iface).toMatchObject({
      type: "interface",
      interface: "eth1",
      interval: 1,
      timeout: 0.5,
      retries: 0,
      rise: 1,
      fall: 1,
      observers: { regions: [], agents: ["lb2"] },
    });
  });

  it("gives a region and an agent only the targets they observe", () => {
    expect(regionTargets(doc, "weur").map((t) => t.id)).toEqual(["www/r1", "www/r2", "node:lb1/alt", "node:lb2/alt"]);
    expect(agentTargets(doc, "lb2").map((t) => t.id)).toEqual([
      "node:lb2/up",
      "node:lb2/alt",
      "node:lb2/interface.eth1",
    ]);
  });

  it("lets a vote count for three intervals, or three heartbeats when the interval is shorter", () => {
    const [r1, r2] = targetsOf(doc);
    if (!r1 || !r2) throw new Error("no targets");
    expect(staleAfterMs(r1.check)).toBe(60_000);
    expect(staleAfterMs(r2.check)).toBe(3 * HEARTBEAT_MS);
    expect(policyFor(r2)).toEqual({ eligible: ["region:weur", "agent:lb1"], quorum: 1, maxAgeMs: 15_000 });
  });

  it("lists each eligible observer once, as the quorum counts them", () => {
    const [, r2] = targetsOf(doc);
    if (!r2) throw new Error("no targets");
    const twice = { ...r2, observers: ["region:weur", "agent:lb1", "region:weur"] };
    expect(policyFor(twice).eligible).toEqual(["region:weur", "agent:lb1"]);
  });
});
