/**
 * Runs inside the qemu guest (bundled by test/ipvs/failover.test.ts and bench/failover): a
 * failover between two LVS directors that run the built agent against the control plane on the
 * host (vm.sh's VIGIL_VM_HOST_PORT; tcp-relay.mjs carries the directors' connections to it).
 *
 * One LAN, a bridge in the guest's root namespace (10.60.0.1, the relay): directors d1 (.11)
 * and d2 (.12), real servers rs1 (.21) and rs2 (.22) with the VIP on lo (`vigil-agent
 * realserver`), and a client (.50). The VIP 10.60.0.100:7000 is a direct-routing service.
 *
 * Each round: the client keeps one TCP connection open through the VIP holder
 * (stream-client.mjs, a line every 50 ms, echoed by the real server); then the holder dies (its
 * agent SIGKILLed, its LAN link down) and the other director claims the VIP. With connection
 * sync on, the connection goes on through the new holder; with it off, the new holder has no
 * entry for it and the client is reset. The dead director then comes back (link up, agent
 * restarted) for the next round.
 *
 * /test/plan.json: {admin, rounds: [true, false, ...] (sync on or off per round), leaseTtl}.
 * Prints one line `OBSERVED <json>`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseDaemons } from "../../host-agent/src/lvs-sync.js";
import { sh } from "./guest-kit.js";

const API = "http://10.0.2.100:8787";
const RELAY = "http://10.60.0.1:8787";
const VIP = "10.60.0.100";
const CLUSTER = "guest";
const DIRECTORS = ["d1", "d2"] as const;
type Director = (typeof DIRECTORS)[number];
const ADDRESS: Record<string, string> = { d1: "10.60.0.11", d2: "10.60.0.12", rs1: "10.60.0.21", rs2: "10.60.0.22" };

const plan = JSON.parse(readFileSync("/test/plan.json", "utf8")) as {
  admin: string;
  rounds: boolean[];
  leaseTtl: number;
};
const bash = (lines: string[]) => sh("bash", "-ec", lines.join("\n"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inNs = (ns: string, ...argv: string[]) => sh("ip", "netns", "exec", ns, ...argv);

/** Waits for `value` to be truthy; `what` names it in the error (a function: said as it is at the end). */
async function until<T>(
  what: string | (() => string),
  value: () => T | undefined | false,
  limitMs = 60_000,
): Promise<T> {
  const begun = Date.now();
  for (;;) {
    const got = value();
    if (got) return got;
    if (Date.now() - begun > limitMs)
      throw new Error(`${typeof what === "string" ? what : what()}: not within ${limitMs} ms`);
    await sleep(50);
  }
}

function cluster(sync: boolean) {
  return {
    cluster: { name: CLUSTER },
    nodes: DIRECTORS.map((name) => ({ name, address: ADDRESS[name] })),
    vipGroups: [
      {
        name: "VI_1",
        vips: [{ cidr: `${VIP}/24`, interface: "eth0" }],
        members: [
          { node: "d1", priority: 100 },
          { node: "d2", priority: 50 },
        ],
        preempt: false,
        leaseTtl: plan.leaseTtl,
        ...(sync ? { lvsSync: { interface: "eth0", syncId: 7 } } : {}),
      },
    ],
    virtualServices: [
      {
        name: "stream",
        vipGroup: "VI_1",
        address: VIP,
        port: 7000,
        scheduler: "rr",
        forwarding: "dr",
        realServers: ["rs1", "rs2"].map((name) => ({ name, address: ADDRESS[name], port: 7000 })),
      },
    ],
  };
}

async function api(method: string, route: string, body?: unknown): Promise<any> {
  const response = await fetch(`${API}${route}`, {
    method,
    headers: { authorization: `Bearer ${plan.admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function network(): void {
  bash([
    "ip link add lan type bridge; ip addr add 10.60.0.1/24 dev lan; ip link set lan up",
    "for n in d1:10.60.0.11 d2:10.60.0.12 rs1:10.60.0.21 rs2:10.60.0.22 client:10.60.0.50; do",
    "  IFS=: read -r ns a <<< $n",
    "  ip netns add $ns; ip -n $ns link set lo up",
    "  ip link add b-$ns type veth peer name eth0 netns $ns; ip link set b-$ns master lan; ip link set b-$ns up",
    "  ip -n $ns addr add $a/24 dev eth0; ip -n $ns link set eth0 up",
    "done",
    "node /test/tcp-relay.mjs 10.60.0.1 8787 10.0.2.100 8787 > /tmp/relay.log 2>&1 &",
  ]);
  for (const rs of ["rs1", "rs2"]) {
    inNs(
      rs,
      "node",
      "/test/vigil-agent.cjs",
      "realserver",
      "--vip",
      VIP,
      "--interface",
      "eth0",
      "--state-dir",
      `/tmp/${rs}-rs`,
    );
    bash([`ip netns exec ${rs} node /test/rs-server.mjs ${rs} > /tmp/${rs}.log 2>&1 &`]);
  }
}

const agents = new Map<Director, ChildProcess>();

function startAgent(d: Director): void {
  const log = openSync(`/tmp/${d}-agent.log`, "a");
  const child = spawn(
    "ip",
    ["netns", "exec", d, "node", "/test/vigil-agent.cjs", "run", "--config", `/tmp/${d}.json`],
    {
      stdio: ["ignore", log, log],
    },
  );
  agents.set(d, child);
}

async function enroll(d: Director): Promise<void> {
  const { token } = await api("POST", `/v1/clusters/${CLUSTER}/enrollment-tokens`, { node: d });
  // biome-ignore format: one command
  inNs(d, "node", "/test/vigil-agent.cjs", "enroll", "--url", RELAY, "--token", token, "--node", d, "--config", `/tmp/${d}.json`, "--state-dir", `/tmp/${d}-state`);
}

const holds = (d: Director) => inNs(d, "ip", "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/`);
const daemons = (d: Director) => parseDaemons(inNs(d, "ipvsadm", "-L", "--daemon"));
const table = (d: Director) => inNs(d, "ipvsadm", "-S", "-n").trim().split("\n").sort();
const connections = (d: Director) => inNs(d, "ipvsadm", "-L", "-n", "-c");

/** The client's events, as stream-client.mjs prints them. */
interface Event {
  t: number;
  connected?: true;
  port?: number;
  echo?: string;
  sent?: number | null;
  error?: string;
  closed?: true;
}

/** The last client's events, shown when the guest fails. */
let lastEvents: Event[] = [];

function client(): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  lastEvents = events;
  const child = spawn("ip", ["netns", "exec", "client", "node", "/test/stream-client.mjs", VIP, "7000", "50"], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  createInterface({ input: child.stdout }).on("line", (line) => events.push(JSON.parse(line)));
  return { events, stop: () => child.stdin.end() };
}

/** Both directors ready for a round: the holder has the VIP and the service; the sync daemons as `sync` wants them. */
async function settled(sync: boolean): Promise<{ holder: Director; other: Director }> {
  const holder = await until("a director holding the VIP", () => DIRECTORS.find(holds));
  const other = holder === "d1" ? "d2" : "d1";
  await until("the service on both directors", () =>
    DIRECTORS.every((d) => table(d).some((l) => l.includes(`${VIP}:7000`))),
  );
  const want = (role: string) => (sync ? [{ role, interface: "eth0", syncId: 7 }] : []);
  await until(
    () => `the sync daemons (${JSON.stringify({ d1: daemons("d1"), d2: daemons("d2") })})`,
    () =>
      JSON.stringify(daemons(holder)) === JSON.stringify(want("master")) &&
      JSON.stringify(daemons(other)) === JSON.stringify(want("backup")),
  );
  return { holder, other };
}

async function round(sync: boolean): Promise<Record<string, unknown>> {
  const { holder, other } = await settled(sync);
  const stream = client();
  const echoes = () => stream.events.filter((e) => e.echo !== undefined);
  await until("10 echoes through the holder", () => echoes().length >= 10, 20_000);
  const port = stream.events.find((e) => e.connected)?.port;
  const known = () => connections(other).includes(`10.60.0.50:${port} `);
  // With sync on, wait for the backup to have the connection; with it off, it never will.
  const inBackup = sync ? await until("the connection in the backup's table", known, 20_000) : known();
  const servedBy = echoes()[0]?.echo?.split(" ")[0];

  const killedAt = Date.now();
  agents.get(holder)?.kill("SIGKILL");
  inNs(holder, "ip", "link", "set", "eth0", "down");
  // From here on the dead director forwards nothing; answers to lines sent before may still arrive.
  const cutAt = Date.now();
  await until(`${other} holding the VIP`, () => holds(other), 60_000);
  const claimMs = Date.now() - killedAt;
  const sameTable = JSON.stringify(table(other)) === JSON.stringify(table(holder));
  const sentAfter = () => stream.events.filter((e) => e.echo !== undefined && (e.sent ?? 0) > cutAt);
  const outcome = await until(
    "the connection going on or ending",
    () => sentAfter()[0] ?? stream.events.find((e) => e.t > cutAt && (e.error !== undefined || e.closed)),
    60_000,
  );
  if (outcome.echo !== undefined) await until("10 more answers", () => sentAfter().length >= 10, 20_000);
  stream.stop();
  // The client's gap: the longest wait between answers (or from the last answer to the reset) around the death.
  const around = stream.events.filter(
    (e) => e.t >= killedAt - 1000 && e.t <= outcome.t && (e.echo !== undefined || e === outcome),
  );
  const gapMs = Math.max(0, ...around.slice(1).map((e, i) => e.t - (around[i]?.t ?? e.t)));
  const result: Record<string, unknown> = {
    sync,
    holder,
    other,
    inBackup,
    servedBy,
    servedAfter: [...new Set(sentAfter().map((e) => e.echo?.split(" ")[0]))],
    claimMs,
    sameTable,
    survived: outcome.echo !== undefined,
    error: stream.events.find((e) => e.t > cutAt && e.error)?.error ?? null,
    gapMs,
  };
  // A fresh connection works through the new holder.
  const fresh = client();
  result.freshServed = await until("a fresh connection's echo", () => fresh.events.find((e) => e.echo)?.echo, 20_000);
  fresh.stop();
  // The dead director comes back as a backup.
  inNs(holder, "ip", "link", "set", "eth0", "up");
  startAgent(holder);
  return result;
}

async function main(): Promise<void> {
  network();
  await api("PUT", `/v1/clusters/${CLUSTER}/config`, cluster(plan.rounds[0] ?? true));
  for (const d of DIRECTORS) {
    await enroll(d);
    startAgent(d);
  }
  const rounds: Record<string, unknown>[] = [];
  let applied = plan.rounds[0] ?? true;
  for (const sync of plan.rounds) {
    if (sync !== applied) await api("PUT", `/v1/clusters/${CLUSTER}/config`, cluster(sync));
    applied = sync;
    rounds.push(await round(sync));
  }
  console.log(`OBSERVED ${JSON.stringify({ rounds })}`);
  process.exit(0);
}

main().catch((err) => {
  console.log(`GUEST FAILED ${(err as Error).stack}`);
  console.log(`client events (last 12): ${JSON.stringify(lastEvents.slice(-12))}`);
  for (const ns of ["client", "d1", "d2"])
    for (const argv of [
      ["ip", "neigh"],
      ["ip", "-4", "addr", "show", "dev", "eth0"],
      ["ipvsadm", "-L", "-n", "-c"],
    ])
      try {
        console.log(`${ns}$ ${argv.join(" ")}\n${inNs(ns, ...argv)}`);
      } catch (e) {
        console.log(`${ns}$ ${argv.join(" ")}: ${(e as Error).message}`);
      }
  for (const log of ["/tmp/relay.log", "/tmp/d1-agent.log", "/tmp/d2-agent.log"])
    console.log(`${log}:\n${sh("tail", "-n", "25", log)}`);
  process.exit(1);
});
