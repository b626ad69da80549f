/**
 * An LVS failover end to end on a real IPVS kernel: two directors in the qemu guest run the
 * built agent against the control plane (`npm start` on the host's loopback, forwarded into the
 * guest), the VIP holder dies, and the other director claims the VIP with the same table. A
 * long-lived TCP connection through the first director goes on through the second when
 * connection sync is on, and is reset when it is off (test/ipvs/failover-guest.ts). Needs what
 * test/ipvs/ipvs.test.ts needs, and the agent bundle the test run builds first.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type LvsRound, lvsFailover } from "./lvs-failover.mjs";

let on: LvsRound;
let off: LvsRound;

beforeAll(async () => {
  const { rounds } = await lvsFailover("vigil", [true, false]);
  [on, off] = rounds as [LvsRound, LvsRound];
}, 900_000);

describe("LVS failover with connection sync (qemu, two directors, the built agent)", () => {
  it("the other director claims the VIP and has the same IPVS table", () => {
    for (const round of [on, off]) {
      expect(round.other).not.toBe(round.holder);
      expect(round.sameTable).toBe(true);
      expect(round.claimMs).toBeGreaterThan(0);
      expect(round.freshServed).toMatch(/^rs[12] 1$/);
    }
  });

  it("with sync on, the backup has the connection before the failover and it goes on through the new holder, to the same real server", () => {
    expect(on.sync).toBe(true);
    expect(on.inBackup).toBe(true);
    expect(on.survived).toBe(true);
    expect(on.error).toBeNull();
    expect(on.servedAfter).toEqual([on.servedBy]);
    expect(on.gapMs).toBeGreaterThan(0);
  });

  it("with sync off, the new holder does not know the connection and the client is reset", () => {
    expect(off.sync).toBe(false);
    expect(off.inBackup).toBe(false);
    expect(off.survived).toBe(false);
    expect(off.error).toBe("ECONNRESET");
  });
});
