/**
 * The kernel's IPVS connection sync daemon, as an idempotent ensure: the holder of a VIP group
 * with lvsSync runs it as master (it multicasts its connection table on the sync interface),
 * the other members as backup (they take that table in), as keepalived's lvs_sync_daemon does.
 * The state is read with `ipvsadm -L --daemon`; only what differs is stopped or started.
 */
import type { SyncDaemonState } from "../../src/core/backend-status.js";
import { LvsSync } from "../../src/core/vip-group.js";
import { must, type Runner } from "./runner.js";
import type { Outcome } from "./vip.js";

export type SyncRole = SyncDaemonState["role"];

/** The daemons `ipvsadm -L --daemon` lists: "master sync daemon (mcast=eth1, syncid=5, ...)". */
export function parseDaemons(text: string): SyncDaemonState[] {
  const out: SyncDaemonState[] = [];
  for (const line of text.split("\n")) {
    const m = /^(master|backup) sync daemon \(mcast=([^,)\s]+), syncid=(\d+)/.exec(line.trim());
    if (m) out.push({ role: m[1] as SyncRole, interface: m[2] as string, syncId: Number(m[3]) });
  }
  return out;
}

/**
 * The ipvsadm commands that leave exactly one daemon running, in `role` with `sync`'s interface
 * and id: the other role's daemon stopped, and one with other settings restarted.
 */
export function syncCommands(running: SyncDaemonState[], sync: LvsSync, role: SyncRole): string[][] {
  const commands: string[][] = [];
  let started = false;
  for (const daemon of running) {
    const wanted = daemon.role === role && daemon.interface === sync.interface && daemon.syncId === sync.syncId;
    if (wanted) started = true;
    else commands.push(["ipvsadm", "--stop-daemon", daemon.role]);
  }
  if (!started)
    commands.push([
      "ipvsadm",
      "--start-daemon",
      role,
      "--mcast-interface",
      sync.interface,
      "--syncid",
      String(sync.syncId),
    ]);
  return commands;
}

/**
 * Puts the daemon in `role` with `sync`'s settings, or, with `role` null, stops every sync
 * daemon (a director no group asks to sync any more).
 */
export async function ensureSyncRole(runner: Runner, raw: LvsSync, role: SyncRole): Promise<Outcome>;
export async function ensureSyncRole(runner: Runner, raw: null, role: null): Promise<Outcome>;
export async function ensureSyncRole(runner: Runner, raw: LvsSync | null, role: SyncRole | null): Promise<Outcome> {
  const running = parseDaemons((await must(runner, ["ipvsadm", "-L", "--daemon"])).stdout);
  const commands =
    raw === null || role === null
      ? running.map((d) => ["ipvsadm", "--stop-daemon", d.role])
      : syncCommands(running, LvsSync.parse(raw), role);
  for (const argv of commands) await must(runner, argv);
  return commands.length > 0 ? "changed" : "unchanged";
}
