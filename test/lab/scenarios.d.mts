import type { Lab } from "./lab.mjs";

export interface ScenarioContext {
  lab: Lab;
  directors: string[];
  stopDaemon(node: string, signal: NodeJS.Signals): Promise<void>;
  startDaemon(node: string): unknown;
  stopServer(node: string): Promise<void>;
  startServer(node: string): unknown;
  restartCoordinator?(): Promise<void>;
}
export type Expected = string | string[];
export interface Scenario {
  name: string;
  /** Only where there is a coordinator (not keepalived). */
  coordinator?: boolean;
  /** How many directors the scenario's lab has (2 unless said). */
  directors?: number;
  inject(ctx: ScenarioContext): unknown;
  /** How long into `inject` the fault that counts happens (after a preparatory cut). */
  injectedAfterMs?: number;
  /** A node, any of several, or "nobody". */
  expect: Expected;
  /** How long the fault lasts before the restore. */
  holdMs?: number;
  restore(ctx: ScenarioContext): unknown;
}
export const SCENARIOS: Scenario[];
export function asExpected(expected: Expected, holders: string[]): boolean;
