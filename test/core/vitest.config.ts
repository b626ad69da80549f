import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "core",
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    include: ["test/core/**/*.test.ts"],
  },
});
