import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["test/core/vitest.config.ts", "test/worker/vitest.config.ts"],
  },
});
