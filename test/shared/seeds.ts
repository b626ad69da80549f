/**
 * How many seeded runs a simulation test makes. Under the mutation run (stryker.config.mjs)
 * every surviving mutant runs the tests that cover it, so the simulations take a tenth of their
 * seeds there; the table tests beside them are what kill most mutants.
 */
export const underMutation = process.env.STRYKER_MUTATOR_WORKER !== undefined;

export function seeds(n: number): number {
  return underMutation ? Math.ceil(n / 10) : n;
}
