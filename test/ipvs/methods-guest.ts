/**
 * Runs inside the qemu guest (bundled by test/ipvs/methods.test.ts): traffic through the
 * guest kernel's IPVS, programmed by the agent's own driver, for every forwarding method and
 * protocol. The director is the guest's root namespace; a client and two real servers
 * (test/ipvs/rs-server.mjs) live in their own. Two networks:
 *   - routed, for NAT: the client on 10.77.0.0/24 (and fd77::/64), each real server behind the
 *     director on its own /24 (and /64), its default route through the director;
 *   - one LAN, for direct routing and tunnelling: a bridge in the director with the client
 *     (10.88.0.50) and both real servers (10.88.0.21, .22) on it. The real servers take the
 *     VIPs with the built `vigil-agent realserver`, and answer the client directly.
 * Prints one line `OBSERVED <json>`; the test on the host asserts on it.
 */
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import { ensureSyncRole, parseDaemons } from "../../host-agent/src/lvs-sync.js";
import { ProcessRunner, type Runner } from "../../host-agent/src/runner.js";
import { type DesiredService, desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";
import { bash, http, sh, sleep } from "./guest-kit.js";

const NAT_RS = [
  { name: "rs1", address: "10.77.1.21", port: 80 },
  { name: "rs2", address: "10.77.2.22", port: 80 },
];
const LAN_RS = [
  { name: "rs1", address: "10.88.0.21", port: 80 },
  { name: "rs2", address: "10.88.0.22", port: 80 },
];
const V6_RS = [
  { name: "rs1", address: "fd77:1::21", port: 80 },
  { name: "rs2", address: "fd77:2::22", port: 80 },
];

/** A virtual service as the control plane would send it, every real server up. */
function service(fields: Record<string, unknown>): DesiredService {
  return desiredService(VirtualService.parse({ vipGroup: "VI_1", scheduler: "rr", ...fields }), () => "up");
}

function networks(): void {
  bash([
    "ip netns add client; ip netns add lan; ip netns add rs1; ip netns add rs2",
    "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding",
    // Routed: client - director - each real server.
    "ip link add c0 type veth peer name eth0 netns client",
    "ip link add r1 type veth peer name eth0 netns rs1",
    "ip link add r2 type veth peer name eth0 netns rs2",
    "ip addr add 10.77.0.1/24 dev c0; ip -6 addr add fd77::1/64 dev c0 nodad",
    "ip addr add 10.77.1.1/24 dev r1; ip -6 addr add fd77:1::1/64 dev r1 nodad",
    "ip addr add 10.77.2.1/24 dev r2; ip -6 addr add fd77:2::1/64 dev r2 nodad",
    "for l in c0 r1 r2; do ip link set $l up; done",
    "for n in client:10.77.0.50:10.77.0.1 rs1:10.77.1.21:10.77.1.1 rs2:10.77.2.22:10.77.2.1; do",
    "  IFS=: read -r ns a gw <<< $n",
    "  ip -n $ns link set lo up; ip -n $ns addr add $a/24 dev eth0; ip -n $ns link set eth0 up",
    "  ip -n $ns route add default via $gw",
    "done",
    "ip -n client -6 addr add fd77::50/64 dev eth0 nodad; ip -n client -6 route add default via fd77::1",
    "ip -n rs1 -6 addr add fd77:1::21/64 dev eth0 nodad; ip -n rs1 -6 route add default via fd77:1::1",
    "ip -n rs2 -6 addr add fd77:2::22/64 dev eth0 nodad; ip -n rs2 -6 route add default via fd77:2::1",
    // The LAN: a bridge in the director, the client and both real servers on it.
    "ip link add br0 type bridge; ip addr add 10.88.0.1/24 dev br0; ip link set br0 up",
    "for n in lan:10.88.0.50 rs1:10.88.0.21 rs2:10.88.0.22; do",
    "  IFS=: read -r ns a <<< $n",
    "  ip link add b-$ns type veth peer name lan0 netns $ns; ip link set b-$ns master br0; ip link set b-$ns up",
    "  ip -n $ns link set lo up; ip -n $ns addr add $a/24 dev lan0; ip -n $ns link set lan0 up",
    "done",
    // The VIPs the director answers for: NAT, firewall mark, IPv6, and on the LAN DR and TUN.
    "ip addr add 10.77.0.100/32 dev c0; ip addr add 10.77.0.102/32 dev c0; ip -6 addr add fd77::100/128 dev c0 nodad",
    "ip addr add 10.88.0.100/32 dev br0; ip addr add 10.88.0.101/32 dev br0",
    // What marks the firewall-mark service's packets: tc on the client's link.
    "tc qdisc add dev c0 ingress",
    "tc filter add dev c0 parent ffff: protocol ip prio 1 u32 match ip dst 10.77.0.102/32 action skbedit mark 7",
    // Short UDP connection entries, so a persistence template expires within the test.
    "ipvsadm --set 0 0 1",
  ]);
}

/** The real servers: the agent prepares them for DR and TUN, then each runs its server. */
function realServers(): Record<string, string[]> {
  const prepared: Record<string, string[]> = {};
  for (const ns of ["rs1", "rs2"]) {
    const out = sh(
      "ip",
      ...["netns", "exec", ns, "node", "/test/vigil-agent.cjs", "realserver"],
      ...["--vip", "10.88.0.100", "--vip", "10.88.0.101", "--interface", "lan0", "--state-dir", `/tmp/${ns}-agent`],
    );
    prepared[ns] = out.trim().split("\n");
    // Tunnelled packets arrive on tunl0 (ipip); the VIP they carry is the one on lo.
    sh("ip", "-n", ns, "link", "set", "tunl0", "up");
  }
  bash(["for ns in rs1 rs2; do ip netns exec $ns node /test/rs-server.mjs $ns > /tmp/$ns.log 2>&1 & done"]);
  return prepared;
}

const wget = (ns: string, url: string) => http(ns, url)[0] ?? "ERR";
const udp = (address: string, n: number): string[] =>
  JSON.parse(sh("ip", "netns", "exec", "client", "node", "/test/udp-client.mjs", address, "53", String(n)));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (ok()) return;
    await sleep(100);
  }
  throw new Error(`${what}: not within 10 s`);
}

async function main(): Promise<void> {
  const driver = new IpvsDriver(new ProcessRunner(10_000));
  const observed: Record<string, unknown> = {};
  networks();
  observed.prepared = realServers();
  observed.arpIgnore = sh("ip", "netns", "exec", "rs1", "cat", "/proc/sys/net/ipv4/conf/lan0/arp_ignore").trim();
  await until("the real servers listening", () => wget("client", "http://10.77.1.21/").startsWith("rs1"));
  await until("rs2 listening", () => wget("client", "http://10.77.2.22/").startsWith("rs2"));

  const services = {
    nat: service({ name: "nat", address: "10.77.0.100", port: 80, forwarding: "nat", realServers: NAT_RS }),
    dr: service({ name: "dr", address: "10.88.0.100", port: 80, forwarding: "dr", realServers: LAN_RS }),
    tun: service({ name: "tun", address: "10.88.0.101", port: 80, forwarding: "tun", realServers: LAN_RS }),
    fwmark: service({ name: "fwmark", fwmark: 7, forwarding: "nat", realServers: NAT_RS }),
    udp: service({
      name: "udp",
      address: "10.77.0.100",
      port: 53,
      protocol: "udp",
      forwarding: "nat",
      realServers: NAT_RS.map((r) => ({ ...r, port: 53 })),
    }),
    ipv6: service({ name: "ipv6", address: "fd77::100", port: 80, forwarding: "nat", realServers: V6_RS }),
    sticky: service({
      name: "sticky",
      address: "10.77.0.100",
      port: 8080,
      forwarding: "nat",
      persistence: { timeout: 60 },
      realServers: NAT_RS,
    }),
  };
  const all = Object.values(services);
  observed.sent = (await driver.sync(all)).sent;
  observed.saved = sh("ipvsadm", "-S", "-n").trim().split("\n");
  observed.again = (await driver.sync(all)).sent;

  observed.nat = http("client", "http://10.77.0.100/", 4);
  observed.dr = http("lan", "http://10.88.0.100/", 4);
  observed.tun = http("lan", "http://10.88.0.101/", 4);
  observed.fwmark = http("client", "http://10.77.0.102/", 4);
  observed.udp = udp("10.77.0.100", 4);
  observed.ipv6 = http("client", "http://[fd77::100]/", 4);
  // Persistence on TCP: every connection from one client to one real server.
  observed.sticky = http("client", "http://10.77.0.100:8080/", 6);
  observed.status = (await driver.status(all)).map((s) => ({
    service: s.service,
    servers: s.servers.map((r) => ({
      address: r.address,
      forward: r.forward,
      connections: (r.activeConns ?? 0) + (r.inactiveConns ?? 0),
    })),
  }));

  // Persistence on UDP, within and after its timeout: the client sticks to its real server
  // even after that server's weight goes to 0, and moves once the template has expired.
  const persistent = (weights: [number, number]) =>
    service({
      name: "udp-sticky",
      address: "10.77.0.100",
      port: 53,
      protocol: "udp",
      forwarding: "nat",
      persistence: { timeout: 2 },
      realServers: NAT_RS.map((r, i) => ({ ...r, port: 53, weight: weights[i] })),
    });
  const others = all.filter((s) => s !== services.udp);
  await driver.sync([...others, persistent([1, 1])]);
  const first = udp("10.77.0.100", 4);
  const chosen = first[0] === "rs1" ? 0 : 1;
  await driver.sync([...others, persistent(chosen === 0 ? [0, 1] : [1, 0])]);
  const within = udp("10.77.0.100", 3);
  // The template outlives its last connection (1 s for UDP here) by its 2 s timeout.
  await sleep(5000);
  const after = udp("10.77.0.100", 3);
  observed.udpPersistence = { first, within, after };
  observed.sync = await connectionSync();

  console.log(`OBSERVED ${JSON.stringify(observed)}`);
}

/** The agent's code run inside a network namespace: each command under `ip netns exec`. */
function inNamespace(ns: string): Runner {
  const runner = new ProcessRunner(10_000);
  return { run: (argv, input) => runner.run(["ip", "netns", "exec", ns, ...argv], input) };
}

/**
 * Connection sync between two directors, d1 and d2, linked by sync0, both with the same NAT
 * service to a real server behind d1. The agent's own ensure makes d1 master and d2 backup; a
 * connection d1 balances (its own client, through IPVS's local output hook) shows up in d2's
 * table; then the roles swap, as on a failover.
 */
async function connectionSync(): Promise<Record<string, unknown>> {
  bash([
    "ip netns add d1; ip netns add d2; ip netns add rs3",
    "ip link add sync0 netns d1 type veth peer name sync0 netns d2",
    "ip link add rs netns d1 type veth peer name eth0 netns rs3",
    "ip -n d1 addr add 10.66.0.1/24 dev sync0; ip -n d2 addr add 10.66.0.2/24 dev sync0",
    "ip -n d1 addr add 10.66.1.1/24 dev rs; ip -n rs3 addr add 10.66.1.3/24 dev eth0",
    "for ns in d1 d2 rs3; do ip -n $ns link set lo up; done",
    "ip -n d1 link set sync0 up; ip -n d2 link set sync0 up; ip -n d1 link set rs up; ip -n rs3 link set eth0 up",
    "ip -n rs3 route add default via 10.66.1.1; ip -n d1 addr add 10.66.9.100/32 dev lo",
    "ip netns exec rs3 node /test/rs-server.mjs rs3 > /tmp/rs3.log 2>&1 &",
  ]);
  const web = service({
    name: "synced",
    address: "10.66.9.100",
    port: 80,
    forwarding: "nat",
    realServers: [{ name: "rs3", address: "10.66.1.3", port: 80 }],
  });
  const d1 = inNamespace("d1");
  const d2 = inNamespace("d2");
  await new IpvsDriver(d1).sync([web]);
  await new IpvsDriver(d2).sync([web]);
  const sync = { interface: "sync0", syncId: 5 };
  const roles = {
    d1: await ensureSyncRole(d1, sync, "master"),
    d2: await ensureSyncRole(d2, sync, "backup"),
    d2Again: await ensureSyncRole(d2, sync, "backup"),
  };
  const daemons = () => ({
    d1: parseDaemons(sh("ip", "netns", "exec", "d1", "ipvsadm", "-L", "--daemon")),
    d2: parseDaemons(sh("ip", "netns", "exec", "d2", "ipvsadm", "-L", "--daemon")),
  });
  const before = daemons();
  await until("rs3 listening", () => wget("d1", "http://10.66.1.3/").startsWith("rs3"));
  const answered = wget("d1", "http://10.66.9.100/");
  const synced = () => sh("ip", "netns", "exec", "d2", "ipvsadm", "-L", "-n", "-c");
  await until("the connection in d2's table", () => synced().includes("10.66.9.100:80"));
  const entry = synced()
    .split("\n")
    .find((l) => l.includes("10.66.9.100:80"));
  // A failover: d2 takes over as master, d1 steps back to backup.
  await ensureSyncRole(d2, sync, "master");
  await ensureSyncRole(d1, sync, "backup");
  return { roles, before, answered, entry, after: daemons() };
}

main().catch((err) => {
  console.log(`GUEST FAILED ${(err as Error).stack}`);
  process.exit(1);
});
