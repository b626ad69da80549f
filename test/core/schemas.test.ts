import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { Check } from "../../src/core/check.js";
import { CHECK_TYPES, checkVariants } from "../../src/core/checks/index.js";
import { formatPath } from "../../src/core/errors.js";
import { VipGroup } from "../../src/core/vip-group.js";
import { VirtualService } from "../../src/core/virtual-service.js";

const tcpCheck = { name: "t", type: "tcp", observers: { regions: ["weur", "enam"] } };
const group = {
  name: "g",
  vips: [{ cidr: "10.0.0.10/24", interface: "eth0" }],
  members: [{ node: "a", priority: 100 }],
};
const service = {
  name: "s",
  vipGroup: "g",
  address: "10.0.0.10",
  port: 80,
  realServers: [{ name: "r1", address: "10.0.0.21", port: 80 }],
};

/** The first issue's field path, or "ok". */
function firstField(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  return result.success ? "ok" : formatPath(result.error.issues[0]?.path ?? []);
}

describe("Check", () => {
  it("has one variant per check type, in the order the type list names them", () => {
    expect(checkVariants({}).map((v) => v.shape.type.value)).toEqual([...CHECK_TYPES]);
  });

  it.each<[string, object, string]>([
    ["a plain tcp check", {}, "ok"],
    ["rise 0", { rise: 0 }, "rise"],
    ["interval below 1 s", { interval: 0.5 }, "interval"],
    ["timeout not below interval", { interval: 2, timeout: 2 }, "timeout"],
    ["no observers", { observers: {} }, "observers"],
    ["quorum above observers", { quorum: 3 }, "quorum"],
    ["unknown region", { observers: { regions: ["mars"] } }, "observers.regions[0]"],
    ["duplicate region", { observers: { regions: ["weur", "weur"] } }, "observers.regions[1]"],
    ["expect without send", { expect: "+OK" }, "expect"],
    ["icmp from a region", { type: "icmp" }, "observers.regions"],
    ["http with a bad digest", { type: "http", digest: "xyz" }, "digest"],
    ["http with CRLF in a header", { type: "http", headers: { "X-A": "a\r\nInjected: 1" } }, "headers.X-A"],
    ["http with a bad regex", { type: "http", bodyRegex: "(" }, "bodyRegex"],
    [
      "script with a relative path",
      { type: "script", observers: { agents: ["a"] }, exec: { path: "bin/x" } },
      "exec.path",
    ],
  ])("%s", (_name, patch, field) => {
    expect(firstField(Check, { ...tcpCheck, ...patch })).toBe(field);
  });

  it("lowercases digests as genhash prints them", () => {
    const check = Check.parse({ ...tcpCheck, type: "http", digest: "9B3A0C85A887A256D6939DA88AABD8CD" });
    expect(check.type === "http" && check.digest).toBe("9b3a0c85a887a256d6939da88aabd8cd");
  });
});

describe("VipGroup", () => {
  it.each<[string, object, string]>([
    ["a plain group", {}, "ok"],
    ["bad CIDR", { vips: [{ cidr: "10.0.0.300/24", interface: "eth0" }] }, "vips[0].cidr"],
    ["no prefix", { vips: [{ cidr: "10.0.0.1", interface: "eth0" }] }, "vips[0].cidr"],
    [
      "interface too long",
      { vips: [{ cidr: "10.0.0.1/24", interface: "averyveryverylongname" }] },
      "vips[0].interface",
    ],
    [
      "label for another interface",
      { vips: [{ cidr: "10.0.0.1/24", interface: "eth0", label: "eth1:v" }] },
      "vips[0].label",
    ],
    ["priority 255", { members: [{ node: "a", priority: 255 }] }, "members[0].priority"],
    [
      "member twice",
      {
        members: [
          { node: "a", priority: 1 },
          { node: "a", priority: 2 },
        ],
      },
      "members[1].node",
    ],
    ["preempt delay with nopreempt", { preempt: false, preemptDelay: 5 }, "preemptDelay"],
    ["unknown loss policy", { onCoordinatorLoss: "panic" }, "onCoordinatorLoss"],
    ["notify as a shell string", { notify: { master: "/bin/x; rm -rf /" } }, "notify.master"],
  ])("%s", (_name, patch, field) => {
    expect(firstField(VipGroup, { ...group, ...patch })).toBe(field);
  });
});

describe("VirtualService", () => {
  it.each<[string, object, string]>([
    ["a plain service", {}, "ok"],
    ["unknown scheduler", { scheduler: "fastest" }, "scheduler"],
    ["fwmark and address", { fwmark: 7 }, "fwmark"],
    ["address without port", { port: undefined }, "port"],
    ["haproxy on udp", { driver: { type: "haproxy", backend: "web" }, protocol: "udp" }, "protocol"],
    ["haproxy backend with a newline", { driver: { type: "haproxy", backend: "web\nshutdown" } }, "driver.backend"],
    [
      "dr to another port",
      { forwarding: "dr", realServers: [{ name: "r", address: "10.0.0.2", port: 8080 }] },
      "realServers[0].port",
    ],
    [
      "weight above 65535",
      { realServers: [{ name: "r", address: "10.0.0.2", port: 80, weight: 70000 }] },
      "realServers[0].weight",
    ],
    ["bad netmask", { persistence: { timeout: 300, netmask: "255.0.255.0" } }, "persistence.netmask"],
    ["minHealthy above servers", { minHealthy: 2 }, "minHealthy"],
  ])("%s", (_name, patch, field) => {
    expect(firstField(VirtualService, { ...service, ...patch })).toBe(field);
  });
});
