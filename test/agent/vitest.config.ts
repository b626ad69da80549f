import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "agent",
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    include: ["test/agent/**/*.test.ts"],
  },
});
