/** Cluster documents of any size, for the benches and the tests that apply big configurations. */
let made = 0;

/**
 * A cluster of two directors and `servers` real servers spread over services of 50. Each
 * cluster has directors of its own: clusters that share a node may not share a VIP.
 */
export function clusterDocument(name, servers, weight = 1) {
  made += 1;
  const directors = `10.${30 + Math.floor(made / 250)}.${made % 250}`;
  const services = [];
  for (let s = 0; s * 50 < servers; s++) {
    const count = Math.min(50, servers - s * 50);
    services.push({
      name: `svc${s}`,
      vipGroup: "VI_1",
      address: "10.20.0.10",
      port: 1000 + s,
      scheduler: "wrr",
      forwarding: "nat",
      realServers: Array.from({ length: count }, (_, i) => ({
        name: `rs${i}`,
        address: `10.21.${s}.${i + 1}`,
        port: 8080,
        weight,
        check: "tcp",
      })),
    });
  }
  return {
    cluster: { name },
    nodes: [
      { name: "lb1", address: `${directors}.1` },
      { name: "lb2", address: `${directors}.2` },
    ],
    checks: [{ name: "tcp", type: "tcp", observers: { agents: ["lb1", "lb2"] } }],
    vipGroups: [
      {
        name: "VI_1",
        vips: [{ cidr: "10.20.0.10/24", interface: "eth0" }],
        members: [
          { node: "lb1", priority: 100 },
          { node: "lb2", priority: 50 },
        ],
      },
    ],
    virtualServices: services,
  };
}
