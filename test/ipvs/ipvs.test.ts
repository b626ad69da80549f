/**
 * IPVS for real: Debian's kernel under qemu (test/ipvs/vm.sh), the agent's own IPVS driver
 * running inside the guest with node and the real ipvsadm (test/ipvs/guest.ts). The rules it
 * writes are accepted and read back as intended, edits are minimal, a kernel-rejected line is
 * a failure, and NAT traffic follows rr and wrr weights and stops reaching a removed server.
 * Needs qemu-system-x86, busybox-static, ipvsadm, cpio and kmod (CI's .ci/run installs them)
 * and downloads the kernel package once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runGuest } from "./guest-run.mjs";

let observed: Record<string, any> = {};

beforeAll(async () => {
  observed = await runGuest("guest.ts");
}, 600_000);

describe("the IPVS driver against a real kernel (qemu)", () => {
  it("builds a service from empty and reads it back as written", () => {
    expect(observed.fromEmpty).toEqual({
      sent: [
        "-A -t 10.77.0.100:80 -s rr",
        "-a -t 10.77.0.100:80 -r 10.77.1.21:80 -m -w 1",
        "-a -t 10.77.0.100:80 -r 10.77.2.22:80 -m -w 1",
      ],
      actual: [
        "-A -t 10.77.0.100:80 -s rr",
        "-a -t 10.77.0.100:80 -r 10.77.1.21:80 -m -w 1",
        "-a -t 10.77.0.100:80 -r 10.77.2.22:80 -m -w 1",
      ],
    });
  });

  it("edits minimally: weight, add, remove, scheduler with persistence, and nothing when nothing changed", () => {
    expect(observed.weight.sent).toEqual([
      "-E -t 10.77.0.100:80 -s wrr",
      "-e -t 10.77.0.100:80 -r 10.77.1.21:80 -m -w 3",
    ]);
    expect(observed.add.sent).toEqual(["-a -t 10.77.0.100:80 -r 10.77.2.23:80 -m -w 1"]);
    expect(observed.remove.sent).toEqual(["-d -t 10.77.0.100:80 -r 10.77.2.23:80"]);
    expect(observed.scheduler.sent).toEqual(["-E -t 10.77.0.100:80 -s wlc -p 50"]);
    expect(observed.unchanged.sent).toEqual([]);
    expect(observed.saved).toContain("-A -t 10.77.0.100:80 -s wlc -p 50");
  });

  it("reports a line the kernel refused inside ipvsadm -R, though ipvsadm exits 0", () => {
    // ipvsadm itself exited 0 here: the driver reads its stderr, and reports code 1.
    expect(observed.rejected).toMatch(/^ipvsadm -R exited 1: .*No such destination/);
  });

  it("reports the live table like ipvsadm -Ln, with each real server's connections", () => {
    const [web] = observed.status;
    expect(web).toMatchObject({ service: "web", present: true, scheduler: "rr" });
    const conns = web.servers.map((s: any) => [s.address, s.forward, s.weight, s.activeConns + s.inactiveConns]);
    // Three requests each under rr; a finished connection stays as inactive for a while.
    expect(conns).toEqual([
      ["10.77.1.21", "Masq", 1, 3],
      ["10.77.2.22", "Masq", 1, 3],
    ]);
  });

  it("balances NAT traffic per rr and wrr weights, and a removed server gets none", () => {
    const rr = observed.rr as string[];
    expect(rr.filter((w) => w === "rs1")).toHaveLength(3);
    expect(rr.filter((w) => w === "rs2")).toHaveLength(3);
    for (let i = 1; i < rr.length; i++) expect(rr[i]).not.toBe(rr[i - 1]);
    expect(observed.wrr).toEqual({ rs1: 6, rs2: 2 });
    expect(observed.removed).toEqual({ rs1: 4 });
  });
});
