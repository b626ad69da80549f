/**
 * `npm run test:mutation`: mutation testing of the pure core and of the agent's lease client,
 * inbox and watchdog. Every mutant is a small change to the code (a condition flipped, a bound
 * moved, a statement removed); a test must fail for each. Prints the score per file.
 */
export default {
  testRunner: "vitest",
  vitest: { configFile: "test/mutation/vitest.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: ["src/core/**/*.ts", "host-agent/src/leases.ts", "host-agent/src/inbox.ts", "host-agent/src/watchdog.ts"],
  coverageAnalysis: "perTest",
  // What the sandbox copy of the project can do without.
  ignorePatterns: ["host-agent/dist", "test-results", "bench/results", ".wrangler", "reports"],
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 95, low: 85, break: 85 },
  concurrency: 2,
  timeoutMS: 10_000,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  // Re-runs test only the mutants whose code or tests changed since reports/ was written.
  incremental: true,
  incrementalFile: "reports/mutation/incremental.json",
};
