import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The mutation run's file order: a file that failed last time first, then the quickest. A
 * mutant counts as caught at the first failing test (the run bails there), so the quick
 * tables find most mutants before the slow simulations start; a mutant in module-level code
 * (a schema, a constant) runs every file, and is then caught in seconds, not after all of them.
 */
export class QuickFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const known = (spec: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`);
    const rank = (spec: TestSpecification): [number, number] => {
      const last = known(spec);
      return last ? [last.failed ? 0 : 1, last.duration] : [1, Number.POSITIVE_INFINITY];
    };
    return [...files].sort((a, b) => {
      const [fa, da] = rank(a);
      const [fb, db] = rank(b);
      return fa - fb || da - db;
    });
  }
}
