/** Reading the kernel's IPVS sync daemons and the ipvsadm commands that put one in a role. */
import { describe, expect, it } from "vitest";
import { parseDaemons, syncCommands } from "../../host-agent/src/lvs-sync.js";

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
});
