import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = path.join(import.meta.dirname, "../..");
const migrations = await readD1Migrations(path.join(root, "migrations"));

export const ADMIN_TOKEN = "vgl_test-bootstrap-admin-token-0123456789";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: path.join(root, "src/index.ts"),
      wrangler: { configPath: path.join(root, "wrangler.toml") },
      miniflare: {
        bindings: { TEST_MIGRATIONS: migrations, VIGIL_ADMIN_TOKEN: ADMIN_TOKEN },
        // A prober started by a test may reach loopback and nothing else.
        outboundService: { network: { allow: ["127.0.0.0/8"] } },
      },
    }),
  ],
  test: {
    name: "worker",
    root,
    include: ["test/worker/**/*.test.ts"],
    setupFiles: ["./test/setup/apply-migrations.ts"],
  },
});
