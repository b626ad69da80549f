/**
 * The IPVS driver's pure half: reading `ipvsadm -S -n`, the table desired services make, and
 * the smallest `ipvsadm -R` edit between them; and the driver's sync on the stateful fake host
 * (test/ipvs runs it against the real ipvsadm in a qemu guest).
 */
import { describe, expect, it } from "vitest";
import {
  editLines,
  IpvsDriver,
  parseList,
  parseSave,
  renderTable,
  serviceKey,
  tableOf,
} from "../../host-agent/src/ipvs.js";
import { type DesiredService, desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";
import { FakeHost } from "./fake-host.js";

const web = (over: Record<string, unknown> = {}) =>
  desiredService(
    VirtualService.parse({
      name: "web",
      vipGroup: "VI_1",
      address: "10.77.0.100",
      port: 80,
      scheduler: "wrr",
      forwarding: "nat",
      persistence: { timeout: 50 },
      realServers: [
        { name: "web1", address: "10.77.0.21", port: 8080, weight: 3 },
        { name: "web2", address: "10.77.0.22", port: 8080, weight: 1 },
      ],
      ...over,
    }),
    () => "up",
  );

const SAVED = `-A -t 10.77.0.100:80 -s wrr -p 50
-a -t 10.77.0.100:80 -r 10.77.0.21:8080 -m -w 3
-a -t 10.77.0.100:80 -r 10.77.0.22:8080 -m -w 1
-A -u 10.77.0.100:53 -s sh
-a -u 10.77.0.100:53 -r 10.77.0.23:53 -g -w 2
-A -f 7 -s rr
-a -f 7 -r 10.77.0.21:0 -g -w 1
`;

const LISTED = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.77.0.100:80 wrr persistent 50
  -> 10.77.0.21:8080              Masq    3      2          7
  -> 10.77.0.22:8080              Masq    1      0          1
UDP  [fd00::100]:53 sh
  -> [fd00::23]:53                Route   2      0          0
FWM  7 rr
`;

describe("IPVS tables", () => {
  it("reads ipvsadm -L -n with connection counts, keyed as ipvsadm -S -n keys services", () => {
    const listing = parseList(LISTED);
    expect([...listing.keys()]).toEqual(["-t 10.77.0.100:80", "-u [fd00::100]:53", "-f 7"]);
    expect(listing.get(serviceKey(web()))).toEqual({
      scheduler: "wrr",
      servers: [
        { address: "10.77.0.21", port: 8080, weight: 3, forward: "Masq", activeConns: 2, inactiveConns: 7 },
        { address: "10.77.0.22", port: 8080, weight: 1, forward: "Masq", activeConns: 0, inactiveConns: 1 },
      ],
    });
    expect(listing.get("-u [fd00::100]:53")?.servers).toEqual([
      { address: "fd00::23", port: 53, weight: 2, forward: "Route", activeConns: 0, inactiveConns: 0 },
    ]);
    expect(listing.get("-f 7")?.servers).toEqual([]);
  });

  it("reads ipvsadm -S -n back into the same table the desired service makes", () => {
    const live = parseSave(SAVED);
    expect([...live.keys()]).toEqual(["-t 10.77.0.100:80", "-u 10.77.0.100:53", "-f 7"]);
    expect(renderTable(new Map([...live].filter(([k]) => k === "-t 10.77.0.100:80")))).toEqual(
      renderTable(tableOf([web()])),
    );
  });

  it("writes IPv6, UDP and firewall-mark services the way ipvsadm prints them", () => {
    const v6 = web({
      address: "fd00::100",
      realServers: [{ name: "a", address: "fd00::21", port: 80 }],
      forwarding: "dr",
      port: 80,
    });
    const udp = web({
      protocol: "udp",
      port: 53,
      scheduler: "sh",
      persistence: undefined,
      forwarding: "dr",
      realServers: [{ name: "dns", address: "10.77.0.23", port: 53, weight: 2 }],
    });
    const mark = web({
      address: undefined,
      port: undefined,
      fwmark: 7,
      scheduler: "rr",
      persistence: undefined,
      forwarding: "dr",
      realServers: [{ name: "a", address: "10.77.0.21", port: 80 }],
    });
    expect(renderTable(tableOf([v6, udp, mark]))).toEqual([
      "-A -f 7 -s rr",
      "-a -f 7 -r 10.77.0.21:0 -g -w 1",
      "-A -t [fd00::100]:80 -s wrr -p 50",
      "-a -t [fd00::100]:80 -r [fd00::21]:80 -g -w 1",
      "-A -u 10.77.0.100:53 -s sh",
      "-a -u 10.77.0.100:53 -r 10.77.0.23:53 -g -w 2",
    ]);
  });

  it.each<[string, () => DesiredService, string[]]>([
    ["nothing changed", () => web(), []],
    [
      "a weight change",
      () =>
        web({
          realServers: [
            { name: "web1", address: "10.77.0.21", port: 8080, weight: 5 },
            { name: "web2", address: "10.77.0.22", port: 8080, weight: 1 },
          ],
        }),
      ["-e -t 10.77.0.100:80 -r 10.77.0.21:8080 -m -w 5"],
    ],
    [
      "a server removed",
      () => web({ realServers: [{ name: "web1", address: "10.77.0.21", port: 8080, weight: 3 }] }),
      ["-d -t 10.77.0.100:80 -r 10.77.0.22:8080"],
    ],
    [
      "a server added",
      () =>
        web({
          realServers: [
            { name: "web1", address: "10.77.0.21", port: 8080, weight: 3 },
            { name: "web2", address: "10.77.0.22", port: 8080, weight: 1 },
            { name: "web3", address: "10.77.0.24", port: 8080 },
          ],
        }),
      ["-a -t 10.77.0.100:80 -r 10.77.0.24:8080 -m -w 1"],
    ],
    ["a scheduler change", () => web({ scheduler: "rr" }), ["-E -t 10.77.0.100:80 -s rr -p 50"]],
    [
      "persistence with a netmask",
      () => web({ persistence: { timeout: 300, netmask: "255.255.255.0" } }),
      ["-E -t 10.77.0.100:80 -s wrr -p 300 -M 255.255.255.0"],
    ],
  ])("edits only what differs: %s", (_name, make, lines) => {
    expect(editLines(parseSave(SAVED), tableOf([make()]), ["-t 10.77.0.100:80"])).toEqual(lines);
  });

  it("removes a service it managed when it is no longer desired, and never one it did not add", () => {
    const live = parseSave(SAVED);
    expect(editLines(live, tableOf([]), ["-t 10.77.0.100:80"])).toEqual(["-D -t 10.77.0.100:80"]);
    expect(editLines(live, tableOf([web()]), [])).toEqual([]);
  });

  it("builds a new service from empty in one edit", () => {
    expect(editLines(new Map(), tableOf([web()]), [])).toEqual([
      "-A -t 10.77.0.100:80 -s wrr -p 50",
      "-a -t 10.77.0.100:80 -r 10.77.0.21:8080 -m -w 3",
      "-a -t 10.77.0.100:80 -r 10.77.0.22:8080 -m -w 1",
    ]);
  });
});

describe("the IPVS driver against the fake host", () => {
  it("programs the table in one edit, sends nothing when in step, one line for a weight, and leaves a foreign service alone", async () => {
    const host = new FakeHost();
    // A service someone else made by hand: never touched.
    host.ipvs.set("-t 10.77.0.200:443", { scheduler: "rr", persistence: "", servers: new Map() });
    const driver = new IpvsDriver(host);
    const first = await driver.sync([web()]);
    expect(first.sent).toEqual([
      "-A -t 10.77.0.100:80 -s wrr -p 50",
      "-a -t 10.77.0.100:80 -r 10.77.0.21:8080 -m -w 3",
      "-a -t 10.77.0.100:80 -r 10.77.0.22:8080 -m -w 1",
    ]);
    expect((await driver.sync([web()])).sent).toEqual([]);
    const reweighted = web({
      realServers: [
        { name: "web1", address: "10.77.0.21", port: 8080, weight: 5 },
        { name: "web2", address: "10.77.0.22", port: 8080, weight: 1 },
      ],
    });
    expect((await driver.sync([reweighted])).sent).toEqual(["-e -t 10.77.0.100:80 -r 10.77.0.21:8080 -m -w 5"]);
    expect((await driver.sync([])).sent).toEqual(["-D -t 10.77.0.100:80"]);
    expect([...host.ipvs.keys()]).toEqual(["-t 10.77.0.200:443"]);
  });

  it("fails an edit whose line the kernel refused, though ipvsadm exits 0", async () => {
    const driver = new IpvsDriver(new FakeHost());
    await expect(driver.apply(["-a -t 10.77.0.9:80 -r 10.77.0.21:8080 -m -w 3"])).rejects.toThrow(
      /ipvsadm -R exited 1: Service not defined/,
    );
  });
});
