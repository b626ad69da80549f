/** Request bodies shared by the worker tests, and a fresh cluster per test. */
import { expect } from "vitest";
import { api } from "./http.js";

let counter = 0;

/** Creates an empty cluster with a unique name and returns its URL prefix. */
export async function newCluster(prefix = "c"): Promise<{ name: string; base: string }> {
  counter += 1;
  const name = `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
  const created = await api("POST", "/v1/clusters", { body: { name } });
  expect(created.status).toBe(201);
  return { name, base: `/v1/clusters/${name}` };
}

/**
 * A director of the newest cluster. Each cluster's directors get their own subnet: clusters
 * that share a node (the same name at the same address) may not share a VIP, and the tests'
 * clusters all use the same VIPs.
 */
export const node = (name: string, last = 11) => ({
  name,
  address: `10.${Math.floor(counter / 250) % 250}.${counter % 250}.${last}`,
  labels: { rack: "r1" },
});

export const tcpCheck = (name: string, agents: string[]) => ({
  name,
  type: "tcp",
  timeout: 3,
  retries: 3,
  observers: { agents },
});

export const vipGroup = (name: string, members: [string, number][], cidr = "192.168.88.15/24") => ({
  name,
  vips: [{ cidr, interface: "eth0" }],
  members: members.map(([n, priority]) => ({ node: n, priority })),
});

export const virtualService = (name: string, group: string, address = "192.168.88.15") => ({
  name,
  vipGroup: group,
  address,
  port: 80,
  scheduler: "wrr",
  forwarding: "dr",
  realServers: [{ name: "web1", address: "192.168.88.21", port: 80, weight: 1, check: "web-tcp" }],
});

/** A cluster with two nodes, a check, a VIP group and a virtual service. */
export async function populatedCluster(): Promise<{ name: string; base: string }> {
  const cluster = await newCluster("p");
  const steps: [string, unknown][] = [
    ["nodes", node("lb1", 11)],
    ["nodes", node("lb2", 12)],
    ["checks", tcpCheck("web-tcp", ["lb1", "lb2"])],
    [
      "vip-groups",
      vipGroup("VI_1", [
        ["lb1", 100],
        ["lb2", 50],
      ]),
    ],
    ["virtual-services", virtualService("web", "VI_1")],
  ];
  for (const [kind, body] of steps) {
    const reply = await api("POST", `${cluster.base}/${kind}`, { body });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  }
  return cluster;
}

/** A new cluster of two directors sharing VI_1 (lb1 100, lb2 50) in front of one web server checked by `check`. */
export async function webPair(
  prefix: string,
  check: Record<string, unknown>,
  server = "192.168.88.21",
): Promise<string> {
  const { name, base } = await newCluster(prefix);
  const web = virtualService("web", "VI_1");
  web.realServers[0] = { ...web.realServers[0], address: server } as (typeof web.realServers)[0];
  const doc = {
    cluster: { name },
    nodes: [node("lb1", 11), node("lb2", 12)],
    checks: [check],
    vipGroups: [
      vipGroup("VI_1", [
        ["lb1", 100],
        ["lb2", 50],
      ]),
    ],
    virtualServices: [web],
  };
  expect((await api("PUT", `${base}/config`, { body: doc })).status).toBe(200);
  return name;
}

/**
 * A cluster whose real servers (service `web`, one per name in `servers`) are checked over TCP
 * by the named agents only, so every vote a test sends is the only vote there is.
 */
export const agentVotedCluster = (name: string, agents: string[], servers: string[]) => ({
  cluster: { name },
  nodes: agents.map((n, i) => ({ name: n, address: `10.0.0.${i + 1}` })),
  checks: [{ name: "tcp", type: "tcp", interval: 5, observers: { agents } }],
  vipGroups: [
    { name: "VI_1", vips: [{ cidr: "10.0.0.10/24", interface: "eth0" }], members: [{ node: "lb1", priority: 100 }] },
  ],
  virtualServices: [
    {
      name: "web",
      vipGroup: "VI_1",
      address: "10.0.0.10",
      port: 80,
      realServers: servers.map((server, i) => ({ name: server, address: `10.0.1.${i + 1}`, port: 80, check: "tcp" })),
    },
  ],
});
