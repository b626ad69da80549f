/**
 * `vigil-agent run`, assembled: the channel to the coordinator, the inbox that verifies every
 * command, the lease client that holds VIPs, the agent's own checks, and the VIP watchdog that
 * outlives it.
 */
import { performance } from "node:perf_hooks";
import * as z from "zod";
import { fromBase64url } from "../../src/core/base64url.js";
import type { Command } from "../../src/core/command.js";
import { keyPairFromSeed } from "../../src/core/envelope.js";
import { ProgramGate } from "./allowlist.js";
import { Backends } from "./backends.js";
import { Channel, type Log } from "./channel.js";
import { type AgentConfig, allowlistOf } from "./config.js";
import { HaproxyDriver, socketSender } from "./haproxy.js";
import { type Executors, Inbox } from "./inbox.js";
import { IpvsDriver } from "./ipvs.js";
import { LeaseClient } from "./leases.js";
import { PeerLink } from "./peers.js";
import { LocalProbes } from "./probes.js";
import { ProcessRunner, type Remembered } from "./runner.js";
import { ShownHost } from "./shown-host.js";
import { StateStore } from "./state.js";
import { WatchdogClient } from "./watchdog.js";

/** Whom this node's voter promised, per unit (promises.json in the state directory). */
const PromisesFile = z.record(
  z.string(),
  z.object({ to: z.string().nullable(), epoch: z.number().int().nonnegative() }),
);

export interface Daemon {
  /** Gives every VIP back, then closes the channel. */
  stop(): Promise<void>;
}

export async function startDaemon(config: AgentConfig, bundle: string, log: Log): Promise<Daemon> {
  const shownVips = config.hostActions === "show";
  if (config.hostActions !== "apply")
    log(
      `hostActions is ${config.hostActions}: ${shownVips ? "VIP and IPVS" : "IPVS"} changes are logged, not applied to this host`,
    );
  const runner =
    config.hostActions === "apply" ? new ProcessRunner() : new ShownHost(new ProcessRunner(), log, shownVips);
  let channel: Channel | null = null;
  const gate = new ProgramGate(
    allowlistOf(config),
    (refused) => channel?.send(refused, null) ?? Promise.resolve(null),
    log,
  );
  const state = new StateStore(config.stateDir);
  // Shown VIPs are on no interface: there is nothing for a watchdog to take down.
  const watchdog = shownVips
    ? null
    : WatchdogClient.start(bundle, {
        load: () => {
          const pids = state.load("watchdogs.json");
          return Array.isArray(pids) ? pids.filter(Number.isInteger) : [];
        },
        save: (pids) => state.save("watchdogs.json", pids),
      });
  const identity = state.identity();
  if (!identity) throw new Error(`not enrolled: no identity in ${config.stateDir}; run vigil-agent enroll first`);
  const probes = new LocalProbes(
    runner,
    async (votes, heartbeat) => {
      await channel?.send({ type: "votes", heartbeat, votes }, null);
    },
    gate,
  );
  let leases: LeaseClient | null = null;
  const peers = new PeerLink({
    cluster: config.cluster,
    node: config.node,
    port: config.peerPort,
    privateKey: (await keyPairFromSeed(fromBase64url(identity.seed))).privateKey,
    log,
    deliver: (from, message) => void leases?.fromPeer(from, message),
  });
  await peers.start();
  leases = new LeaseClient({
    node: config.node,
    runner,
    send: (command, group) => channel?.send(command, group) ?? Promise.resolve(null),
    connected: () => channel?.connected() ?? false,
    peer: (to, message) => peers.send(to, message),
    peerPort: config.peerPort,
    setPeers: (list) => void peers.setPeers(list),
    watchdog: (vips, remainingMs) => watchdog?.hold(vips, remainingMs),
    verdict: (target) => probes.verdict(target),
    promises: {
      load: () => PromisesFile.catch({}).parse(state.load("promises.json")),
      save: (all) => state.save("promises.json", all),
    },
    syncDaemons: {
      load: () =>
        z.object({ started: z.boolean() }).catch({ started: false }).parse(state.load("lvs-sync.json")).started,
      save: (started) => state.save("lvs-sync.json", { started }),
    },
    gate,
    log,
    now: () => performance.now(),
  });
  const backends = new Backends(
    new IpvsDriver(runner, remembered(state, "ipvs-managed.json")),
    new HaproxyDriver(socketSender(config.haproxySocket), remembered(state, "haproxy-added.json")),
  );
  const inbox = await Inbox.load(state, executors(leases, probes, backends));
  channel = new Channel(config, inbox, log, (accepted) => state.save("channel.json", accepted));
  channel.start();
  return {
    async stop() {
      probes.stop();
      await leases?.stop();
      await peers.stop();
      watchdog?.release();
      await channel?.stop();
    },
  };
}

/** A list of names kept in the agent's state directory (0600, written atomically). */
export function remembered(state: StateStore, file: string): Remembered {
  return {
    load: () => z.array(z.string()).catch([]).parse(state.load(file)),
    save: (names) => state.save(file, names),
  };
}

/** What the agent does with each accepted command (the fleet bench runs the same). */
export function executors(leases: LeaseClient, probes: LocalProbes, backends: Backends): Executors {
  return {
    async run(command: Command, epoch: number) {
      switch (command.type) {
        case "ping":
          return { pong: command.nonce };
        case "vip.claim":
          return leases.claim(command);
        case "lease.answer":
          return leases.answered(command);
        case "vip.release":
          return leases.release(command.group);
        case "lease.offer":
          await leases.offered(command.group, epoch);
          return {};
        case "backends.sync":
          return backends.sync(command.services);
        case "backends.status":
          return backends.status();
        case "hook.run":
          return leases.runHooks(command.group, command.state);
        case "agent.work":
          leases.setUnits(command.units);
          probes.set(command.probes);
          return { revision: command.revision, units: command.units.length, probes: command.probes.length };
        default:
          throw new Error(`${command.type} is not supported by this agent`);
      }
    },
  };
}
