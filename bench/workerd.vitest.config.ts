import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Runs one bench workload (VIGIL_BENCH_FILE) in workerd; see bench/workerd-run.mjs. */
const root = path.join(import.meta.dirname, "..");
const migrations = await readD1Migrations(path.join(root, "migrations"));

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: path.join(root, "src/index.ts"),
      wrangler: { configPath: path.join(root, "wrangler.toml") },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          VIGIL_ADMIN_TOKEN: "vgl_bench-admin-token-0123456789",
          BENCH: process.env.VIGIL_BENCH ?? "{}",
        },
        outboundService: { network: { allow: ["127.0.0.0/8"] } },
      },
    }),
  ],
  test: {
    name: "bench",
    root,
    include: [process.env.VIGIL_BENCH_FILE ?? "bench/none"],
    setupFiles: ["./test/setup/apply-migrations.ts"],
    testTimeout: 600_000,
  },
});
