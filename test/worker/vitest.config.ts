import { workersProject } from "../setup/workers-project.js";

// Flows over the agent channel take a few round trips through Durable Objects; a loaded CI
// machine needs more than vitest's default 5 s for some of them.
// The API as deployed: webhooks and region probes may not target private addresses.
export default await workersProject({
  name: "worker",
  include: ["test/worker/**/*.test.ts"],
  testTimeout: 15_000,
  allowPrivateTargets: false,
});
