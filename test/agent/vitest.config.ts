import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "agent",
    // The agent and the operator CLI: both Node programs.
    root: path.join(import.meta.dirname, "../.."),
    environment: "node",
    include: ["test/agent/**/*.test.ts", "test/cli/**/*.test.ts"],
  },
});
