import { execFileSync } from "node:child_process";
import { defineConfig } from "vitest/config";
import SummaryReporter from "./test/summary-reporter.js";

// Nothing started by the tests may talk to anything but localhost.
Object.assign(process.env, {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
});

// The agent bundles and the files the Worker serves for installs (wrangler.toml's [assets]).
execFileSync("node", ["host-agent/build.mjs"], { stdio: "inherit" });

export default defineConfig({
  test: {
    projects: [
      "test/core/vitest.config.ts",
      "test/worker/vitest.config.ts",
      "test/edge/vitest.config.ts",
      "test/agent/vitest.config.ts",
      "test/local/vitest.config.ts",
      "test/lab/vitest.config.ts",
      "test/ipvs/vitest.config.ts",
      "test/browser/vitest.config.ts",
    ],
    reporters: ["default", new SummaryReporter()],
  },
});
