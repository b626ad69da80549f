/**
 * `npm run demo` as a new user runs it, on a fresh checkout, looked at in Debian's Chromium
 * (headless, playwright-core): sign in with the token it printed, see a target's latency chart
 * with one line per region, its uptime bars, the VIP group's holder band after the tour moved
 * the VIP away and back, the events in words, and the notice that VIP actions are shown, not
 * applied. Screenshots of every page at desktop and phone width go to test-results/demo/.
 * Needs the chromium package (CI's .ci/run installs it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, freshCheckout, stopVigil } from "../../bench/local-run.mjs";

const CHROMIUM = "/usr/bin/chromium";
const shots = path.join(import.meta.dirname, "../../test-results/demo");
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

let checkout: ReturnType<typeof freshCheckout>;
let demo: ChildProcess;
let browser: Browser;
let url = "";
let token = "";
let out = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Chromium is not installed (apt-get install chromium)");
  mkdirSync(shots, { recursive: true });
  checkout = freshCheckout();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // --show: as a newcomer without root sees it (as root the demo would build its namespace lab).
  demo = spawn("npm", ["run", "demo", "--", "--show"], {
    cwd: checkout.dir,
    env: { ...process.env, VIGIL_PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  demo.stdout?.on("data", (c) => {
    out += c;
  });
  demo.stderr?.on("data", (c) => {
    out += c;
  });
  const deadline = Date.now() + 150_000;
  while (!out.includes("The demo keeps running")) {
    if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`the demo's tour did not finish within 150 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  token = /Admin token:\s+(vgl_\S+)/.exec(out)?.[1] ?? "";
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (demo) await stopVigil(demo);
  checkout?.remove();
});

async function signIn(size: keyof typeof SIZES): Promise<Page> {
  const context = await browser.newContext({ viewport: SIZES[size] });
  const page = await context.newPage();
  await page.goto(`${url}/ui`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/ui`);
  return page;
}

describe("the demo in a browser", () => {
  it("shows a target's latency with one line per region, its uptime, the holder band and the events in words", async () => {
    expect(token).toMatch(/^vgl_/);
    expect(out).toContain("--show: VIP actions are shown, not applied (the agents run with hostActions: show).");
    const page = await signIn("desktop");

    await page.goto(`${url}/ui/clusters/demo/health?target=web%2Fweb3`);
    const chart = page.getByRole("img", { name: "Latency of web/web3 by observer, last 24 h" });
    await chart.locator("canvas").waitFor();
    // uPlot's legend: the time axis, then one row per series.
    const series = await chart.locator(".u-legend .u-series .u-label").allTextContents();
    expect(series.slice(1)).toEqual(["region:apac", "region:weur", "region:wnam"]);
    // web3 was down for everyone during the tour: under 100% for the last 24 h.
    const day = page.getByRole("figure", { name: "Last 24 h uptime" });
    expect(Number.parseFloat((await day.locator('[data-field="uptime"]').textContent()) ?? "100")).toBeLessThan(100);
    expect(await day.locator('[data-field="down-for"]').textContent()).toMatch(/^, down \d+ s$/);

    await page.goto(`${url}/ui/clusters/demo/vip-groups`);
    const band = page.locator('svg[data-field="holder-band"] rect.band-seg');
    const holders = await band.evaluateAll((rects) => rects.map((r) => r.getAttribute("data-node")));
    // lb1 first, lb2 once the tour stopped lb1's agent, lb1 again after it came back.
    expect(holders.slice(0, 3)).toEqual(["lb1", "lb2", "lb1"]);
    await expect
      .poll(() => page.locator('[data-field="shown-not-applied"]').textContent())
      .toContain("VIP actions on lb1, lb2 are shown, not applied");

    await page.goto(`${url}/ui/clusters/demo/timeline`);
    const words = await page.locator('[data-field="event-words"]').allTextContents();
    expect(words).toContainEqual(
      expect.stringMatching(/^VI_1 moved lb1 -> lb2 in \d+\.\d s: lb1's lease expired: it stopped answering$/),
    );
    // The verdict turns down once a majority (2 of 3) sees it down; the third may follow.
    expect(words, words.join("\n")).toContainEqual(
      expect.stringMatching(/^web\/web3 down: [23] of 3 observers saw it down \(status 503\)$/),
    );
    await page.context().close();
  });

  it("saves a screenshot of every page at desktop and phone width", async () => {
    const pages: [string, string][] = [
      ["overview", "/ui"],
      ["health", "/ui/clusters/demo/health"],
      ["target", "/ui/clusters/demo/health?target=web%2Fweb3"],
      ["vip-groups", "/ui/clusters/demo/vip-groups"],
      ["services", "/ui/clusters/demo/services"],
      ["timeline", "/ui/clusters/demo/timeline"],
    ];
    for (const size of Object.keys(SIZES) as (keyof typeof SIZES)[]) {
      const page = await signIn(size);
      for (const [name, route] of pages) {
        await page.goto(`${url}${route}`);
        if (name === "target") await page.locator(".chart canvas").waitFor();
        // Usable on a phone: nothing wider than the screen but what scrolls in its own box.
        const overflow = await page.evaluate(() => {
          // Runs in the page: its document and window.
          const g = globalThis as unknown as {
            document: { documentElement: { scrollWidth: number } };
            innerWidth: number;
          };
          return g.document.documentElement.scrollWidth - g.innerWidth;
        });
        expect(overflow, `${name} at ${size} width`).toBeLessThanOrEqual(1);
        await page.screenshot({ path: path.join(shots, `${name}-${size}.png`), fullPage: true });
      }
      await page.context().close();
    }
  });
});
