/**
 * Runs inside the qemu guest (bundled by test/ipvs/lvs-failover.mjs): a failover between two
 * LVS directors run by Vigil (the built agent against the control plane on the host, reached
 * through vm.sh's VIGIL_VM_HOST_PORT and tcp-relay.mjs) or by keepalived (guest-directors.ts).
 *
 * One LAN, a bridge in the guest's root namespace (10.60.0.1, the relay): directors d1 (.11)
 * and d2 (.12), real servers rs1 (.21) and rs2 (.22) with the VIP on lo (`vigil-agent
 * realserver`), and a client (.50). The VIP 10.60.0.100:7000 is a direct-routing service.
 *
 * Each round: the client keeps one TCP connection open through the VIP holder
 * (stream-client.mjs, a line every 50 ms, echoed by the real server); then the holder dies (its
 * daemon SIGKILLed, its LAN link down) and the other director claims the VIP. With connection
 * sync on, the connection goes on through the new holder; with it off, the new holder has no
 * entry for it and the client is reset. The dead director then comes back (link up, daemon
 * restarted) for the next round.
 *
 * /test/plan.json: {system: "vigil" | "keepalived", rounds: [true, false, ...] (sync on or off
 * per round), and for Vigil admin (the API token) and leaseTtl}. Prints `OBSERVED <json>`.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseDaemons } from "../../host-agent/src/lvs-sync.js";
import {
  DIRECTORS,
  type Director,
  type Directors,
  keepalivedDirectors,
  VIP,
  vigilDirectors,
} from "./guest-directors.js";
import { bash, inNs, sh, sleep } from "./guest-kit.js";

const plan = JSON.parse(readFileSync("/test/plan.json", "utf8")) as {
  system: "vigil" | "keepalived";
  rounds: boolean[];
  admin?: string;
  leaseTtl?: number;
};
const directors: Directors =
  plan.system === "keepalived"
    ? keepalivedDirectors()
    : vigilDirectors("http://10.0.2.100:8787", "http://10.60.0.1:8787", plan.admin ?? "", plan.leaseTtl ?? 2);

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
  // One holder: a crashed keepalived leaves its VIP behind until it starts again.
  const holder = await until("one director holding the VIP", () => {
    const holders = DIRECTORS.filter(holds);
    return holders.length === 1 && holders[0];
  });
  const other = holder === "d1" ? "d2" : "d1";
  await until("the service on both directors", () =>
    DIRECTORS.every((d) => table(d).some((l) => l.includes(`${VIP}:7000`))),
  );
  const want = (role: string) => (sync ? [{ role, interface: "eth0", syncId: 7 }] : []);
  const runs = (d: Director, role: string) => daemons(d).some((x) => x.role === role);
  await until(
    () => `the sync daemons (${JSON.stringify({ d1: daemons("d1"), d2: daemons("d2") })})`,
    plan.system === "vigil"
      ? () =>
          JSON.stringify(daemons(holder)) === JSON.stringify(want("master")) &&
          JSON.stringify(daemons(other)) === JSON.stringify(want("backup"))
      : // keepalived leaves a crashed run's daemon behind when it starts with sync off; what
        // matters is that the holder sends and the other receives, or that the other does not.
        () => (sync ? runs(holder, "master") && runs(other, "backup") : !runs(other, "backup")),
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
  directors.kill(holder);
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
  directors.start(holder);
  return result;
}

async function main(): Promise<void> {
  network();
  const rounds: Record<string, unknown>[] = [];
  let applied: boolean | null = null;
  for (const sync of plan.rounds) {
    if (sync !== applied) await directors.configure(sync);
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
  for (const log of ["/tmp/relay.log", ...directors.logs]) console.log(`${log}:\n${sh("tail", "-n", "25", log)}`);
  process.exit(1);
});
