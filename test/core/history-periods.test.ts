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
});
