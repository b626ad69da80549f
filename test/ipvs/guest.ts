/**
 * Runs inside the qemu guest (bundled by test/ipvs/ipvs.test.ts): the agent's own IPVS driver
 * against the guest kernel's IPVS, then NAT traffic through it. Prints one line
 * `OBSERVED <json>` with what happened; the test on the host asserts on it.
 */
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import { ProcessRunner } from "../../host-agent/src/runner.js";
import { desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";
import { http, sh, tally } from "./guest-kit.js";

const service = (over: Record<string, unknown>) =>
  desiredService(
    VirtualService.parse({
      name: "web",
      vipGroup: "VI_1",
      address: "10.77.0.100",
      port: 80,
      scheduler: "rr",
      forwarding: "nat",
      realServers: [
        { name: "rs1", address: "10.77.1.21", port: 80, weight: 1 },
        { name: "rs2", address: "10.77.2.22", port: 80, weight: 1 },
      ],
      ...over,
    }),
    () => "up",
  );
const rs = (weights: [number, number] | [number]) =>
  weights.map((weight, i) => ({
    name: `rs${i + 1}`,
    address: i === 0 ? "10.77.1.21" : "10.77.2.22",
    port: 80,
    weight,
  }));

/** Director in the root namespace, a client and two real servers (busybox httpd) in their own. */
function network(): void {
  const lines = [
    "ip netns add client; ip netns add rs1; ip netns add rs2",
    "ip link add c0 type veth peer name eth0 netns client",
    "ip link add r1 type veth peer name eth0 netns rs1",
    "ip link add r2 type veth peer name eth0 netns rs2",
    "ip addr add 10.77.0.1/24 dev c0; ip addr add 10.77.0.100/32 dev c0",
    "ip addr add 10.77.1.1/24 dev r1; ip addr add 10.77.2.1/24 dev r2",
    "for l in c0 r1 r2; do ip link set $l up; done",
    "for n in client:10.77.0.50:10.77.0.1 rs1:10.77.1.21:10.77.1.1 rs2:10.77.2.22:10.77.2.1; do IFS=: read ns a gw <<< $n; ip -n $ns link set lo up; ip -n $ns addr add $a/24 dev eth0; ip -n $ns link set eth0 up; ip -n $ns route add default via $gw; done",
    "echo 1 > /proc/sys/net/ipv4/ip_forward",
    "for s in rs1 rs2; do mkdir -p /www/$s; echo $s > /www/$s/index.html; done",
    "ip netns exec rs1 httpd -p 10.77.1.21:80 -h /www/rs1",
    "ip netns exec rs2 httpd -p 10.77.2.22:80 -h /www/rs2",
  ];
  sh("bash", "-c", lines.join("\n"));
}

const fetch = (n: number) => http("client", "http://10.77.0.100/", n);

async function main(): Promise<void> {
  const driver = new IpvsDriver(new ProcessRunner(10_000));
  const observed: Record<string, unknown> = {};
  network();
  const steps: [string, Parameters<typeof service>[0]][] = [
    ["fromEmpty", {}],
    ["weight", { realServers: rs([3, 1]), scheduler: "wrr" }],
    ["add", { realServers: [...rs([3, 1]), { name: "rs3", address: "10.77.2.23", port: 80 }], scheduler: "wrr" }],
    ["remove", { realServers: rs([3, 1]), scheduler: "wrr" }],
    ["scheduler", { realServers: rs([3, 1]), scheduler: "wlc", persistence: { timeout: 50 } }],
    ["unchanged", { realServers: rs([3, 1]), scheduler: "wlc", persistence: { timeout: 50 } }],
  ];
  for (const [name, over] of steps) {
    const result = await driver.sync([service(over)]);
    observed[name] = { sent: result.sent, actual: result.actual };
  }
  observed.saved = sh("ipvsadm", "-S", "-n");
  try {
    // A kernel refusal in the middle: ipvsadm prints it, applies the next line and exits 0.
    await driver.apply([
      "-e -t 10.77.0.100:80 -r 10.77.0.99:80 -m -w 5",
      "-a -t 10.77.0.100:80 -r 10.77.2.24:80 -m -w 1",
    ]);
    observed.rejected = null;
  } catch (err) {
    observed.rejected = (err as Error).message;
  }
  await driver.sync([service({})]);
  observed.rr = fetch(6);
  observed.status = await driver.status([service({})]);
  await driver.sync([service({ realServers: rs([3, 1]), scheduler: "wrr" })]);
  observed.wrr = tally(fetch(8));
  await driver.sync([service({ realServers: rs([1]) })]);
  observed.removed = tally(fetch(4));
  console.log(`OBSERVED ${JSON.stringify(observed)}`);
}

main().catch((err) => {
  console.log(`GUEST FAILED ${(err as Error).stack}`);
  process.exit(1);
});
