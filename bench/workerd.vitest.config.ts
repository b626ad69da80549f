/** Runs one bench workload (VIGIL_BENCH_FILE) in workerd; see bench/workerd-run.mjs. */
import { workersProject } from "../test/setup/workers-project.js";

export default await workersProject({
  name: "bench",
  include: [process.env.VIGIL_BENCH_FILE ?? "bench/none"],
  bindings: { BENCH: process.env.VIGIL_BENCH ?? "{}" },
  testTimeout: 600_000,
});
