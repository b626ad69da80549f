/**
 * Ends every test run with one plain line, `vitest: N passed, N failed, N skipped`, after
 * vitest's own summary, so any reader of the log finds the counts in one place.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) counts[test.result().state] += 1;
      // A module that failed to load has no tests but is still a failure.
      if (module.state() === "failed" && module.children.size === 0) counts.failed += 1;
    }
    const failed = counts.failed + unhandledErrors.length;
    process.stdout.write(`\nvitest: ${counts.passed} passed, ${failed} failed, ${counts.skipped} skipped\n`);
  }
}
