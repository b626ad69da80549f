import {
  initialLease,
  type LeaseConfig,
  type LeaseEffect,
  type LeaseInput,
  type LeaseState,
  step,
} from "../../src/core/lease.js";

/** Feeds timed inputs to the lease reducer; the state at the end and every effect in order. */
export function runLease(
  inputs: [number, LeaseInput][],
  config: LeaseConfig,
  start: LeaseState = initialLease(0),
): { state: LeaseState; effects: LeaseEffect[] } {
  let state = start;
  const effects: LeaseEffect[] = [];
  for (const [now, input] of inputs) {
    const out = step(state, input, now, config);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}
