/**
 * The dashboard in Debian's Chromium (headless, driven by playwright-core) against `npm start`
 * on a fresh checkout. Real probers in three regions check a loopback web server that fails
 * only for region apac: the matrix shows apac down and the quorum verdict up, then, when the
 * server fails for everyone, the row turns down live, without a reload. An admin's switchover
 * reaches the API and its answer is shown; a read token sees no buttons and a forged post is
 * refused; sign-out ends the session. Screenshots of every page, desktop and phone width, go
 * to test-results/. Needs the chromium package (CI's .ci/run installs it).
 */
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../local/control-plane.js";

const CHROMIUM = "/usr/bin/chromium";
const shots = path.join(import.meta.dirname, "../../test-results/dashboard");
let plane: ControlPlane;
let web: Server;
let browser: Browser;
let readToken = "";
/** Which probes the web server fails: those from apac, or all. */
let failing: "apac" | "all" = "apac";

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

async function signedIn(
  token: string,
  size: keyof typeof SIZES = "desktop",
  on: { url: string } = plane,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: SIZES[size] });
  const page = await context.newPage();
  await page.goto(`${on.url}/ui`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${on.url}/ui`);
  return { context, page };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Chromium is not installed (apt-get install chromium)");
  mkdirSync(shots, { recursive: true });
  web = createServer((req, res) => {
    const apac = (req.headers["user-agent"] ?? "").includes("region=apac");
    res.writeHead(failing === "all" || apac ? 503 : 200).end("web1");
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  const port = (web.address() as AddressInfo).port;
  plane = await startControlPlane();
  const doc = {
    cluster: { name: "shop" },
    nodes: [
      { name: "lb1", address: "10.0.0.11" },
      { name: "lb2", address: "10.0.0.12" },
    ],
    checks: [
      {
        name: "web-http",
        type: "http",
        path: "/",
        interval: 1,
        timeout: 0.5,
        retries: 0,
        rise: 1,
        fall: 1,
        observers: { regions: ["weur", "enam", "apac"] },
      },
    ],
    vipGroups: [
      {
        name: "VI_1",
        vips: [{ cidr: "192.168.88.15/24", interface: "eth0" }],
        members: [
          { node: "lb1", priority: 100 },
          { node: "lb2", priority: 50 },
        ],
      },
    ],
    virtualServices: [
      {
        name: "web",
        vipGroup: "VI_1",
        address: "192.168.88.15",
        port: 80,
        realServers: [{ name: "web1", address: "127.0.0.1", port, check: "web-http" }],
      },
    ],
  };
  const created = await plane.call("POST", "/v1/clusters", { name: "shop" });
  if (created.error) throw new Error(JSON.stringify(created));
  const applied = await plane.call("PUT", "/v1/clusters/shop/config", doc);
  if (applied.error) throw new Error(JSON.stringify(applied));
  readToken = (await plane.call("POST", "/v1/tokens", { name: "viewer", role: "read" })).token;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await plane?.stop();
  web?.close();
});

describe("the dashboard in a browser", () => {
  it("signs in and shows the split vote: apac down, the quorum verdict up", async () => {
    const { context, page } = await signedIn(plane.admin);
    await page.getByRole("heading", { name: "Clusters" }).waitFor({ timeout: 30_000 });
    await page.goto(`${plane.url}/ui/clusters/shop/health`);
    const row = page.locator('tr[data-name="web/web1"]');
    await row.locator('td[data-observer="region:apac"].s-down').waitFor({ timeout: 30_000 });
    await row.locator('td[data-observer="region:weur"].s-up').waitFor({ timeout: 30_000 });
    expect(await row.getAttribute("data-state")).toBe("up");
    expect(await row.locator('td[data-observer="region:apac"]').getAttribute("title")).toContain("last error");
    await page.screenshot({ path: path.join(shots, "health-desktop.png"), fullPage: true });

    // Live: the server now fails for every region; the row turns down with no reload.
    // Browser globals, typed loosely: this project's types are the Worker's, not the DOM's.
    await page.evaluate(() => {
      (globalThis as any).marker = 42;
    });
    await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 10_000 });
    failing = "all";
    await page.locator('tr[data-name="web/web1"][data-state="down"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as any).marker)).toBe(42);
    await context.close();
  });

  it("runs a switchover as admin and shows the answer", async () => {
    const { context, page } = await signedIn(plane.admin);
    await page.goto(`${plane.url}/ui/clusters/shop/vip-groups`);
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Switch VI_1 over to lb2" }).click();
    // No agent is connected in this test, so the coordinator says why it cannot move the group.
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(/^Refused \(409\): /);
    await context.close();
  });

  it("gives a read token no buttons and refuses its forged post; sign-out ends the session", async () => {
    const { context, page } = await signedIn(readToken);
    await page.goto(`${plane.url}/ui/clusters/shop/vip-groups`);
    expect(await page.getByRole("button", { name: /Switch .* over/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Drain / }).count()).toBe(0);
    const status = await page.evaluate(async () => {
      const csrf = (globalThis as any).document.querySelector('input[name="_csrf"]').value as string;
      const body = new URLSearchParams({ _csrf: csrf });
      return (await fetch("/ui/clusters/shop/nodes/lb1/drain", { method: "POST", body })).status;
    });
    expect(status).toBe(403);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/ui\/sign-in$/);
    await page.goto(`${plane.url}/ui/clusters/shop/health`);
    expect(new URL(page.url()).pathname).toBe("/ui/sign-in");
    await context.close();
  });

  it("saves a screenshot of every page at desktop and phone width", async () => {
    for (const size of ["desktop", "phone"] as const) {
      const { context, page } = await signedIn(plane.admin, size);
      for (const [name, route] of [
        ["overview", "/ui"],
        ["health", "/ui/clusters/shop/health"],
        ["vip-groups", "/ui/clusters/shop/vip-groups"],
        ["services", "/ui/clusters/shop/services"],
        ["timeline", "/ui/clusters/shop/timeline"],
      ]) {
        await page.goto(`${plane.url}${route}`);
        // Nothing wider than the screen: the tables scroll inside their own box.
        const overflow = await page.evaluate(
          () => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
        );
        expect(overflow, `${name} at ${size} width`).toBeLessThanOrEqual(0);
        await page.screenshot({ path: path.join(shots, `${name}-${size}.png`), fullPage: true });
      }
      await context.close();
    }
  });

  it("says so when the live connection drops", async () => {
    // A control plane of its own to stop, so the other tests keep theirs whatever the order.
    const own = await startControlPlane();
    try {
      await own.call("POST", "/v1/clusters", { name: "drop" });
      const { context, page } = await signedIn(own.admin, "desktop", own);
      await page.goto(`${own.url}/ui/clusters/drop/health`);
      await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 10_000 });
      await own.stop();
      await page.locator('#live-status[data-state="lost"]').waitFor({ timeout: 10_000 });
      expect(await page.locator("#live-status").textContent()).toBe("Live updates lost: reconnecting…");
      await context.close();
    } finally {
      await own.stop();
    }
  });
});
