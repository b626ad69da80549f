import { rmSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { makeCerts } from "./certs.js";

const root = path.join(import.meta.dirname, "../..");
const migrations = await readD1Migrations(path.join(root, "migrations"));
const certs = makeCerts();
rmSync(certs.dir, { recursive: true, force: true });
// The loopback servers (globalSetup, same process) read the certificates from here.
process.env.VIGIL_TEST_CERTS = JSON.stringify(certs);

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: path.join(root, "src/index.ts"),
      wrangler: { configPath: path.join(root, "wrangler.toml") },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          VIGIL_ADMIN_TOKEN: "vgl_test-bootstrap-admin-token-0123456789",
          // Fast retries and a short attempt timeout, so retry tests take seconds.
          WEBHOOK_RETRY_BASE_SECONDS: "1",
          WEBHOOK_TIMEOUT_SECONDS: "1",
          WEBHOOK_FAILING_AFTER: "3",
        },
        // Outbound connections reach loopback only, and trust the test CA only, so the
        // self-signed server fails verification.
        outboundService: {
          network: {
            allow: ["127.0.0.0/8"],
            tlsOptions: { trustBrowserCas: false, trustedCertificates: [certs.caCert] },
          },
        },
      },
    }),
  ],
  test: {
    name: "edge",
    root,
    include: ["test/edge/**/*.test.ts"],
    setupFiles: ["./test/setup/apply-migrations.ts"],
    globalSetup: ["./test/edge/servers.ts"],
    testTimeout: 30_000,
  },
});
