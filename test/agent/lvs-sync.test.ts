/** Reading the kernel's IPVS sync daemons and the ipvsadm commands that put one in a role. */
import { describe, expect, it } from "vitest";
import { Backends } from "../../host-agent/src/backends.js";
import { HaproxyDriver } from "../../host-agent/src/haproxy.js";
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import { parseDaemons, syncCommands } from "../../host-agent/src/lvs-sync.js";
import type { Runner } from "../../host-agent/src/runner.js";
import { desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";

const MASTER = "master sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)";
const BACKUP = "backup sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)";
const start = (role: string, iface = "eth1", id = 5) => [
  "ipvsadm",
  "--start-daemon",
  role,
  "--mcast-interface",
  iface,
  "--syncid",
  String(id),
];
const stop = (role: string) => ["ipvsadm", "--stop-daemon", role];

describe("the IPVS sync daemon", () => {
  it("reads what ipvsadm -L --daemon prints (as the guest kernel in test/ipvs prints it)", () => {
    expect(parseDaemons("")).toEqual([]);
    expect(parseDaemons(`${MASTER}\n${BACKUP}\n`)).toEqual([
      { role: "master", interface: "eth1", syncId: 5 },
      { role: "backup", interface: "eth1", syncId: 5 },
    ]);
  });

  it.each([
    ["nothing runs, backup wanted", "", "backup", [start("backup")]],
    ["backup runs, master wanted", BACKUP, "master", [stop("backup"), start("master")]],
    ["master runs, backup wanted", MASTER, "backup", [stop("master"), start("backup")]],
    ["master runs, master wanted", MASTER, "master", []],
    ["both run, master wanted", `${MASTER}\n${BACKUP}`, "master", [stop("backup")]],
    ["master on another interface", MASTER.replace("eth1", "eth2"), "master", [stop("master"), start("master")]],
    ["master with another id", MASTER.replace("syncid=5", "syncid=6"), "master", [stop("master"), start("master")]],
  ] as const)("%s", (_name, listed, role, commands) => {
    expect(syncCommands(parseDaemons(listed), { interface: "eth1", syncId: 5 }, role)).toEqual(commands);
  });

  it("is reported with the IPVS services' live table, and not read where ipvsadm cannot read the table", async () => {
    let daemons = "";
    let ipvsWorks = true;
    // ipvsadm as it answers on a director with one service (the qemu test drives the real one).
    const runner: Runner = {
      run: async (argv) => {
        const words = argv.slice(1).join(" ");
        if (!ipvsWorks) return { code: 2, stdout: "", stderr: "Can't initialize ipvs: Protocol not available" };
        if (words === "-L --daemon") return { code: 0, stdout: daemons, stderr: "" };
        if (words === "-L -n")
          return { code: 0, stdout: "TCP  10.0.0.10:80 rr\n  -> 10.0.0.21:80  Route  1  0  0\n", stderr: "" };
        return { code: 0, stdout: "", stderr: "" };
      },
    };
    const backends = new Backends(new IpvsDriver(runner), new HaproxyDriver(async () => ""));
    const web = VirtualService.parse({
      name: "web",
      vipGroup: "VI_1",
      address: "10.0.0.10",
      port: 80,
      forwarding: "dr",
      realServers: [{ name: "rs1", address: "10.0.0.21", port: 80 }],
    });
    await backends.sync([desiredService(web, () => "up")]).catch(() => undefined);
    expect((await backends.status()).sync).toEqual([]);
    daemons = `${BACKUP}\n`;
    expect((await backends.status()).sync).toEqual([{ role: "backup", interface: "eth1", syncId: 5 }]);
    ipvsWorks = false;
    const broken = await backends.status();
    expect(broken.sync).toBeUndefined();
    expect(Object.keys(broken.errors)).toEqual(["ipvs"]);
  });
});
