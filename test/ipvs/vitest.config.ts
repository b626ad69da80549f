import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "ipvs",
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    include: ["test/ipvs/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
