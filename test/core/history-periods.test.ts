import { describe, expect, it } from "vitest";
import { downPeriods, holdings, uptime } from "../../src/core/history-periods.js";

const at = (minute: number) => new Date(Date.UTC(2026, 11, 5, 10, minute)).toISOString();
const ms = (minute: number) => Date.UTC(2026, 11, 5, 10, minute);

describe("down periods", () => {
  it("pairs each down with the up that ends it, clips to the range, and leaves one open while down", () => {
    const events = [
      { type: "target.up", at: at(50), details: {} },
      { type: "target.down", at: at(40), details: {} },
      { type: "target.down", at: at(5), details: {} },
      { type: "target.up", at: at(15), details: {} },
      { type: "target.down", at: at(55), details: {} },
    ];
    expect(downPeriods(events, ms(10), ms(60))).toEqual([
      { from: at(10), to: at(15) },
      { from: at(40), to: at(50) },
      { from: at(55), to: null },
    ]);
    expect(downPeriods(events, ms(16), ms(39))).toEqual([]);
  });

  it("counts a second down inside an open period as nothing, and an up with nothing open as nothing", () => {
    const events = [
      { type: "target.up", at: at(1), details: {} },
      { type: "target.down", at: at(5), details: {} },
      { type: "target.down", at: at(8), details: {} },
      { type: "target.up", at: at(15), details: {} },
      { type: "target.up", at: at(20), details: {} },
    ];
    expect(downPeriods(events, ms(0), ms(60))).toEqual([{ from: at(5), to: at(15) }]);
  });

  it("leaves out a period that ended as the range starts or began as it ends", () => {
    const events = [
      { type: "target.down", at: at(5), details: {} },
      { type: "target.up", at: at(10), details: {} },
      { type: "target.down", at: at(30), details: {} },
    ];
    expect(downPeriods(events, ms(10), ms(30))).toEqual([]);
    expect(downPeriods(events, ms(9), ms(31))).toEqual([
      { from: at(9), to: at(10) },
      { from: at(30), to: null },
    ]);
  });
});

describe("uptime", () => {
  it("is the share of each slice outside down periods, an open period counting until now", () => {
    const down = [
      { from: at(0), to: at(5) },
      { from: at(30), to: null },
    ];
    expect(uptime(down, ms(0), ms(40), 4, ms(35))).toEqual([0.5, 1, 1, 0.5]);
  });
});

describe("holdings", () => {
  it("tells who held when, why each took over and how each holding ended", () => {
    const events = [
      { type: "vip.moved", at: at(0), details: { from: null, to: "lb1", epoch: 1, reason: "first holder" } },
      { type: "lease.expired", at: at(10), details: { node: "lb1", epoch: 1 } },
      { type: "vip.moved", at: at(11), details: { from: "lb1", to: "lb2", epoch: 2 } },
      { type: "vip.moved", at: at(20), details: { from: "lb2", to: "lb1", epoch: 3, reason: "lb2 released it" } },
    ];
    expect(holdings(events, ms(0))).toEqual([
      {
        node: "lb1",
        epoch: 1,
        from: at(0),
        to: at(10),
        why: "first holder",
        ended: "its lease expired: it stopped renewing",
      },
      { node: "lb2", epoch: 2, from: at(11), to: at(20), why: "lb1's lease expired", ended: "moved to lb1" },
      { node: "lb1", epoch: 3, from: at(20), to: null, why: "lb2 released it", ended: null },
    ]);
    expect(holdings(events, ms(15)).map((h) => h.node)).toEqual(["lb2", "lb1"]);
  });

  it("reads moves in time order, ignores other events and an expiry of another node, and says who gave it up", () => {
    const events = [
      { type: "vip.moved", at: at(20), details: { from: "lb1", to: "lb2", epoch: "2", reason: 7 } },
      { type: "target.down", at: at(12), details: { to: "lb9" } },
      { type: "lease.expired", at: at(15), details: { node: "lb3" } },
      { type: "vip.moved", at: at(10), details: { to: "lb1", epoch: 1 } },
      { type: "lease.expired", at: at(30), details: { node: "lb2" } },
    ];
    expect(holdings(events, ms(0))).toEqual([
      { node: "lb1", epoch: 1, from: at(10), to: at(20), why: "first holder", ended: "moved to lb2" },
      {
        node: "lb2",
        epoch: null,
        from: at(20),
        to: at(30),
        why: "lb1 gave it up",
        ended: "its lease expired: it stopped renewing",
      },
    ]);
    expect(holdings(events, ms(30))).toEqual([]);
  });
});
