import type { ChildProcess } from "node:child_process";
import type { Lab } from "./lab.mjs";
import type { Answer } from "./measure.mjs";

export const CLUSTER: string;
export function labCluster(directors: string[], group?: Record<string, unknown>): Record<string, unknown>;

export interface Member {
  node: string;
  eligible: boolean;
  priority: number;
  reasons: string[];
}
export interface Lease {
  group: string;
  holder: string | null;
  epoch: number;
  remainingMs: number | null;
  members: Member[];
}

export class VigilLab {
  readonly directors: string[];
  readonly lab: Lab;
  readonly dir: string;
  /** The control plane's admin token. */
  readonly admin: string;
  static start(options?: {
    directors?: string[];
    group?: Record<string, unknown>;
    cluster?: Record<string, unknown> | null;
    extra?: string[];
    agent?: Record<string, unknown>;
    directorServers?: boolean;
  }): Promise<VigilLab>;
  api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }>;
  restartControlPlane(): Promise<void>;
  stopControlPlane(): Promise<void>;
  startAgent(node: string): ChildProcess;
  stopAgent(node: string, signal?: NodeJS.Signals): Promise<void>;
  startServer(node: string): void;
  stopServer(node: string): Promise<void>;
  startClient(): Answer[];
  stopClient(): Promise<void>;
  leases(): Promise<Lease[]>;
  holders(): Promise<string[]>;
  notifications(): string[];
  agentLog(node: string): string;
  controlPlaneLog(): string;
  until(what: string, check: () => Promise<boolean>, limitMs?: number, everyMs?: number): Promise<number>;
  stop(): Promise<void>;
}
