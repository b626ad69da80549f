/**
 * `vigil-agent realserver --vip ADDR [--vip ...] [--interface IF] [--remove]`: prepares a real
 * server for LVS direct routing. The VIP goes on `lo` as a /32 (/128), and the host stops
 * answering ARP for it (`arp_ignore=1`, `arp_announce=2` on `all`, `lo` and the interface),
 * so only the director owns it on the LAN. `--remove` undoes both, restoring the sysctl values
 * found before. Both directions are idempotent.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { InterfaceName, IpAddress } from "../../src/core/primitives.js";
import type { Runner } from "./runner.js";
import type { StateStore } from "./state.js";
import { ensureVip } from "./vip.js";

const SETTINGS = { arp_ignore: "1", arp_announce: "2" } as const;

export interface RealServerOptions {
  vips: string[];
  interfaces: string[];
  remove: boolean;
  /** /proc/sys, replaceable for tests. */
  procSys?: string;
}

function sysctlPath(procSys: string, iface: string, key: string): string {
  return path.join(procSys, "net/ipv4/conf", InterfaceName.or(z.literal("all")).parse(iface), key);
}

const SAVED = "realserver-sysctl.json";

export class RealServerError extends Error {}

export async function realServer(runner: Runner, state: StateStore, options: RealServerOptions): Promise<string[]> {
  const procSys = options.procSys ?? "/proc/sys";
  for (const v of options.vips)
    if (!IpAddress.safeParse(v).success)
      throw new RealServerError(`--vip ${JSON.stringify(v)}: expected an IPv4 or IPv6 address`);
  for (const i of options.interfaces)
    if (!InterfaceName.safeParse(i).success)
      throw new RealServerError(`--interface ${JSON.stringify(i)}: expected an interface name`);
  const vips = options.vips;
  const interfaces = [...new Set(["all", "lo", ...options.interfaces])];
  const done: string[] = [];
  if (!options.remove) {
    // Remember what was there before the first change, for --remove.
    if (state.load(SAVED) === null) {
      const before: Record<string, string> = {};
      for (const iface of interfaces)
        for (const key of Object.keys(SETTINGS))
          before[`${iface}/${key}`] = readFileSync(sysctlPath(procSys, iface, key), "utf8").trim();
      state.save(SAVED, before);
    }
    for (const iface of interfaces)
      for (const [key, value] of Object.entries(SETTINGS)) {
        writeFileSync(sysctlPath(procSys, iface, key), value);
        done.push(`${iface}.${key}=${value}`);
      }
  }
  for (const vip of vips) {
    const cidr = `${vip}/${vip.includes(":") ? 128 : 32}`;
    const outcome = await ensureVip(runner, { cidr, interface: "lo" }, !options.remove);
    done.push(`${options.remove ? "del" : "add"} ${cidr} dev lo: ${outcome}`);
  }
  const saved = state.load(SAVED);
  if (options.remove && saved !== null) {
    const before = z.record(z.string(), z.string()).parse(saved);
    for (const [at, value] of Object.entries(before)) {
      const [iface = "", key = ""] = at.split("/");
      writeFileSync(sysctlPath(procSys, iface, key), value);
      done.push(`${iface}.${key}=${value}`);
    }
    state.remove(SAVED);
  }
  return done;
}
