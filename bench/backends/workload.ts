/**
 * bench/backends workload, bundled by run.mjs: reconcile 1,000 real servers from empty, then
 * a 1% change (10 weights), through the agent's own drivers. `haproxy(socket)` runs on the
 * host; `ipvsGuest()` runs inside the qemu guest and prints `RESULT <json>`.
 */
import { performance } from "node:perf_hooks";
import { HaproxyDriver, socketSender } from "../../host-agent/src/haproxy.js";
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import { ProcessRunner } from "../../host-agent/src/runner.js";
import type { DesiredService } from "../../src/core/backends.js";

export const SERVERS = 1000;

export function table(driver: DesiredService["driver"], changed: number): DesiredService[] {
  const servers = Array.from({ length: SERVERS }, (_, i) => ({
    name: `rs${i}`,
    address: `10.${80 + Math.floor(i / 250)}.${i % 250}.10`,
    port: 8080,
    weight: i < changed ? 5 : 1,
    role: "active" as const,
  }));
  return [
    {
      name: "big",
      driver,
      address: "10.77.0.100",
      port: 80,
      protocol: "tcp",
      scheduler: "wrr",
      forwarding: "nat",
      servers,
      healthy: SERVERS,
      belowMinimum: false,
    },
  ];
}

export interface Measured {
  fromEmptyMs: number;
  fromEmptyCommands: number;
  changeMs: number;
  changeCommands: number;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const out = await f();
  return [performance.now() - t, out];
}

export async function haproxy(socket: string): Promise<Measured> {
  const driver = new HaproxyDriver(socketSender(socket));
  const spec = { type: "haproxy" as const, backend: "big" };
  const [fromEmptyMs, first] = await timed(() => driver.sync(table(spec, 0)));
  const [changeMs, second] = await timed(() => driver.sync(table(spec, SERVERS / 100)));
  return {
    fromEmptyMs,
    fromEmptyCommands: first[0]?.sent.length ?? 0,
    changeMs,
    changeCommands: second[0]?.sent.length ?? 0,
  };
}

export async function ipvsGuest(): Promise<void> {
  const driver = new IpvsDriver(new ProcessRunner(60_000));
  const [fromEmptyMs, first] = await timed(() => driver.sync(table({ type: "ipvs" }, 0)));
  const [changeMs, second] = await timed(() => driver.sync(table({ type: "ipvs" }, SERVERS / 100)));
  const result: Measured = {
    fromEmptyMs,
    fromEmptyCommands: first.sent.length,
    changeMs,
    changeCommands: second.sent.length,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}
