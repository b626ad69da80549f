/**
 * The fleet load generator: many directors in one process, each the agent's own code (its
 * channel, inbox and lease client, src of host-agent/) with real keys enrolled through the API,
 * signed frames, lease requests every third of the TTL and signed acks. What a director would
 * do to its host is done to a fake host in memory (test/agent/fake-host.ts: interfaces, IPVS,
 * HAProxy, answering as the real tools do), state is kept in memory, and a director's messages to its peers are handed to them in this process (unsigned,
 * where real directors sign them and send them over UDP: that work is the hosts', not the
 * control plane's).
 * bench/fleet/run.mjs bundles and starts it; it reads its orders as JSON on stdin and writes
 * JSON lines on stdout: `enrolled`, then a `stats` line whenever asked with a line on stdin,
 * or a `flooded` line after `flood <cluster> <frames/s per director> <seconds>`.
 */
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { Allowlist, ProgramGate } from "../../host-agent/src/allowlist.js";
import { Backends } from "../../host-agent/src/backends.js";
import { Channel } from "../../host-agent/src/channel.js";
import { AgentConfig } from "../../host-agent/src/config.js";
import { executors, remembered } from "../../host-agent/src/daemon.js";
import { enroll } from "../../host-agent/src/enroll.js";
import { HaproxyDriver } from "../../host-agent/src/haproxy.js";
import { type Executors, Inbox } from "../../host-agent/src/inbox.js";
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import { LeaseClient } from "../../host-agent/src/leases.js";
import { LocalProbes } from "../../host-agent/src/probes.js";
import { StateStore } from "../../host-agent/src/state.js";
import type { Command } from "../../src/core/command.js";
import { FakeHost } from "../../test/agent/fake-host.js";

interface Orders {
  url: string;
  /** Each director to play: its cluster, node name and single-use enrollment token. */
  directors: { cluster: string; node: string; token: string }[];
  /** Directors enrolling at once. */
  parallel: number;
}

/** The agent's state files, in memory: a thousand directors need no thousand directories. */
class MemoryState extends StateStore {
  private readonly files = new Map<string, string>();
  protected override read(name: string): unknown {
    const text = this.files.get(name);
    return text === undefined ? null : JSON.parse(text);
  }
  protected override write(name: string, value: unknown): void {
    this.files.set(name, JSON.stringify(value));
  }
  override remove(name: string): void {
    this.files.delete(name);
  }
}

/** Each director's host: a stateful fake of its interfaces, IPVS table and HAProxy (test/agent/fake-host.ts). */
const hosts: FakeHost[] = [];

/** What the fleet measured since the last `stats` line. */
const stats = {
  /** Lease request to its answer (an answer or a claim), ms. */
  renewals: [] as number[],
  sent: 0,
  received: 0,
  logged: new Map<string, number>(),
  /** The first line of each kind, whole. */
  first: new Map<string, string>(),
};
const sentAt = new Map<string, number>();
/** Each director's channel, by cluster. */
const channels = new Map<string, Channel[]>();
/** Each director's lease client, by `cluster/node`, for its peers' messages. */
const clients = new Map<string, LeaseClient>();

function log(line: string): void {
  // Counted by kind, not printed: a thousand directors would bury the bench's output.
  const kind = line.replace(/\d+/g, "N").slice(0, 80);
  stats.logged.set(kind, (stats.logged.get(kind) ?? 0) + 1);
  if (!stats.first.has(kind)) stats.first.set(kind, line.slice(0, 2000));
}

async function director(url: string, cluster: string, node: string, token: string): Promise<void> {
  const state = new MemoryState(`/fleet/${cluster}/${node}`);
  // The config file exists already (/dev/null): enroll writes none. A control plane that
  // answered 503 under the fleet's load is asked again.
  for (let attempt = 1; ; attempt++) {
    try {
      await enroll({ url, token, node, configPath: "/dev/null", stateDir: state.dir }, state);
      break;
    } catch (err) {
      if (attempt >= 5 || !/\(503\)/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
  const config = AgentConfig.parse({ url, cluster, node, stateDir: state.dir, heartbeat: 10 });
  let channel: Channel | null = null;
  const host = new FakeHost();
  hosts.push(host);
  const gate = new ProgramGate(new Allowlist([]), async () => null, log);
  const leases = new LeaseClient({
    node,
    runner: host,
    send: async (command, group) => {
      const id = (await channel?.send(command, group)) ?? null;
      if (id !== null) {
        stats.sent += 1;
        if (command.type === "lease.request" && command.epoch > 0) sentAt.set(id, performance.now());
      }
      return id;
    },
    connected: () => channel?.connected() ?? false,
    peer: (to, message) => {
      const peer = clients.get(`${cluster}/${to}`);
      if (peer) setImmediate(() => void peer.fromPeer(node, message));
    },
    setPeers: () => {},
    peerPort: 7441,
    watchdog: () => {},
    verdict: () => "up",
    promises: { load: () => ({}), save: () => {} },
    syncDaemons: { load: () => false, save: () => {} },
    gate,
    log,
    now: () => performance.now(),
  });
  clients.set(`${cluster}/${node}`, leases);
  const backends = new Backends(
    new IpvsDriver(host, remembered(state, "ipvs-managed.json")),
    new HaproxyDriver(host.haproxy, remembered(state, "haproxy-added.json")),
  );
  // The agent's own dispatch (host-agent/src/daemon.ts), timed and counted.
  const agent = executors(leases, new LocalProbes(host, async () => {}, gate), backends);
  const counted: Executors = {
    async run(command: Command, epoch: number) {
      stats.received += 1;
      if ((command.type === "lease.answer" || command.type === "vip.claim") && sentAt.has(command.request)) {
        stats.renewals.push(performance.now() - (sentAt.get(command.request) as number));
        sentAt.delete(command.request);
      }
      try {
        return await agent.run(command, epoch);
      } catch (err) {
        log(`${command.type} failed: ${(err as Error).message.slice(0, 300)}`);
        throw err;
      }
    },
  };
  const inbox = await Inbox.load(state, counted);
  channel = new Channel(config, inbox, log);
  channel.start();
  channels.set(cluster, [...(channels.get(cluster) ?? []), channel]);
}

/**
 * Every director of `cluster` sends `rate` extra frames a second for `seconds` (empty vote
 * batches: signed agent messages the coordinator verifies, orders and takes): how many agent
 * messages one coordinator handles a second. Answers the frames sent.
 */
async function flood(cluster: string, rate: number, seconds: number): Promise<number> {
  let sent = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    (channels.get(cluster) ?? []).map(async (channel) => {
      for (let next = performance.now(); next < until; next += 1000 / rate) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if ((await channel.send({ type: "votes", heartbeat: false, votes: [] }, null)) !== null) sent += 1;
      }
    }),
  );
  return sent;
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const iterator = lines[Symbol.asyncIterator]();
  const orders = JSON.parse((await iterator.next()).value as string) as Orders;
  const queue = [...orders.directors];
  const began = performance.now();
  await Promise.all(
    Array.from({ length: orders.parallel }, async () => {
      for (let d = queue.shift(); d; d = queue.shift()) await director(orders.url, d.cluster, d.node, d.token);
    }),
  );
  console.log(JSON.stringify({ enrolled: orders.directors.length, ms: performance.now() - began }));
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const [word, cluster = "", rate = "0", seconds = "0"] = (next.value as string).split(" ");
    if (word === "flood") {
      console.log(JSON.stringify({ flooded: await flood(cluster, Number(rate), Number(seconds)) }));
      continue;
    }
    const renewals = stats.renewals.splice(0).sort((a, b) => a - b);
    const pct = (p: number) => renewals[Math.min(renewals.length - 1, Math.floor((p / 100) * renewals.length))] ?? 0;
    console.log(
      JSON.stringify({
        stats: {
          renewals: renewals.length,
          renewalP50Ms: pct(50),
          renewalP99Ms: pct(99),
          sent: stats.sent,
          received: stats.received,
          unanswered: sentAt.size,
          logged: Object.fromEntries(stats.logged),
          first: Object.fromEntries(stats.first),
        },
      }),
    );
    stats.sent = 0;
    stats.received = 0;
    // What the fake hosts recorded is not needed: keep the fleet's memory flat.
    for (const h of hosts) {
      h.calls.length = 0;
      h.arp.length = 0;
      h.haproxyLines.length = 0;
    }
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
