/**
 * A lease client on a fake director (test/agent/fake-host.ts), with everything it sends kept
 * for the test to read: commands to the coordinator, messages to peers, the watchdog's orders,
 * refused programs and log lines. Used by the in-process lease tests.
 */
import { performance } from "node:perf_hooks";
import { Allowlist, ProgramGate } from "../../host-agent/src/allowlist.js";
import { LeaseClient } from "../../host-agent/src/leases.js";
import type { PeerAddress } from "../../host-agent/src/peers.js";
import type { Command, LeaseUnitSpec, ProgramRefused } from "../../src/core/command.js";
import type { PeerMessage } from "../../src/core/peer.js";
import type { VoteState } from "../../src/core/vote.js";
import { FakeHost } from "./fake-host.js";

export const NOTIFY = "/etc/vigil/hooks/notify";

/** A director with eth0 and the one notify program these tests allow. */
export const director = () => new FakeHost({ programs: [NOTIFY] });

export const spec = (leaseMs: number, notifyPath = NOTIFY): LeaseUnitSpec => ({
  name: "VI_1",
  vips: [{ cidr: "10.77.0.100/24", interface: "eth0", label: "eth0:vip" }],
  garp: { count: 2, interval: 0.01, refresh: 0 },
  leaseMs,
  onCoordinatorLoss: "release",
  members: [{ node: "lb1", address: "10.77.0.11", peerPort: 7441, publicKey: null, priority: 100 }],
  track: [],
  notify: [{ master: { path: notifyPath, args: ["--from-vigil"] }, backup: { path: notifyPath, args: [] } }],
});

export interface ClientOptions {
  allowed?: string[];
  /** Whether the channel to the coordinator is up (default: always). */
  connected?: () => boolean;
  /** What `send` does (default: answers the next id). */
  send?: (command: Command) => Promise<string | null>;
  verdict?: (target: string) => VoteState;
  peerPort?: number;
  /** Whether an earlier run of the agent left IPVS sync daemons running (default: no). */
  syncStarted?: boolean;
}

export function client(host: FakeHost, options: ClientOptions = {}) {
  const allowed = options.allowed ?? [NOTIFY];
  const sent: { command: Command; id: string }[] = [];
  const refused: ProgramRefused[] = [];
  const watched: { vips: number; remainingMs: number }[] = [];
  const peered: { to: string; message: PeerMessage }[] = [];
  const peerSets: PeerAddress[][] = [];
  const log: string[] = [];
  let n = 0;
  let stored: Record<string, { to: string | null; epoch: number }> = {};
  let syncStarted = options.syncStarted ?? false;
  const leases = new LeaseClient({
    node: "lb1",
    runner: host,
    send:
      options.send ??
      (async (command) => {
        n += 1;
        sent.push({ command, id: `lb1-${n}` });
        return `lb1-${n}`;
      }),
    connected: options.connected ?? (() => true),
    peer: (to, message) => peered.push({ to, message }),
    setPeers: (peers) => peerSets.push(peers),
    peerPort: options.peerPort ?? 7441,
    watchdog: (vips, remainingMs) => watched.push({ vips: vips.length, remainingMs }),
    verdict: options.verdict ?? (() => "unknown"),
    promises: { load: () => stored, save: (all) => (stored = structuredClone(all)) },
    syncDaemons: {
      load: () => syncStarted,
      save: (started) => {
        syncStarted = started;
      },
    },
    gate: new ProgramGate(
      new Allowlist(allowed),
      async (r) => {
        refused.push(r);
        return "sent";
      },
      (line) => log.push(line),
    ),
    log: (line) => log.push(line),
    now: () => performance.now(),
  });
  /** The id of the last ask (a lease request under an epoch; a report asks nothing). */
  const lastRequest = () =>
    [...sent].reverse().find((s) => s.command.type === "lease.request" && s.command.epoch > 0)?.id ?? "";
  const grant = (leaseMs: number, epoch = 1, request = lastRequest()) =>
    leases.claim({
      type: "vip.claim",
      group: "VI_1",
      vips: spec(leaseMs).vips,
      garp: spec(leaseMs).garp,
      leaseMs,
      request,
      leaseEpoch: epoch,
    });
  /** The coordinator offers the unit (under epoch - 1), the agent asks under `epoch`, and is granted. */
  const take = async (leaseMs: number, epoch = 1) => {
    await leases.offered("VI_1", epoch - 1);
    return grant(leaseMs, epoch);
  };
  return {
    leases,
    sent,
    refused,
    watched,
    peered,
    peerSets,
    log,
    grant,
    take,
    lastRequest,
    stored: () => stored,
    syncStarted: () => syncStarted,
  };
}

/** Waits for `done` to hold, looking every 5 ms, up to 10 s; returns when it first held (performance.now()). */
export async function until(done: () => boolean, what: string): Promise<number> {
  const ceiling = performance.now() + 10_000;
  while (!done()) {
    if (performance.now() > ceiling) throw new Error(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now();
}
