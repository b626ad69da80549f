import path from "node:path";
import { defineConfig } from "vitest/config";
import { QuickFirst } from "./quick-first.js";

/**
 * The tests the mutation run (stryker.config.mjs) judges the core by: every core test, and the
 * agent's in-process tests of its lease client, inbox and watchdog. Tests that start the built
 * agent in another process cannot see a mutant (it lives in this process), so they are not here.
 */
export default defineConfig({
  test: {
    name: "mutation",
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    sequence: { sequencer: QuickFirst },
    include: [
      "test/core/**/*.test.ts",
      "test/agent/leases.test.ts",
      "test/agent/lease-client-rules.test.ts",
      "test/agent/quorum.test.ts",
      "test/agent/inbox-unit.test.ts",
      "test/agent/watchdog-unit.test.ts",
    ],
  },
});
