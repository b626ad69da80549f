import { describe, expect, it } from "vitest";
import { eventWords } from "../../src/core/event-words.js";

describe("events in words", () => {
  it.each<[string, string, Record<string, unknown>, string]>([
    [
      "target.down",
      "web/web1",
      { fresh: 3, down: 3, healthy: 0, error: "status 503" },
      "web/web1 down: 3 of 3 observers saw it down (status 503)",
    ],
    [
      "target.down",
      "web/web1",
      { fresh: 3, down: 2, healthy: 1, error: null },
      "web/web1 down: 2 of 3 observers saw it down",
    ],
    ["target.up", "web/web1", { fresh: 3, healthy: 3 }, "web/web1 up: 3 of 3 observers see it up"],
    ["target.up", "web/web1", { fresh: 3 }, "web/web1 up"],
    ["target.up", "web/web1", { healthy: 3 }, "web/web1 up"],
    [
      "target.degraded",
      "web/web1",
      { fresh: 3, down: 0, error: "slow" },
      "web/web1 degraded: 0 of 3 observers saw it degraded (slow)",
    ],
    ["target.down", "web/web1", { fresh: 3, error: "" }, "web/web1 down"],
    ["target.down", "web/web1", { down: 2 }, "web/web1 down"],
    ["quorum.lost", "web/web1", { fresh: 1, required: 2 }, "web/web1: too few fresh votes to decide (1 of 2 needed)"],
    ["quorum.lost", "web/web1", {}, "web/web1: too few fresh votes to decide (0 of ? needed)"],
    ["quorum.regained", "web/web1", {}, "web/web1: enough observers vote again"],
    ["vip.moved", "VI_1", { from: "lb1" }, "VI_1 moved lb1 -> ?"],
    ["vip.moved", "VI_1", { from: "", to: "lb2", afterMs: 0, reason: "" }, "VI_1 held by lb2"],
    ["lease.expired", "VI_1", {}, "VI_1: the holder's lease expired (it stopped renewing)"],
    ["agent.online", "lb2", {}, "lb2's agent connected"],
    ["command.failed", "lb2", { error: "ip: exit 2" }, "lb2: a command failed: ip: exit 2"],
    ["command.failed", "lb2", {}, "lb2: a command failed"],
    ["program.refused", "VI_1", {}, "an agent refused to run a program for VI_1"],
    ["service.below_minimum", "web", {}, "web: fewer healthy real servers than its minimum"],
    ["service.restored", "web", {}, "web: enough healthy real servers again"],
    ["webhook.failing", "ops", {}, "webhook ops keeps failing"],
    ["something.new", "x", {}, "something.new x"],
    [
      "vip.moved",
      "VI_1",
      { from: "lb1", to: "lb2", reason: "lb1's lease expired: it stopped answering", afterMs: 1420 },
      "VI_1 moved lb1 -> lb2 in 1.4 s: lb1's lease expired: it stopped answering",
    ],
    ["vip.moved", "VI_1", { from: null, to: "lb1", reason: "first holder" }, "VI_1 held by lb1: first holder"],
    ["lease.expired", "VI_1", { node: "lb1", epoch: 3 }, "VI_1: lb1's lease expired (it stopped renewing)"],
    ["agent.offline", "lb2", { node: "lb2" }, "lb2's agent went away"],
    [
      "program.refused",
      "VI_1",
      { node: "lb1", program: "/bin/sh", reason: "not in the allowlist" },
      "lb1 refused to run /bin/sh for VI_1: not in the allowlist",
    ],
    ["webhook.test", "ops", {}, "webhook.test ops"],
  ])("%s %s", (type, subject, details, words) => {
    expect(eventWords({ type, subject, details })).toBe(words);
  });
});
