/**
 * The demo cluster: three web servers behind one VIP, checked over HTTP from three regions that
 * must agree (a majority), and two directors sharing the VIP by lease with priorities 100 and 50.
 */
export const CLUSTER = "demo";
export const REGIONS = ["wnam", "weur", "apac"];
export const GROUP = "VI_1";
export const VIP = "192.0.2.15";

/**
 * `servers`: name -> loopback port; `directors`: name -> its address and its agent's UDP peer
 * port; `shown`: whether VIP actions are only shown (no root).
 */
export function demoCluster({ servers, directors, shown }) {
  return {
    cluster: {
      name: CLUSTER,
      description: shown
        ? "npm run demo without root: VIP actions are shown, not applied (the agents run with hostActions: show)."
        : "npm run demo as root: the directors claim the VIP in a network namespace lab (IPVS changes are shown, not applied).",
    },
    nodes: Object.entries(directors).map(([name, { address, peerPort }]) => ({
      name,
      address,
      peerPort,
      labels: { role: "director" },
    })),
    checks: [
      {
        name: "web-http",
        type: "http",
        path: "/",
        expectStatus: [200],
        interval: 2,
        timeout: 1,
        retries: 1,
        delayBeforeRetry: 0.2,
        rise: 1,
        fall: 2,
        observers: { regions: REGIONS },
        quorum: "majority",
      },
    ],
    vipGroups: [
      {
        name: GROUP,
        vips: [{ cidr: `${VIP}/24`, interface: shown ? "vigil0" : "eth0" }],
        members: Object.keys(directors).map((node, i) => ({ node, priority: [100, 50][i] ?? 10 })),
        leaseTtl: 1,
      },
    ],
    virtualServices: [
      {
        name: "web",
        vipGroup: GROUP,
        address: VIP,
        port: 80,
        scheduler: "wrr",
        forwarding: "nat",
        realServers: Object.entries(servers).map(([name, port]) => ({
          name,
          address: "127.0.0.1",
          port,
          weight: 1,
          check: "web-http",
        })),
      },
    ],
  };
}
