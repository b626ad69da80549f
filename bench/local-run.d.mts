import type { ChildProcess } from "node:child_process";

export function freshCheckout(): { dir: string; remove(): void };
export function freePort(): Promise<number>;
export function startVigil(
  dir: string,
  port: number,
  options?: { timeoutMs?: number; netns?: string | null; host?: string | null },
): { child: ChildProcess; ready: Promise<string> };
export function stopVigil(child: ChildProcess): Promise<void>;
