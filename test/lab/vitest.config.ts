import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "lab",
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    include: ["test/lab/**/*.test.ts"],
    // One lab at a time: isolating a director would break anything else running in it.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
