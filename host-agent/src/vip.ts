/**
 * VIPs on an interface as idempotent ensures: look first (`ip -j addr show`), change only what
 * differs, report whether anything changed. Every value is validated by the shared schema
 * before it becomes an argument.
 */
import { hostPart } from "../../src/core/primitives.js";
import { Vip } from "../../src/core/vip-group.js";
import { must, type Runner } from "./runner.js";

export type Outcome = "changed" | "unchanged";

interface IpAddrInfo {
  ifname: string;
  addr_info?: { local: string; prefixlen: number; label?: string }[];
}

/** Whether the interface carries the VIP's address (any prefix length). */
export async function hasVip(runner: Runner, raw: Vip): Promise<boolean> {
  const vip = Vip.parse(raw);
  const out = await must(runner, ["ip", "-j", "addr", "show", "dev", vip.interface]);
  const links = JSON.parse(out.stdout || "[]") as IpAddrInfo[];
  const wanted = hostPart(vip.cidr);
  return links.some((l) => (l.addr_info ?? []).some((a) => hostPart(a.local) === wanted));
}

export function addVipArgv(raw: Vip): string[] {
  const vip = Vip.parse(raw);
  return ["ip", "addr", "add", vip.cidr, "dev", vip.interface, ...(vip.label ? ["label", vip.label] : [])];
}

export function delVipArgv(raw: Vip): string[] {
  const vip = Vip.parse(raw);
  return ["ip", "addr", "del", vip.cidr, "dev", vip.interface];
}

/** One gratuitous ARP (iputils arping, unsolicited). */
export function garpArgv(raw: Vip): string[] {
  const vip = Vip.parse(raw);
  return ["arping", "-U", "-c", "1", "-I", vip.interface, hostPart(vip.cidr)];
}

/**
 * A burst of gratuitous ARP, `count` packets `intervalS` apart. The agent paces the burst
 * itself: iputils arping takes whole seconds between packets and lingers a second after its
 * last one, so each packet is its own arping, started on time without waiting for the one
 * before to exit. The burst stops early once `holding()` turns false.
 */
export async function announce(
  runner: Runner,
  vip: Vip,
  count: number,
  intervalS: number,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
  holding: () => boolean = () => true,
): Promise<void> {
  // Each packet's failure is caught as it happens: one that fails while the burst still sleeps
  // must not become an unhandled rejection (the VIP may be gone by then: the lease ran out).
  const sent: Promise<Error | null>[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(intervalS * 1000);
    if (!holding()) break;
    sent.push(
      must(runner, garpArgv(vip)).then(
        () => null,
        (err: Error) => err,
      ),
    );
  }
  const failed = (await Promise.all(sent)).find((e) => e !== null);
  if (failed) throw failed;
}

export async function ensureVip(runner: Runner, vip: Vip, present: boolean): Promise<Outcome> {
  if ((await hasVip(runner, vip)) === present) return "unchanged";
  await must(runner, present ? addVipArgv(vip) : delVipArgv(vip));
  return "changed";
}
