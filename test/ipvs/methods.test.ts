/**
 * Every forwarding method and protocol, with traffic, on a real IPVS kernel: Debian's kernel
 * under qemu (test/ipvs/vm.sh) runs test/ipvs/methods-guest.ts, which programs IPVS with the
 * agent's own driver and sends requests from a client namespace to real servers in theirs
 * (test/ipvs/rs-server.mjs). The real servers for direct routing and tunnelling are prepared
 * by the built agent (`vigil-agent realserver`). Each case asserts which real server answered,
 * and at which address the request reached it. Needs what test/ipvs/ipvs.test.ts needs, and
 * the agent bundle the test run builds first (host-agent/dist/vigil-agent.cjs).
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tally } from "./guest-kit.js";
import { runGuest } from "./guest-run.mjs";

let observed: Record<string, any> = {};
const here = import.meta.dirname;

beforeAll(async () => {
  observed = await runGuest("methods-guest.ts", [
    path.join(here, "rs-server.mjs"),
    path.join(here, "udp-client.mjs"),
    path.join(here, "../../host-agent/dist/vigil-agent.cjs"),
  ]);
}, 600_000);

describe("forwarding methods and protocols on a real IPVS kernel (qemu)", () => {
  it("programs every kind of service, the kernel reads each back as written, and a second sync sends nothing", () => {
    // The kernel names a tunnel's type on read-back; ipip is its default.
    const expected = (observed.sent as string[]).map((l) => (l.includes(" -i ") ? `${l} --tun-type ipip` : l));
    expect([...observed.saved].sort()).toEqual(expected.sort());
    for (const kind of [
      "-t 10.88.0.100:80 -r 10.88.0.21:80 -g",
      "-t 10.88.0.101:80 -r 10.88.0.22:80 -i",
      "-f 7 -r 10.77.1.21:0 -m",
    ])
      expect(
        observed.sent.some((l: string) => l.includes(kind)),
        kind,
      ).toBe(true);
    expect(observed.sent).toContain("-A -u 10.77.0.100:53 -s rr");
    expect(observed.sent).toContain("-A -t [fd77::100]:80 -s rr");
    expect(observed.sent).toContain("-A -t 10.77.0.100:8080 -s rr -p 60");
    expect(observed.again).toEqual([]);
  });

  it("NAT: rr alternates between the real servers, each reached at its own address", () => {
    expect(tally(observed.nat)).toEqual({ "rs1 10.77.1.21": 2, "rs2 10.77.2.22": 2 });
  });

  it("direct routing: the real servers, prepared by vigil-agent realserver, get the request still addressed to the VIP", () => {
    expect(tally(observed.dr)).toEqual({ "rs1 10.88.0.100": 2, "rs2 10.88.0.100": 2 });
    // The agent put both VIPs on lo and silenced ARP for them on the LAN interface.
    expect(observed.prepared.rs1).toContain("add 10.88.0.100/32 dev lo: changed");
    expect(observed.prepared.rs1).toContain("lan0.arp_ignore=1");
    expect(observed.arpIgnore).toBe("1");
  });

  it("tunnelling: the director sends the request in IPIP, and the real servers see the VIP", () => {
    expect(tally(observed.tun)).toEqual({ "rs1 10.88.0.101": 2, "rs2 10.88.0.101": 2 });
  });

  it("a firewall-mark service takes the packets tc marked, on their own port", () => {
    expect(tally(observed.fwmark)).toEqual({ "rs1 10.77.1.21": 2, "rs2 10.77.2.22": 2 });
  });

  it("a UDP service balances datagrams, each new socket a new connection", () => {
    expect(tally(observed.udp)).toEqual({ rs1: 2, rs2: 2 });
  });

  it("an IPv6 service balances between IPv6 real servers", () => {
    expect(tally(observed.ipv6)).toEqual({ "rs1 fd77:1::21": 2, "rs2 fd77:2::22": 2 });
  });

  it("persistence keeps a client on one real server for every connection", () => {
    const answers = observed.sticky as string[];
    expect(answers).toHaveLength(6);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^rs[12] /);
  });

  it("persistence outlasts a weight of 0 within its timeout, and the client moves after it", () => {
    const { first, within, after } = observed.udpPersistence as Record<"first" | "within" | "after", string[]>;
    const chosen = first[0];
    expect(chosen).toMatch(/^rs[12]$/);
    expect(first).toEqual([chosen, chosen, chosen, chosen]);
    expect(within).toEqual([chosen, chosen, chosen]);
    const other = chosen === "rs1" ? "rs2" : "rs1";
    expect(after).toEqual([other, other, other]);
  });

  it("syncs connections: the agent makes one director master and the other backup, and a connection the first balances is in the second's table", () => {
    const { roles, before, answered, entry, after } = observed.sync;
    expect(roles).toEqual({ d1: "changed", d2: "changed", d2Again: "unchanged" });
    expect(before).toEqual({
      d1: [{ role: "master", interface: "sync0", syncId: 5 }],
      d2: [{ role: "backup", interface: "sync0", syncId: 5 }],
    });
    expect(answered).toBe("rs3 10.66.1.3");
    // ipvsadm -Lnc: protocol, expiry, state, client, virtual, real server.
    expect(entry).toMatch(/^TCP\s+\S+\s+\S+\s+\S+\s+10\.66\.9\.100:80\s+10\.66\.1\.3:80$/);
    expect(after).toEqual({
      d1: [{ role: "backup", interface: "sync0", syncId: 5 }],
      d2: [{ role: "master", interface: "sync0", syncId: 5 }],
    });
  });

  it("counts each method's connections in the live table, with its forwarding kind", () => {
    const byService = Object.fromEntries(
      (observed.status as { service: string; servers: { forward: string; connections: number }[] }[]).map((s) => [
        s.service,
        s.servers,
      ]),
    );
    for (const [name, forward] of [
      ["nat", "Masq"],
      ["dr", "Route"],
      ["tun", "Tunnel"],
      ["fwmark", "Masq"],
      ["ipv6", "Masq"],
    ] as const) {
      expect(
        byService[name]?.map((s) => s.forward),
        name,
      ).toEqual([forward, forward]);
      expect(
        byService[name]?.map((s) => s.connections),
        name,
      ).toEqual([2, 2]);
    }
  });
});
