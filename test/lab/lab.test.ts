/**
 * The lab itself: nodes reach each other on the bridge and nothing else, the faults cut what
 * they say, and `down()` leaves no namespace and none of the processes it started.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { addressOf, Lab, labPrerequisites } from "./lab.mjs";

const missing = labPrerequisites();

/** One ping; `within` > 1 keeps trying that many seconds (a neighbour entry left failed by a cut takes a moment to resolve again). */
const reaches = (lab: Lab, from: string, to: string, within = 1) => {
  try {
    const tries = within > 1 ? ["-c", "1", "-i", "0.25", "-w", String(within)] : ["-c", "1"];
    lab.exec(from, ["ping", "-n", ...tries, "-W", "1", addressOf(to)]);
    return true;
  } catch {
    return false;
  }
};

const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
  } catch {
    return false;
  }
};

describe("the network lab", () => {
  it("isolates, partitions and heals, has no route out, and cleans up after itself", async () => {
    if (missing.length > 0) throw new Error(`the network lab needs ${missing.join(", ")}`);
    const lab = Lab.create(["lb1", "lb2", "client"]);
    const child = lab.spawn("lb1", ["sleep", "60"]);
    try {
      expect(reaches(lab, "client", "lb1")).toBe(true);
      expect(lab.exec("lb1", ["ip", "route", "show", "default"]).trim()).toBe("");
      lab.partition("lb1", "lb2");
      expect([reaches(lab, "lb1", "lb2"), reaches(lab, "client", "lb1"), reaches(lab, "client", "lb2")]).toEqual([
        false,
        true,
        true,
      ]);
      lab.heal();
      lab.isolate("lb2");
      expect([reaches(lab, "client", "lb2"), reaches(lab, "lb1", "lb2"), reaches(lab, "client", "lb1")]).toEqual([
        false,
        false,
        true,
      ]);
      lab.heal();
      expect(reaches(lab, "lb1", "lb2", 3)).toBe(true);
    } finally {
      await lab.down();
    }
    const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    expect(namespaces).not.toContain(lab.prefix);
    expect(alive(child.pid ?? 0)).toBe(false);
  });
});
