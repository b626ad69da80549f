/**
 * Bad input gets a clear, stable error and changes nothing. Each row: what is sent, the
 * status and error code expected, and the field the first issue must name.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/api/body.js";
import { newCluster, node, populatedCluster, tcpCheck, vipGroup, virtualService } from "./fixtures.js";
import { api } from "./http.js";

interface Case {
  name: string;
  method: string;
  /** Relative to the cluster's URL when it does not start with /v1. */
  path: string;
  body?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
}

const vs = virtualService("web2", "VI_1");
const cases: Case[] = [
  {
    name: "bad CIDR",
    method: "POST",
    path: "vip-groups",
    body: vipGroup("g", [["lb1", 1]], "192.168.88.256/24"),
    status: 400,
    code: "invalid_field",
    field: "vips[0].cidr",
  },
  {
    name: "VIP without prefix length",
    method: "POST",
    path: "vip-groups",
    body: vipGroup("g", [["lb1", 1]], "192.168.88.15"),
    status: 400,
    code: "invalid_field",
    field: "vips[0].cidr",
  },
  {
    name: "unknown scheduler",
    method: "POST",
    path: "virtual-services",
    body: { ...vs, scheduler: "fastest" },
    status: 400,
    code: "invalid_field",
    field: "scheduler",
  },
  {
    name: "unknown forwarding method",
    method: "POST",
    path: "virtual-services",
    body: { ...vs, forwarding: "masq" },
    status: 400,
    code: "invalid_field",
    field: "forwarding",
  },
  {
    name: "rise 0",
    method: "POST",
    path: "checks",
    body: { ...tcpCheck("c", ["lb1"]), rise: 0 },
    status: 400,
    code: "invalid_field",
    field: "rise",
  },
  {
    name: "interval below the minimum",
    method: "POST",
    path: "checks",
    body: { ...tcpCheck("c", ["lb1"]), interval: 0.5, timeout: 0.2 },
    status: 400,
    code: "invalid_field",
    field: "interval",
  },
  {
    name: "unknown check type",
    method: "POST",
    path: "checks",
    body: { ...tcpCheck("c", ["lb1"]), type: "ftp" },
    status: 400,
    code: "invalid_field",
    field: "type",
  },
  {
    name: "quorum above observers",
    method: "POST",
    path: "checks",
    body: { ...tcpCheck("c", ["lb1"]), quorum: 2 },
    status: 400,
    code: "invalid_field",
    field: "quorum",
  },
  {
    name: "icmp probed from a region",
    method: "POST",
    path: "checks",
    body: { name: "p", type: "icmp", observers: { regions: ["weur"] } },
    status: 400,
    code: "invalid_field",
    field: "observers.regions",
  },
  {
    name: "digest that is not MD5",
    method: "POST",
    path: "checks",
    body: { ...tcpCheck("c", ["lb1"]), type: "http", digest: "abc" },
    status: 400,
    code: "invalid_field",
    field: "digest",
  },
  { name: "duplicate name", method: "POST", path: "nodes", body: node("lb1"), status: 409, code: "already_exists" },
  {
    name: "typo in a field name",
    method: "POST",
    path: "vip-groups",
    body: { ...vipGroup("g", [["lb1", 1]], "192.168.88.16/24"), preemt: false },
    status: 400,
    code: "invalid_field",
    field: "preemt",
  },
  {
    name: "priority 0",
    method: "POST",
    path: "vip-groups",
    body: vipGroup("g", [["lb1", 0]], "192.168.88.16/24"),
    status: 400,
    code: "invalid_field",
    field: "members[0].priority",
  },
  {
    name: "label not on the interface",
    method: "POST",
    path: "vip-groups",
    body: {
      ...vipGroup("g", [["lb1", 1]]),
      vips: [{ cidr: "192.168.88.16/24", interface: "eth0", label: "eth1:vip" }],
    },
    status: 400,
    code: "invalid_field",
    field: "vips[0].label",
  },
  {
    name: "interface name with a space",
    method: "POST",
    path: "vip-groups",
    body: { ...vipGroup("g", [["lb1", 1]]), vips: [{ cidr: "192.168.88.16/24", interface: "eth 0" }] },
    status: 400,
    code: "invalid_field",
    field: "vips[0].interface",
  },
  {
    name: "dangling member node",
    method: "POST",
    path: "vip-groups",
    body: vipGroup("g", [["lb9", 1]], "192.168.88.16/24"),
    status: 400,
    code: "unknown_reference",
    field: "members[0].node",
  },
  {
    name: "dangling real server check",
    method: "POST",
    path: "virtual-services/web/real-servers",
    body: { name: "w9", address: "192.168.88.29", port: 80, check: "nope" },
    status: 400,
    code: "unknown_reference",
    field: "check",
  },
  {
    name: "service address not a VIP of its group",
    method: "POST",
    path: "virtual-services",
    body: virtualService("web2", "VI_1", "192.168.88.99"),
    status: 400,
    code: "unknown_reference",
    field: "address",
  },
  {
    name: "sync group naming an unknown VIP group",
    method: "POST",
    path: "sync-groups",
    body: { name: "s", vipGroups: ["VI_1", "VI_9"] },
    status: 400,
    code: "unknown_reference",
    field: "vipGroups[1]",
  },
  {
    name: "port 70000",
    method: "POST",
    path: "virtual-services",
    body: { ...vs, port: 70000 },
    status: 400,
    code: "invalid_field",
    field: "port",
  },
  {
    name: "negative weight",
    method: "POST",
    path: "virtual-services/web/real-servers",
    body: { name: "w9", address: "192.168.88.29", port: 80, weight: -1 },
    status: 400,
    code: "invalid_field",
    field: "weight",
  },
  {
    name: "DR real server on another port",
    method: "POST",
    path: "virtual-services/web/real-servers",
    body: { name: "w9", address: "192.168.88.29", port: 8080 },
    status: 400,
    code: "invalid_field",
    field: "port",
  },
  {
    name: "node address that is not an IP",
    method: "POST",
    path: "nodes",
    body: { name: "lb9", address: "192.168.1" },
    status: 400,
    code: "invalid_field",
    field: "address",
  },
  {
    name: "HAProxy backend with a newline",
    method: "POST",
    path: "virtual-services",
    body: { ...vs, driver: { type: "haproxy", backend: "web\nshutdown sessions" } },
    status: 400,
    code: "invalid_field",
    field: "driver.backend",
  },
  {
    name: "name from the path with a semicolon",
    method: "PUT",
    path: "nodes/lb1;reboot",
    body: { address: "10.0.0.1" },
    status: 400,
    code: "invalid_field",
    field: "name",
  },
  {
    name: "renaming through PUT",
    method: "PUT",
    path: "nodes/lb1",
    body: node("lb1-new"),
    status: 400,
    code: "invalid_field",
    field: "name",
  },
  { name: "deleting a check still in use", method: "DELETE", path: "checks/web-tcp", status: 409, code: "in_use" },
  {
    name: "oversized body",
    method: "POST",
    path: "nodes",
    raw: JSON.stringify({ ...node("big"), labels: { pad: "x".repeat(100) }, pad: "y".repeat(MAX_BODY_BYTES) }),
    headers: { "content-type": "application/json" },
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "wrong content type",
    method: "POST",
    path: "nodes",
    raw: JSON.stringify(node("lb9")),
    headers: { "content-type": "text/plain" },
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "no content type",
    method: "POST",
    path: "nodes",
    raw: JSON.stringify(node("lb9")),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "malformed JSON",
    method: "POST",
    path: "nodes",
    raw: '{"name": "lb9",',
    headers: { "content-type": "application/json" },
    status: 400,
    code: "invalid_json",
  },
  {
    name: "invalid UTF-8",
    method: "POST",
    path: "nodes",
    raw: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    headers: { "content-type": "application/json" },
    status: 400,
    code: "invalid_json",
  },
  {
    name: "array instead of an object",
    method: "POST",
    path: "nodes",
    body: [node("lb9")],
    status: 400,
    code: "invalid_field",
    field: "(body)",
  },
  {
    name: "config for another cluster",
    method: "PUT",
    path: "config",
    body: { cluster: { name: "elsewhere" } },
    status: 400,
    code: "invalid_field",
    field: "cluster.name",
  },
  {
    name: "config with duplicate node names",
    method: "PUT",
    path: "config",
    body: "DUPLICATE_NODES",
    status: 400,
    code: "duplicate_name",
    field: "nodes[2].name",
  },
  {
    name: "dry_run that is not a boolean",
    method: "PUT",
    path: "config?dry_run=maybe",
    body: "SELF",
    status: 400,
    code: "invalid_field",
    field: "query.dry_run",
  },
  {
    name: "misspelt dry_run (would otherwise apply for real)",
    method: "PUT",
    path: "config?dryrun=true",
    body: "SELF",
    status: 400,
    code: "invalid_field",
    field: "query.dryrun",
  },
  {
    name: "events limit 0",
    method: "GET",
    path: "events?limit=0",
    status: 400,
    code: "invalid_field",
    field: "query.limit",
  },
  {
    name: "events before a non-time",
    method: "GET",
    path: "events?before=yesterday",
    status: 400,
    code: "invalid_field",
    field: "query.before",
  },
  {
    name: "enrollment token for an unknown node",
    method: "POST",
    path: "enrollment-tokens",
    body: { node: "lb9" },
    status: 400,
    code: "unknown_reference",
    field: "node",
  },
  {
    name: "enrollment token lasting 10 s",
    method: "POST",
    path: "enrollment-tokens",
    body: { node: "lb1", ttl: 10 },
    status: 400,
    code: "invalid_field",
    field: "ttl",
  },
  {
    name: "webhook to an ftp URL",
    method: "POST",
    path: "/v1/webhooks",
    body: { name: "w", url: "ftp://example.test/x" },
    status: 400,
    code: "invalid_field",
    field: "url",
  },
  {
    name: "webhook secret in the wrong form",
    method: "POST",
    path: "/v1/webhooks",
    body: { name: "w", url: "https://example.test/x", secret: "hunter2" },
    status: 400,
    code: "invalid_field",
    field: "secret",
  },
  {
    name: "webhook filter with an unknown event",
    method: "POST",
    path: "/v1/webhooks",
    body: { name: "w", url: "https://example.test/x", filter: { events: ["target.exploded"] } },
    status: 400,
    code: "invalid_field",
    field: "filter.events[0]",
  },
  {
    name: "token with an unknown role",
    method: "POST",
    path: "/v1/tokens",
    body: { name: "t", role: "root" },
    status: 400,
    code: "invalid_field",
    field: "role",
  },
  {
    name: "unknown cluster",
    method: "GET",
    path: "/v1/clusters/no-such-cluster/nodes",
    status: 404,
    code: "not_found",
  },
  {
    name: "a VIP group's VIP already in another group (another prefix length)",
    method: "POST",
    path: "vip-groups",
    body: vipGroup("VI_2", [["lb2", 1]], "192.168.88.15/32"),
    status: 400,
    code: "duplicate_vip",
    field: "vips[0].cidr",
  },
  {
    name: "a VIP moved into a second group by a whole-document PUT",
    method: "PUT",
    path: "config",
    body: "SECOND_GROUP_SAME_VIP",
    status: 400,
    code: "duplicate_vip",
    field: "vipGroups[1].vips[0].cidr",
  },
  {
    name: "a body pattern with nested repetition (ReDoS)",
    method: "POST",
    path: "checks",
    body: { name: "redos", type: "http", bodyRegex: "^(a+)+$", observers: { agents: ["lb1"] } },
    status: 400,
    code: "invalid_field",
    field: "bodyRegex",
  },
  {
    name: "a node with more labels than allowed",
    method: "POST",
    path: "nodes",
    body: { ...node("lb9", 19), labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
    status: 400,
    code: "invalid_field",
    field: "labels",
  },
  {
    name: "a webhook filter with more targets than allowed",
    method: "POST",
    path: "/v1/webhooks",
    body: {
      name: "w",
      url: "https://example.test/x",
      filter: { targets: Array.from({ length: 1001 }, (_, i) => `t/${i}`) },
    },
    status: 400,
    code: "invalid_field",
    field: "filter.targets",
  },
  {
    name: "an IPv4-mapped IPv6 real server",
    method: "POST",
    path: "virtual-services",
    body: { ...vs, realServers: [{ name: "web1", address: "::ffff:10.0.0.9", port: 80, check: "web-tcp" }] },
    status: 400,
    code: "invalid_field",
    field: "realServers[0].address",
  },
  {
    name: "an IPv6 real server of an IPv4 service",
    method: "POST",
    path: "virtual-services",
    body: { ...vs, realServers: [{ name: "web1", address: "2001:db8::21", port: 80, check: "web-tcp" }] },
    status: 400,
    code: "invalid_field",
    field: "realServers[0].address",
  },
  {
    name: "enrollment with an all-zero public key",
    method: "POST",
    path: "/v1/enroll",
    body: { token: "vge_0123456789abcdef", node: "lb1", publicKey: "A".repeat(43) },
    status: 400,
    code: "invalid_field",
    field: "publicKey",
  },
  { name: "unknown route", method: "GET", path: "/v1/nothing-here", status: 404, code: "not_found" },
  { name: "method not allowed", method: "PATCH", path: "/v1/clusters", status: 405, code: "method_not_allowed" },
];

describe("bad input", () => {
  let base = "";
  let before = "";

  beforeAll(async () => {
    ({ base } = await populatedCluster());
    before = JSON.stringify((await api("GET", `${base}/config`)).body);
  });

  it.each(cases)("$name: $status $code", async (c) => {
    const path = c.path.startsWith("/v1") ? c.path : `${base}/${c.path}`;
    let body = c.body;
    if (body === "SELF") body = JSON.parse(before);
    if (body === "DUPLICATE_NODES") {
      const doc = JSON.parse(before);
      body = { ...doc, nodes: [...doc.nodes, doc.nodes[0]] };
    }
    if (body === "SECOND_GROUP_SAME_VIP") {
      const doc = JSON.parse(before);
      body = { ...doc, vipGroups: [...doc.vipGroups, vipGroup("VI_2", [["lb2", 1]], "192.168.88.15/24")] };
    }
    const reply = await api(c.method, path, { body, raw: c.raw as string | undefined, headers: c.headers });
    expect(reply.status, JSON.stringify(reply.body)).toBe(c.status);
    expect(reply.body.error.code).toBe(c.code);
    expect(reply.body.error.message.length).toBeGreaterThan(0);
    if (c.field !== undefined) {
      expect(reply.body.error.issues[0].field).toBe(c.field);
      expect(reply.body.error.message.startsWith(`${c.field}: `)).toBe(true);
    }
  });

  it("left the cluster exactly as it was", async () => {
    expect(JSON.stringify((await api("GET", `${base}/config`)).body)).toBe(before);
  });
});

describe("one VIP, one group", () => {
  it("refuses an IPv6 VIP spelled another way in a second group, naming both groups", async () => {
    const { name, base } = await newCluster("v6");
    const doc = {
      cluster: { name },
      nodes: [node("lb1", 11)],
      vipGroups: [
        {
          name: "V6_A",
          vips: [{ cidr: "2001:db8::1/64", interface: "eth0" }],
          members: [{ node: "lb1", priority: 1 }],
        },
        {
          name: "V6_B",
          vips: [{ cidr: "2001:DB8:0:0::1/128", interface: "eth0" }],
          members: [{ node: "lb1", priority: 1 }],
        },
      ],
    };
    const reply = await api("PUT", `${base}/config`, { body: doc });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({
      code: "duplicate_vip",
      message:
        "vipGroups[1].vips[0].cidr: VIP 2001:0db8:0000:0000:0000:0000:0000:0001 is already in VIP group V6_A; it cannot be in V6_B too",
    });
  });

  it("refuses a VIP that another cluster sharing a node already has, and allows it where no node is shared", async () => {
    const first = await populatedCluster();
    const lb1 = (await api("GET", `${first.base}/nodes/lb1`)).body;
    const { name, base } = await newCluster("share");
    const doc = (nodes: unknown[]) => ({
      cluster: { name },
      nodes,
      vipGroups: [vipGroup("EDGE", [["lb1", 1]], "192.168.88.15/24")],
    });
    const shared = await api("PUT", `${base}/config`, { body: doc([{ name: "lb1", address: lb1.address }]) });
    expect(shared.status).toBe(400);
    expect(shared.body.error.code).toBe("duplicate_vip");
    expect(shared.body.error.message).toBe(
      `vipGroups[0].vips[0].cidr: VIP 192.168.88.15 is already in VIP group VI_1 of cluster ${first.name}, where node lb1 is a member too; it cannot be in EDGE as well`,
    );
    expect((await api("PUT", `${base}/config`, { body: doc([node("lb1", 11)]) })).status).toBe(200);
  });
});
