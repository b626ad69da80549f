import type { Lab } from "./lab.mjs";

export interface ScenarioContext {
  lab: Lab;
  stopDaemon(node: string, signal: NodeJS.Signals): Promise<void>;
  startDaemon(node: string): unknown;
  stopServer(node: string): Promise<void>;
  startServer(node: string): unknown;
  restartCoordinator?(): Promise<void>;
}
export interface Scenario {
  name: string;
  /** Only where there is a coordinator (not keepalived). */
  coordinator?: boolean;
  inject(ctx: ScenarioContext): unknown;
  expect: string;
  restore(ctx: ScenarioContext): unknown;
}
export const SCENARIOS: Scenario[];
