/**
 * The two LVS directors of test/ipvs/failover-guest.ts, d1 and d2, run by Vigil (the built
 * agent against the control plane on the host) or by keepalived (VRRP with lvs_sync_daemon),
 * with the same VIP, the same direct-routing service and the same priorities (100, 50), neither
 * taking the VIP back when it returns. Each runs inside the qemu guest.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { inNs, sleep } from "./guest-kit.js";

export const DIRECTORS = ["d1", "d2"] as const;
export type Director = (typeof DIRECTORS)[number];
export const VIP = "10.60.0.100";
export const ADDRESS: Record<string, string> = {
  d1: "10.60.0.11",
  d2: "10.60.0.12",
  rs1: "10.60.0.21",
  rs2: "10.60.0.22",
};
const REAL_SERVERS = ["rs1", "rs2"];
const PRIORITY: Record<Director, number> = { d1: 100, d2: 50 };
const SYNC_ID = 7;

export interface Directors {
  /** Connection sync on or off for the next round; the first call starts both directors. */
  configure(sync: boolean): Promise<void>;
  /** A dead director comes back. */
  start(d: Director): void;
  /** The director's daemon dies at once, as in a crash (its link is cut by the caller). */
  kill(d: Director): void;
  /** Its log files, shown when the guest fails. */
  logs: string[];
}

function daemon(d: Director, argv: string[], log: string): ChildProcess {
  const out = openSync(log, "a");
  return spawn("ip", ["netns", "exec", d, ...argv], { stdio: ["ignore", out, out] });
}

/** Vigil: the control plane at `api` (the guest's root namespace), the agents through `relay`. */
export function vigilDirectors(api: string, relay: string, admin: string, leaseTtl: number): Directors {
  const CLUSTER = "guest";
  const agents = new Map<Director, ChildProcess>();
  let started = false;
  // A new connection per call: qemu's forward runs one nc per connection, and a kept-alive one
  // can be closed under a reuse while an enrollment runs.
  const call = (method: string, route: string, body?: unknown) =>
    new Promise<any>((resolve, reject) => {
      const request = http.request(
        `${api}${route}`,
        { method, agent: false, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" } },
        (response) => {
          let text = "";
          response.on("data", (c) => {
            text += c;
          });
          response.on("end", () => {
            if ((response.statusCode ?? 0) >= 300)
              reject(new Error(`${method} ${route}: ${response.statusCode} ${text}`));
            else resolve(text ? JSON.parse(text) : null);
          });
        },
      );
      request.on("error", reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const cluster = (sync: boolean) => ({
    cluster: { name: CLUSTER },
    nodes: DIRECTORS.map((name) => ({ name, address: ADDRESS[name] })),
    vipGroups: [
      {
        name: "VI_1",
        vips: [{ cidr: `${VIP}/24`, interface: "eth0" }],
        members: DIRECTORS.map((node) => ({ node, priority: PRIORITY[node] })),
        preempt: false,
        leaseTtl,
        ...(sync ? { lvsSync: { interface: "eth0", syncId: SYNC_ID } } : {}),
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
        realServers: REAL_SERVERS.map((name) => ({ name, address: ADDRESS[name], port: 7000 })),
      },
    ],
  });
  const start = (d: Director) => {
    agents.set(
      d,
      daemon(d, ["node", "/test/vigil-agent.cjs", "run", "--config", `/tmp/${d}.json`], `/tmp/${d}-agent.log`),
    );
  };
  return {
    async configure(sync) {
      await call("PUT", `/v1/clusters/${CLUSTER}/config`, cluster(sync));
      if (started) return;
      started = true;
      for (const d of DIRECTORS) {
        const { token } = await call("POST", `/v1/clusters/${CLUSTER}/enrollment-tokens`, { node: d });
        // biome-ignore format: one command
        inNs(d, "node", "/test/vigil-agent.cjs", "enroll", "--url", relay, "--token", token, "--node", d, "--config", `/tmp/${d}.json`, "--state-dir", `/tmp/${d}-state`);
        start(d);
      }
    },
    start,
    kill: (d) => agents.get(d)?.kill("SIGKILL"),
    logs: DIRECTORS.map((d) => `/tmp/${d}-agent.log`),
  };
}

/** keepalived as an operator runs it today: VRRP (advert_int 1), nopreempt, the virtual server, lvs_sync_daemon. */
export function keepalivedDirectors(): Directors {
  const running = new Map<Director, ChildProcess>();
  const pids = (d: Director) =>
    [running.get(d)?.pid, ...["vrrp", "chk"].map((k) => Number(readFileSync(`/tmp/${d}-${k}.pid`, "utf8")))].filter(
      (p): p is number => typeof p === "number" && p > 0,
    );
  const config = (d: Director, sync: boolean) => `global_defs {
  router_id ${d}
${sync ? `  lvs_sync_daemon eth0 VI_1 id ${SYNC_ID}\n` : ""}}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${PRIORITY[d]}
  advert_int 1
  nopreempt
  virtual_ipaddress {
    ${VIP}/24 dev eth0
  }
}
virtual_server ${VIP} 7000 {
  lb_algo rr
  lb_kind DR
  protocol TCP
${REAL_SERVERS.map((rs) => `  real_server ${ADDRESS[rs]} 7000 {\n    weight 1\n  }\n`).join("")}}
`;
  const start = (d: Director) => {
    // biome-ignore format: one command
    running.set(d, daemon(d, ["keepalived", "-n", "-l", "-G", "-D", "-f", `/tmp/${d}.conf`, "-p", `/tmp/${d}.pid`, "-r", `/tmp/${d}-vrrp.pid`, "-c", `/tmp/${d}-chk.pid`], `/tmp/${d}-keepalived.log`));
  };
  return {
    async configure(sync) {
      // keepalived reads lvs_sync_daemon at start: both stop cleanly (taking their VIP and
      // service down) and start again with the new file.
      for (const [d, child] of running) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
        running.delete(d);
      }
      for (const d of DIRECTORS) {
        writeFileSync(`/tmp/${d}.conf`, config(d, sync));
        start(d);
        await sleep(200);
      }
    },
    start,
    kill(d) {
      // A crash: no process of it may clean up behind, so all stop before any dies.
      for (const signal of ["SIGSTOP", "SIGKILL"] as const)
        for (const pid of pids(d))
          try {
            process.kill(pid, signal);
          } catch {
            // Gone already.
          }
      running.delete(d);
    },
    logs: DIRECTORS.map((d) => `/tmp/${d}-keepalived.log`),
  };
}
