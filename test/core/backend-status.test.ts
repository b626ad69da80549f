import { describe, expect, it } from "vitest";
import { type ActualServer, differences } from "../../src/core/backend-status.js";
import { desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";

const desired = (over: Record<string, unknown> = {}) =>
  desiredService(
    VirtualService.parse({
      name: "web",
      vipGroup: "VI_1",
      address: "10.0.0.100",
      port: 80,
      scheduler: "wrr",
      realServers: [
        { name: "web1", address: "10.0.0.21", port: 80, weight: 3 },
        { name: "web2", address: "10.0.0.22", port: 80, weight: 1 },
      ],
      ...over,
    }),
    () => "up",
  );

const rs = (address: string, weight: number, more: Partial<ActualServer> = {}): ActualServer => ({
  address,
  port: 80,
  weight,
  ...more,
});

describe("desired vs actual", () => {
  it.each<
    [string, Record<string, unknown>, { scheduler?: string; present?: boolean; servers: ActualServer[] }, string[]]
  >([
    ["in step", {}, { scheduler: "wrr", servers: [rs("10.0.0.21", 3), rs("10.0.0.22", 1)] }, []],
    ["a server missing", {}, { scheduler: "wrr", servers: [rs("10.0.0.21", 3)] }, ["10.0.0.22:80 missing"]],
    [
      "a weight differs",
      {},
      { scheduler: "wrr", servers: [rs("10.0.0.21", 2), rs("10.0.0.22", 1)] },
      ["10.0.0.21:80 weight 2, want 3"],
    ],
    [
      "a server not wanted",
      {},
      { scheduler: "wrr", servers: [rs("10.0.0.21", 3), rs("10.0.0.22", 1), rs("10.0.0.23", 1)] },
      ["10.0.0.23:80 not wanted"],
    ],
    [
      "a server in maintenance counts as absent",
      { driver: { type: "haproxy", backend: "web" } },
      { servers: [rs("10.0.0.21", 3), rs("10.0.0.22", 1), rs("10.0.0.23", 1, { state: "maint" })] },
      [],
    ],
    [
      "a wanted server in maintenance is missing",
      { driver: { type: "haproxy", backend: "web" } },
      { servers: [rs("10.0.0.21", 3), rs("10.0.0.22", 1, { state: "maint" })] },
      ["10.0.0.22:80 missing"],
    ],
    [
      "the scheduler differs",
      {},
      { scheduler: "rr", servers: [rs("10.0.0.21", 3), rs("10.0.0.22", 1)] },
      ["scheduler rr, want wrr"],
    ],
    ["the service is missing", {}, { present: false, servers: [] }, ["service missing"]],
    [
      "a firewall-mark service compares addresses only",
      { address: undefined, port: undefined, fwmark: 5 },
      { scheduler: "wrr", servers: [rs("10.0.0.21", 3, { port: 0 }), rs("10.0.0.22", 1, { port: 0 })] },
      [],
    ],
  ])("%s", (_name, over, actual, expected) => {
    expect(differences(desired(over), { service: "web", present: actual.present ?? true, ...actual })).toEqual(
      expected,
    );
  });
});
