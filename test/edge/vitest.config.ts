import { rmSync } from "node:fs";
import { workersProject } from "../setup/workers-project.js";
import { makeCerts } from "./certs.js";

const certs = makeCerts();
rmSync(certs.dir, { recursive: true, force: true });
// The loopback servers (globalSetup, same process) read the certificates from here.
process.env.VIGIL_TEST_CERTS = JSON.stringify(certs);

export default await workersProject({
  name: "edge",
  include: ["test/edge/**/*.test.ts"],
  // Fast retries and a short attempt timeout, so webhook retry tests take seconds.
  bindings: { WEBHOOK_RETRY_BASE_SECONDS: "1", WEBHOOK_TIMEOUT_SECONDS: "1", WEBHOOK_FAILING_AFTER: "3" },
  // Only the test CA is trusted, so the self-signed server fails verification.
  trustedCertificates: [certs.caCert],
  globalSetup: ["./test/edge/servers.ts"],
  testTimeout: 30_000,
});
