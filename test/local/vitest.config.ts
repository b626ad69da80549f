import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "local",
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    include: ["test/local/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
