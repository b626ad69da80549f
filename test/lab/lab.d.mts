import type { ChildProcess } from "node:child_process";

export const SUBNET: string;
export const VIP: string;
export function addressOf(node: string): string;
export function macOf(node: string): string;
export function labPrerequisites(): string[];

export interface Sample {
  t: number;
  holders: string[];
}
export interface Garp {
  t: number;
  from: string;
}

export class Lab {
  readonly prefix: string;
  readonly nodes: string[];
  static create(nodes?: string[]): Lab;
  ns(node: string): string;
  exec(node: string, argv: string[]): string;
  spawn(
    node: string,
    argv: string[],
    options?: {
      log?: string | null;
      onLine?: ((line: string, stream?: "stderr") => void) | null;
      env?: Record<string, string>;
      cwd?: string;
      group?: boolean;
    },
  ): ChildProcess;
  adopt(child: ChildProcess, group?: boolean): ChildProcess;
  signal(child: ChildProcess, signal?: NodeJS.Signals, waitMs?: number): Promise<void>;
  startServer(node: string): void;
  stopServer(node: string): Promise<void>;
  serving(node: string): boolean;
  startClient(): { t: number; who?: string; error?: string }[];
  stopClient(): Promise<void>;
  holders(directors: string[]): Promise<string[]>;
  isolate(node: string): void;
  partition(a: string, b: string): void;
  heal(): void;
  holds(node: string, address?: string): Promise<boolean>;
  sampler(directors: string[], everyMs?: number): { samples: Sample[]; stop(): Promise<void> };
  arpCapture(): Promise<{ garps: Garp[]; stop(): Promise<void> }>;
  down(): Promise<void>;
  destroy(): void;
}
