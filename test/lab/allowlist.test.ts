/**
 * An admin token is not a root shell on the directors: the built agent, in its own namespace
 * against a real control plane, is sent a script check and a notify hook for `/bin/sh`, which
 * its allowlist does not name. Neither runs (their marker files never appear); the check shows
 * `unknown` with the refusal in GET .../health, and each refusal is a `program.refused` event.
 * Needs root (network namespaces).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labPrerequisites } from "./lab.mjs";
import { CLUSTER, labCluster, VigilLab } from "./vigil-lab.mjs";

const missing = labPrerequisites();
let v: VigilLab;
let dir = "";
const marker = (name: string) => path.join(dir, name);

beforeAll(async () => {
  if (missing.length > 0) throw new Error(`the network lab needs ${missing.join(", ")}`);
  dir = mkdtempSync(path.join(tmpdir(), "vigil-allowlist-"));
  const cluster = labCluster(["lb1"]) as {
    checks: unknown[];
    vipGroups: { track: unknown[]; notify: Record<string, unknown> }[];
  };
  cluster.checks.push({
    name: "evil",
    type: "script",
    exec: { path: "/bin/sh", args: ["-c", `touch ${marker("check")}`] },
    interval: 1,
    timeout: 0.5,
    observers: { agents: ["lb1"] },
  });
  const group = cluster.vipGroups[0] as { track: unknown[]; notify: Record<string, unknown> };
  group.track.push({ check: "evil", weight: 10 });
  group.notify.master = { path: "/bin/sh", args: ["-c", `touch ${marker("hook")}`] };
  v = await VigilLab.start({ directors: ["lb1"], cluster });
});

afterAll(async () => {
  await v?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the agent's allowlist, end to end", () => {
  it("runs neither a script check nor a hook it does not list, and the API shows why", async () => {
    const refusal = "/bin/sh is not in the agent's allowlist";
    let observer: { state?: string; error?: string } | undefined;
    await v.until("the refused check in GET .../health", async () => {
      const health = await v.api("GET", `/v1/clusters/${CLUSTER}/health`);
      const target = health.body.targets.find((t: { target: string }) => t.target === "node:lb1/evil");
      observer = target?.observers.find((o: { observer: string }) => o.observer === "agent:lb1");
      return observer?.error === `refused: ${refusal}`;
    });
    expect(observer?.state).toBe("unknown");

    // lb1 holds VI_1, so its master hook was asked for and refused.
    await v.until("lb1 holding VI_1", async () => (await v.leases())[0]?.holder === "lb1");
    let refused: { subject: string; details: Record<string, unknown> }[] = [];
    try {
      await v.until("both refusals as events", async () => {
        const events = (await v.api("GET", `/v1/clusters/${CLUSTER}/events?type=program.refused`)).body;
        refused = events;
        return events.length >= 2;
      });
    } catch (err) {
      // What each side saw, for the one who reads the failure.
      throw new Error(
        `${(err as Error).message}; events: ${JSON.stringify(refused)}\n--- lb1 agent ---\n${v.agentLog("lb1").slice(-3000)}\n--- control plane ---\n${v.controlPlaneLog().slice(-3000)}`,
      );
    }
    const bySubject = Object.fromEntries(refused.map((e) => [e.subject, e.details]));
    expect(bySubject["node:lb1/evil"]).toMatchObject({
      node: "lb1",
      kind: "check",
      program: "/bin/sh",
      reason: refusal,
    });
    expect(bySubject.VI_1).toMatchObject({ node: "lb1", kind: "hook", state: "master", program: "/bin/sh" });
    expect(refused).toHaveLength(2);
    expect(existsSync(marker("check"))).toBe(false);
    expect(existsSync(marker("hook"))).toBe(false);
  });
});
