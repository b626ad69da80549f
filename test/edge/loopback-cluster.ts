/**
 * A cluster of one director in front of the loopback web server (test/edge/servers.ts): check
 * web-http (rise and fall 2 unless `check` says otherwise) on real server web/web1. Clusters
 * that share the VIP need directors of their own: `nodeAddress` tells them apart.
 */
export function loopbackCluster(name: string, nodeAddress: string, serverPort: number, check: Record<string, unknown>) {
  return {
    cluster: { name },
    nodes: [{ name: "lb1", address: nodeAddress }],
    checks: [{ name: "web-http", type: "http", interval: 1, timeout: 0.5, retries: 0, rise: 2, fall: 2, ...check }],
    vipGroups: [
      { name: "VI_1", vips: [{ cidr: "127.0.0.10/8", interface: "lo" }], members: [{ node: "lb1", priority: 100 }] },
    ],
    virtualServices: [
      {
        name: "web",
        vipGroup: "VI_1",
        address: "127.0.0.10",
        port: 80,
        realServers: [{ name: "web1", address: "127.0.0.1", port: serverPort, check: "web-http" }],
      },
    ],
  };
}
