/**
 * The rules that span fields (a schema's refinements), each with every issue it raises: the
 * field it names and the message an operator reads.
 */
import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { Check } from "../../src/core/check.js";
import { formatPath } from "../../src/core/errors.js";
import { Labels } from "../../src/core/primitives.js";
import { SyncGroup, VipGroup } from "../../src/core/vip-group.js";
import { Persistence, VirtualService } from "../../src/core/virtual-service.js";

/** Every issue as `path: message`; empty when the value is good. */
function issues(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

const rs = (name: string, address: string, port = 80) => ({ name, address, port });
const service = { name: "s", vipGroup: "g", address: "10.0.0.10", port: 80, realServers: [rs("r1", "10.0.0.21")] };

describe("a virtual service's rules", () => {
  it.each<[string, object, string[]]>([
    ["an address and port", {}, []],
    ["a firewall mark alone", { address: undefined, port: undefined, fwmark: 7 }, []],
    ["both", { fwmark: 7 }, ["fwmark: give either address and port, or fwmark, not both"]],
    ["neither", { address: undefined, port: undefined }, ["address: give address and port, or fwmark"]],
    ["an address without a port", { port: undefined }, ["port: address and port go together"]],
    ["a port without an address", { address: undefined }, ["address: address and port go together"]],
    [
      "haproxy for a firewall mark",
      { address: undefined, port: undefined, fwmark: 7, driver: { type: "haproxy", backend: "b" } },
      ["driver: the haproxy driver cannot serve a firewall mark"],
    ],
    [
      "haproxy for udp",
      { protocol: "udp", driver: { type: "haproxy", backend: "b" } },
      ["protocol: the haproxy driver serves tcp only"],
    ],
    ["ipvs for udp", { protocol: "udp" }, []],
    [
      "more healthy servers asked than there are",
      { minHealthy: 2 },
      ["minHealthy: minHealthy 2 is more than the 1 real server(s)"],
    ],
    ["as many healthy servers as there are", { minHealthy: 1 }, []],
    ["a minimum with no servers yet", { minHealthy: 2, realServers: [] }, []],
    ["several checks on a server", { realServers: [{ ...rs("r1", "10.0.0.21"), checks: ["tcp", "http"] }] }, []],
    [
      "check and checks on one server",
      { realServers: [{ ...rs("r1", "10.0.0.21"), check: "tcp", checks: ["http"] }] },
      ["realServers[0].checks: give check or checks, not both"],
    ],
    [
      "a check twice on one server",
      { realServers: [{ ...rs("r1", "10.0.0.21"), checks: ["tcp", "tcp"] }] },
      ["realServers[0].checks[1]: check tcp is listed twice"],
    ],
    [
      "an empty list of checks",
      { realServers: [{ ...rs("r1", "10.0.0.21"), checks: [] }] },
      ["realServers[0].checks: list at least one check, or leave checks out"],
    ],
    [
      "a server name twice",
      { realServers: [rs("r1", "10.0.0.21"), rs("r1", "10.0.0.22")] },
      ["realServers[1].name: real server r1 is listed twice"],
    ],
    [
      "an endpoint twice",
      { realServers: [rs("r1", "10.0.0.21"), rs("r2", "10.0.0.21")] },
      ["realServers[1].address: 10.0.0.21:80 is listed twice"],
    ],
    [
      "an IPv4-mapped server",
      { realServers: [rs("r1", "::ffff:10.0.0.21")] },
      ["realServers[0].address: ::ffff:10.0.0.21 is an IPv4-mapped IPv6 address: write the IPv4 address"],
    ],
    [
      "an IPv6 server behind an IPv4 service",
      { realServers: [rs("r1", "2001:db8::21")] },
      ["realServers[0].address: expected an IPv4 address, as the service's 10.0.0.10 is"],
    ],
    [
      "an IPv4 server behind an IPv6 service",
      { address: "2001:db8::10" },
      ["realServers[0].address: expected an IPv6 address, as the service's 2001:db8::10 is"],
    ],
    [
      "direct routing to another port",
      { forwarding: "dr", realServers: [rs("r1", "10.0.0.21", 8080), rs("r2", "10.0.0.22")] },
      ["realServers[0].port: dr forwarding cannot change ports: expected 80"],
    ],
    [
      "tunnelling to another port",
      { forwarding: "tun", realServers: [rs("r1", "10.0.0.21", 8080)] },
      ["realServers[0].port: tun forwarding cannot change ports: expected 80"],
    ],
    ["NAT to another port", { forwarding: "nat", realServers: [rs("r1", "10.0.0.21", 8080)] }, []],
    [
      "haproxy with dr to another port",
      { forwarding: "dr", driver: { type: "haproxy", backend: "b" }, realServers: [rs("r1", "10.0.0.21", 8080)] },
      [],
    ],
  ])("%s", (_name, patch, want) => {
    expect(issues(VirtualService, { ...service, ...patch })).toEqual(want);
  });

  it.each<[string, boolean]>([
    ["255.255.255.0", true],
    ["255.255.255.255", true],
    ["128.0.0.0", true],
    ["0.0.0.0", false],
    ["255.0.255.0", false],
    ["255.255.255", false],
    ["255.255.255.0.0", false],
    ["256.0.0.0", false],
    ["255.255.1024.0", false],
    ["255.255.x.0", false],
  ])("takes %s as a persistence netmask: %s", (netmask, good) => {
    expect(issues(Persistence, { timeout: 60, netmask })).toEqual(
      good ? [] : ["netmask: expected a contiguous netmask like 255.255.255.0"],
    );
  });
});

const group = {
  name: "g",
  vips: [{ cidr: "10.0.0.1/24", interface: "eth0" }],
  members: [{ node: "lb1", priority: 100 }],
};

describe("a VIP group's and a sync group's rules", () => {
  it.each<[string, object, string[]]>([
    ["one of each", {}, []],
    [
      "one address twice, with two prefixes",
      { vips: [group.vips[0], { cidr: "10.0.0.1/32", interface: "eth1" }] },
      ["vips[1].cidr: VIP 10.0.0.1 is listed twice"],
    ],
    [
      "a member twice",
      { members: [group.members[0], { node: "lb1", priority: 50 }] },
      ["members[1].node: node lb1 is a member twice"],
    ],
    [
      "a check tracked twice",
      {
        track: [
          { check: "c", weight: 0 },
          { check: "c", weight: 10 },
        ],
      },
      ["track[1].check: check c is tracked twice"],
    ],
    [
      "a preempt delay without preempt",
      { preempt: false, preemptDelay: 5 },
      ["preemptDelay: preemptDelay needs preempt: true"],
    ],
    ["no delay without preempt", { preempt: false }, []],
    [
      "a label for another interface",
      { vips: [{ cidr: "10.0.0.1/24", interface: "eth0", label: "eth1:v" }] },
      ['vips[0].label: label must start with "eth0:" (the interface name)'],
    ],
  ])("%s", (_name, patch, want) => {
    expect(issues(VipGroup, { ...group, ...patch })).toEqual(want);
  });

  it.each<[string, string[], string[]]>([
    ["two groups", ["a", "b"], []],
    ["one group", ["a"], ["vipGroups: a sync group joins at least two VIP groups"]],
    ["a group twice", ["a", "b", "a"], ["vipGroups[2]: VIP group a is listed twice"]],
  ])("a sync group of %s", (_name, vipGroups, want) => {
    expect(issues(SyncGroup, { name: "sg", vipGroups })).toEqual(want);
  });
});

const tcp = { name: "t", type: "tcp", observers: { regions: ["weur", "enam"] } };

describe("a check's rules", () => {
  it.each<[string, object, string[]]>([
    ["a timeout just under the interval", { interval: 2, timeout: 1.9 }, []],
    [
      "a timeout equal to the interval",
      { interval: 2, timeout: 2 },
      ["timeout: timeout must be shorter than interval"],
    ],
    ["no observers", { observers: {} }, ["observers: name at least one region or agent to run this check"]],
    ["a quorum of every observer", { quorum: 2 }, []],
    ["a quorum above the observers", { quorum: 3 }, ["quorum: quorum 3 is more than the 2 observer(s) named"]],
    [
      "a quorum counted over regions and agents",
      { quorum: 3, observers: { regions: ["weur", "enam"], agents: ["lb1"] } },
      [],
    ],
    ["a quorum by majority", { quorum: "majority" }, []],
    [
      "an agent-only check from regions",
      { type: "process", observers: { regions: ["weur"], agents: ["lb1"] } },
      ["observers.regions: process checks run on agents only; remove the regions"],
    ],
    ["expect without send", { expect: "+OK" }, ["expect: expect needs send"]],
    ["expect with send", { expect: "+OK", send: "PING\r\n" }, []],
    ["send alone", { send: "PING\r\n" }, []],
    [
      "a region twice",
      { observers: { regions: ["weur", "weur"] } },
      ["observers.regions[1]: region weur is listed twice"],
    ],
    [
      "an agent twice",
      { observers: { agents: ["lb1", "lb2", "lb1"] } },
      ["observers.agents[2]: agent lb1 is listed twice"],
    ],
  ])("%s", (_name, patch, want) => {
    expect(issues(Check, { ...tcp, ...patch })).toEqual(want);
  });
});

describe("labels", () => {
  it.each<[string, unknown, string[]]>([
    ["a value that is not text", { rack: 5 }, ["rack: Invalid input: expected string, received number"]],
    ["not a map", "rack=r1", ["(body): Invalid input: expected record, received string"]],
  ])("%s", (_name, value, want) => {
    expect(issues(Labels, value)).toEqual(want);
  });
});
