import { describe, expect, it } from "vitest";
import { desiredBackends, desiredService } from "../../src/core/backends.js";
import { ClusterDocument } from "../../src/core/cluster.js";
import { VirtualService } from "../../src/core/virtual-service.js";
import type { VoteState } from "../../src/core/vote.js";

const service = (over: Record<string, unknown> = {}) =>
  VirtualService.parse({
    name: "web",
    vipGroup: "VI_1",
    address: "10.0.0.100",
    port: 80,
    minHealthy: 2,
    sorryServer: { address: "10.0.0.99" },
    realServers: [
      { name: "web1", address: "10.0.0.21", port: 80, weight: 3, check: "http" },
      { name: "web2", address: "10.0.0.22", port: 80, weight: 1, check: "http" },
      { name: "web3", address: "10.0.0.23", port: 80, weight: 2 },
    ],
    ...over,
  });

const verdicts = (states: Record<string, VoteState>) => (target: string) => states[target] ?? "unknown";
const shape = (s: ReturnType<typeof desiredService>) => s.servers.map((r) => `${r.name}:${r.weight}:${r.role}`);

describe("desired backend tables", () => {
  it.each<[string, Record<string, unknown>, Record<string, VoteState>, string[], number, boolean]>([
    ["all healthy or unknown", {}, { "web/web1": "up" }, ["web1:3:active", "web2:1:active", "web3:2:active"], 3, false],
    ["a down server is removed", {}, { "web/web1": "down" }, ["web2:1:active", "web3:2:active"], 2, false],
    [
      "inhibit on failure keeps it with weight 0",
      { inhibitOnFailure: true },
      { "web/web1": "down" },
      ["web1:0:inhibited", "web2:1:active", "web3:2:active"],
      2,
      false,
    ],
    ["below the minimum is reported", {}, { "web/web1": "down", "web/web2": "down" }, ["web3:2:active"], 1, true],
    [
      "the sorry server takes over when none is healthy",
      { realServers: [{ name: "web1", address: "10.0.0.21", port: 80, check: "http" }], minHealthy: 1 },
      { "web/web1": "down" },
      ["sorry:1:sorry"],
      0,
      true,
    ],
    [
      "a server with several checks is up while all of them are",
      { realServers: [{ name: "web1", address: "10.0.0.21", port: 80, checks: ["tcp", "http"] }], minHealthy: 1 },
      { "web/web1/tcp": "up", "web/web1/http": "up" },
      ["web1:1:active"],
      1,
      false,
    ],
    [
      "and down when any one is",
      { realServers: [{ name: "web1", address: "10.0.0.21", port: 80, checks: ["tcp", "http"] }], minHealthy: 1 },
      { "web/web1/tcp": "up", "web/web1/http": "down" },
      ["sorry:1:sorry"],
      0,
      true,
    ],
    [
      "a one-check list is judged by service/server, as check is",
      { realServers: [{ name: "web1", address: "10.0.0.21", port: 80, checks: ["http"] }], minHealthy: 1 },
      { "web/web1": "down", "web/web1/http": "up" },
      ["sorry:1:sorry"],
      0,
      true,
    ],
  ])("%s", (_name, over, states, servers, healthy, below) => {
    const desired = desiredService(service(over), verdicts(states));
    expect(shape(desired)).toEqual(servers);
    expect(desired.healthy).toBe(healthy);
    expect(desired.belowMinimum).toBe(below);
  });

  it("gives every member of the VIP group the same tables", () => {
    const doc = ClusterDocument.parse({
      cluster: { name: "c" },
      nodes: [
        { name: "lb1", address: "10.0.0.11" },
        { name: "lb2", address: "10.0.0.12" },
        { name: "lb3", address: "10.0.0.13" },
      ],
      checks: [{ name: "http", type: "http", observers: { agents: ["lb1"] } }],
      vipGroups: [
        {
          name: "VI_1",
          vips: [{ cidr: "10.0.0.100/24", interface: "eth0" }],
          members: [
            { node: "lb1", priority: 100 },
            { node: "lb2", priority: 50 },
          ],
        },
      ],
      virtualServices: [service()],
    });
    const tables = desiredBackends(doc, verdicts({ "web/web2": "down" }));
    expect(tables.get("lb1")).toEqual(tables.get("lb2"));
    expect(tables.get("lb1")?.map(shape)).toEqual([["web1:3:active", "web3:2:active"]]);
    expect(tables.get("lb3")).toEqual([]);
  });

  it("keeps a server without a check whatever a verdict under its name says", () => {
    expect(shape(desiredService(service(), verdicts({ "web/web3": "down" })))).toEqual([
      "web1:3:active",
      "web2:1:active",
      "web3:2:active",
    ]);
  });

  it("carries the service's own fields, and only those it has", () => {
    const byAddress = desiredService(service({ persistence: { timeout: 300 } }), verdicts({}));
    expect({ ...byAddress, servers: [] }).toStrictEqual({
      name: "web",
      driver: { type: "ipvs" },
      address: "10.0.0.100",
      port: 80,
      protocol: "tcp",
      scheduler: "wlc",
      forwarding: "nat",
      persistence: { timeout: 300 },
      servers: [],
      healthy: 3,
      belowMinimum: false,
    });
    const byMark = desiredService(
      service({ address: undefined, port: undefined, fwmark: 9, realServers: [], minHealthy: 0 }),
      verdicts({}),
    );
    expect(byMark).toStrictEqual({
      name: "web",
      driver: { type: "ipvs" },
      protocol: "tcp",
      fwmark: 9,
      scheduler: "wlc",
      forwarding: "nat",
      servers: [{ name: "sorry", address: "10.0.0.99", port: 0, weight: 1, role: "sorry" }],
      healthy: 0,
      belowMinimum: false,
    });
  });

  it.each<[string, Record<string, unknown>, number]>([
    ["on its own port", { sorryServer: { address: "10.0.0.99", port: 8080 } }, 8080],
    ["on the service's port when it names none", {}, 80],
  ])("puts the sorry server %s", (_name, over, port) => {
    const desired = desiredService(service({ ...over, realServers: [], minHealthy: 0 }), verdicts({}));
    expect(desired.servers).toEqual([{ name: "sorry", address: "10.0.0.99", port, weight: 1, role: "sorry" }]);
  });

  it("gives each service only to its own VIP group's members", () => {
    const doc = ClusterDocument.parse({
      cluster: { name: "c" },
      nodes: [
        { name: "lb1", address: "10.0.0.11" },
        { name: "lb2", address: "10.0.0.12" },
      ],
      checks: [{ name: "http", type: "http", observers: { agents: ["lb1"] } }],
      vipGroups: [
        {
          name: "VI_0",
          vips: [{ cidr: "10.0.1.100/24", interface: "eth0" }],
          members: [{ node: "lb1", priority: 100 }],
        },
        {
          name: "VI_1",
          vips: [{ cidr: "10.0.0.100/24", interface: "eth0" }],
          members: [{ node: "lb2", priority: 100 }],
        },
      ],
      virtualServices: [service()],
    });
    const tables = desiredBackends(doc, verdicts({}));
    expect([tables.get("lb1")?.length, tables.get("lb2")?.map((s) => s.name)]).toEqual([0, ["web"]]);
    const orphan: ClusterDocument = { ...doc, virtualServices: [service({ vipGroup: "GONE" })] };
    expect([...desiredBackends(orphan, verdicts({})).values()]).toEqual([[], []]);
  });
});
