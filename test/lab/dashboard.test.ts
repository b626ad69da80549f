/**
 * The dashboard's switchover with real agents: the network lab's control plane and two
 * directors holding VI_1 by lease, Debian's Chromium started inside the control plane's
 * namespace (driven by playwright-core). The admin clicks "Switch over" for lb2, confirms,
 * and the page shows lb2 holding the group; in the lab lb2 holds the VIP. Needs root.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labPrerequisites } from "./lab.mjs";
import { CLUSTER, VigilLab } from "./vigil-lab.mjs";

const shots = path.join(import.meta.dirname, "../../test-results/dashboard");
let v: VigilLab;
let browser: Browser;

beforeAll(async () => {
  const missing = labPrerequisites();
  if (missing.length > 0) throw new Error(`the network lab needs ${missing.join(", ")}`);
  v = await VigilLab.start();
  // Chromium runs where the control plane is: inside the lab's cp namespace.
  const wrapper = path.join(v.dir, "chromium-in-cp");
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${v.lab.ns("cp")} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  browser = await chromium.launch({
    executablePath: wrapper,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
  });
  mkdirSync(shots, { recursive: true });
  // After Chromium's start (a load that can delay a 1 s lease's renewal): lb1 holds VI_1, in the lab and by lease.
  await v.until(
    "lb1 holds VI_1",
    async () => (await v.holders()).join() === "lb1" && (await v.leases())[0]?.holder === "lb1",
    30_000,
  );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await v?.stop();
});

describe("switchover from the dashboard", () => {
  it("moves VI_1 to lb2 when an admin asks, and shows the new holder", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto("http://127.0.0.1:8787/ui");
    await page.getByLabel("API token").fill(v.admin);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.goto(`http://127.0.0.1:8787/ui/clusters/${CLUSTER}/vip-groups`);
    // Chromium loads this 2-core machine: a 1 s lease may lapse and come back meanwhile, so
    // the switchover starts from lb1 holding VI_1 again, as the page shows it.
    // (Shown, not read again after: the live page may redraw it in between.)
    await page.locator('[data-field="holder"]', { hasText: "lb1" }).waitFor({ timeout: 15_000 });
    let asked = "";
    page.once("dialog", (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.getByRole("button", { name: "Switch VI_1 over to lb2" }).click();
    // The API waits up to 15 s for the handover; the page answers after it, on a loaded machine.
    try {
      await page.getByRole("alert").waitFor({ timeout: 30_000 });
    } catch (err) {
      // What each side saw, for the one who reads the failure.
      throw new Error(
        `${(err as Error).message}\n--- page ---\n${(await page.locator("main").textContent())?.slice(0, 2000)}\n--- lb1 agent ---\n${v.agentLog("lb1").slice(-2000)}\n--- lb2 agent ---\n${v.agentLog("lb2").slice(-2000)}\n--- control plane ---\n${v.controlPlaneLog().slice(-3000)}`,
      );
    }
    expect(asked).toBe("Move VI_1 to lb2?");
    expect(await page.getByRole("alert").textContent()).toBe("VI_1 switched over.");
    await page.locator('[data-field="holder"]', { hasText: "lb2" }).waitFor({ timeout: 10_000 });
    // The page shows the grant; lb2's agent adds the address as the grant reaches it.
    await v.until("lb2 holding the VIP on its interface", async () => (await v.holders()).join() === "lb2", 5_000);
    expect(await v.holders()).toEqual(["lb2"]);
    await page.screenshot({ path: path.join(shots, "switchover-desktop.png"), fullPage: true });
  });
});
