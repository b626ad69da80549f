/**
 * One vitest project running in workerd with the Worker from wrangler.toml, its D1 migrated
 * from migrations/, a bootstrap admin token, and outbound connections to loopback only.
 * The worker and edge test projects and the bench workloads differ only in what they add.
 */

import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { COORDINATOR_KEY } from "../shared/coordinator-keys.js";

export const root = path.join(import.meta.dirname, "../..");
export const ADMIN_TOKEN = "vgl_test-bootstrap-admin-token-0123456789";

export const METRICS_TOKEN = "vgm_test-metrics-token-0123456789";

export interface ProjectOptions {
  name: string;
  include: string[];
  bindings?: Record<string, string>;
  /** Extra TLS trust for outbound connections (PEM certificates). */
  trustedCertificates?: string[];
  globalSetup?: string[];
  testTimeout?: number;
  /**
   * Lets webhooks and region probes reach loopback (as `npm start` does). Off, the Worker
   * behaves as deployed and refuses private, loopback and link-local targets.
   */
  allowPrivateTargets?: boolean;
}

export async function workersProject(options: ProjectOptions) {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  const tlsOptions = options.trustedCertificates
    ? { tlsOptions: { trustBrowserCas: false, trustedCertificates: options.trustedCertificates } }
    : {};
  return defineConfig({
    plugins: [
      cloudflareTest({
        main: path.join(root, "src/index.ts"),
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
            VIGIL_COORDINATOR_KEY: COORDINATOR_KEY,
            VIGIL_METRICS_TOKEN: METRICS_TOKEN,
            ...(options.allowPrivateTargets === false ? {} : { VIGIL_ALLOW_PRIVATE_TARGETS: "true" }),
            ...options.bindings,
          },
          // Whatever a test starts (probers, webhook deliveries) reaches loopback and nothing else.
          outboundService: { network: { allow: ["127.0.0.0/8"], ...tlsOptions } },
        },
      }),
    ],
    test: {
      name: options.name,
      root,
      include: options.include,
      setupFiles: ["./test/setup/apply-migrations.ts"],
      ...(options.globalSetup ? { globalSetup: options.globalSetup } : {}),
      ...(options.testTimeout ? { testTimeout: options.testTimeout } : {}),
    },
  });
}
