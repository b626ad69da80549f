import { describe, expect, it } from "vitest";
import { verdictEvents } from "../../src/core/verdict-events.js";
import type { VoteState } from "../../src/core/vote.js";

type Known = Exclude<VoteState, "unknown">;

describe("verdictEvents", () => {
  it.each<[VoteState, VoteState, Known | null, string[]]>([
    ["unknown", "up", null, []],
    ["unknown", "down", null, ["target.down"]],
    ["up", "down", "up", ["target.down"]],
    ["down", "up", "down", ["target.up"]],
    ["up", "degraded", "up", ["target.degraded"]],
    ["up", "up", "up", []],
    ["up", "unknown", "up", ["quorum.lost"]],
    ["unknown", "up", "up", ["quorum.regained"]],
    ["unknown", "down", "up", ["quorum.regained", "target.down"]],
    ["unknown", "unknown", "up", []],
  ])("%s -> %s (last known %s)", (from, to, lastKnown, types) => {
    expect(verdictEvents("web/web1", from, to, lastKnown, {}).map((e) => e.type)).toEqual(types);
  });

  it("says where a target came from and went to", () => {
    const [event] = verdictEvents("web/web1", "up", "down", "up", { down: 2, fresh: 3 });
    expect(event).toEqual({
      type: "target.down",
      severity: "critical",
      subject: "web/web1",
      details: { down: 2, fresh: 3, from: "up", to: "down" },
    });
  });

  it("says what a target was when quorum was lost, and that it came back", () => {
    expect(verdictEvents("web/web1", "degraded", "unknown", "degraded", { fresh: 1 })).toEqual([
      { type: "quorum.lost", severity: "warning", subject: "web/web1", details: { fresh: 1, was: "degraded" } },
    ]);
    expect(verdictEvents("web/web1", "unknown", "degraded", "up", { fresh: 3 })).toEqual([
      { type: "quorum.regained", severity: "info", subject: "web/web1", details: { fresh: 3 } },
      {
        type: "target.degraded",
        severity: "warning",
        subject: "web/web1",
        details: { fresh: 3, from: "up", to: "degraded" },
      },
    ]);
  });

  it("gives a first verdict other than up as coming from unknown", () => {
    expect(verdictEvents("web/web1", "unknown", "down", null, {})).toEqual([
      { type: "target.down", severity: "critical", subject: "web/web1", details: { from: "unknown", to: "down" } },
    ]);
  });
});
