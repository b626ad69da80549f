/**
 * The HAProxy driver against Debian's real HAProxy on loopback: its admin socket, two (then
 * three) real web servers, and traffic through its frontend. Weights show in the split, a
 * server left out of the table stops getting requests, a new one is added at runtime and
 * deleted again, and a name with a newline is refused before anything is sent.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Backends } from "../../host-agent/src/backends.js";
import { HaproxyDriver, socketSender } from "../../host-agent/src/haproxy.js";
import { PartialFailure } from "../../host-agent/src/inbox.js";
import { IpvsDriver } from "../../host-agent/src/ipvs.js";
import type { DesiredService } from "../../src/core/backends.js";

let dir = "";
let haproxy: ChildProcess;
const servers: Server[] = [];
const ports: number[] = [];
let front = 0;
/** Requests to /hold wait here until the test lets them go. */
const held: (() => void)[] = [];

async function listen(name: string): Promise<number> {
  const server = createServer((req, res) => {
    res.setHeader("connection", "close");
    if (req.url === "/hold") held.push(() => res.end(name));
    else res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const p = await listen("probe");
  const s = servers.pop();
  await new Promise((r) => s?.close(r));
  return p;
}

/** Who answered `n` requests through HAProxy's frontend. */
async function split(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const who = await new Promise<string>((resolve, reject) => {
      get({ host: "127.0.0.1", port: front, path: "/", agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve(body));
      }).on("error", reject);
    });
    counts[who] = (counts[who] ?? 0) + 1;
  }
  return counts;
}

const table = (servers: DesiredService["servers"]): DesiredService[] => [
  {
    name: "web",
    driver: { type: "haproxy", backend: "be" },
    address: "10.77.0.100",
    port: 80,
    protocol: "tcp",
    scheduler: "wrr",
    forwarding: "nat",
    servers,
    healthy: servers.length,
    belowMinimum: false,
  },
];
const rs = (n: number, weight: number, role: "active" | "inhibited" = "active") => ({
  name: `web${n}`,
  address: "127.0.0.1",
  port: ports[n - 1] ?? 0,
  weight,
  role,
});

beforeAll(async () => {
  for (const n of [1, 2, 3]) ports.push(await listen(`web${n}`));
});

/** A HAProxy of its own for each test (web1 and web2 at weight 1), so each passes alone and in any order. */
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "vigil-haproxy-"));
  front = await freePort();
  const config = path.join(dir, "haproxy.cfg");
  writeFileSync(
    config,
    `global
  stats socket ${dir}/admin.sock mode 600 level admin
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:${front}
  default_backend be
backend be
  balance roundrobin
  server web1 127.0.0.1:${ports[0]} weight 1
  server web2 127.0.0.1:${ports[1]} weight 1
`,
  );
  haproxy = spawn("haproxy", ["-db", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  for (let i = 0; i < 100; i++) {
    try {
      await socketSender(path.join(dir, "admin.sock"))("show info");
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("haproxy did not open its admin socket (is Debian's haproxy installed?)");
});

afterEach(async () => {
  if (haproxy.exitCode === null && haproxy.signalCode === null) {
    const exited = new Promise((r) => haproxy.once("exit", r));
    haproxy.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

afterAll(() => {
  for (const s of servers) s.close();
});

describe("the HAProxy driver", () => {
  it("sets weights through the runtime API, and the traffic follows them", async () => {
    const driver = new HaproxyDriver(socketSender(path.join(dir, "admin.sock")));
    const [result] = await driver.sync(table([rs(1, 3), rs(2, 1)]));
    expect(result?.sent).toEqual(["set weight be/web1 3"]);
    expect(await split(40)).toEqual({ web1: 30, web2: 10 });
    expect((await driver.sync(table([rs(1, 3), rs(2, 1)])))[0]?.sent).toEqual([]);
  });

  it("reports each server's weight, state and current sessions, as the stats page does", async () => {
    const driver = new HaproxyDriver(socketSender(path.join(dir, "admin.sock")));
    await driver.sync(table([rs(1, 3), rs(2, 1)]));
    const request = new Promise<string>((resolve, reject) => {
      get({ host: "127.0.0.1", port: front, path: "/hold", agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve(body));
      }).on("error", reject);
    });
    while (held.length === 0) await new Promise((r) => setTimeout(r, 20));
    const [web] = await driver.status(table([rs(1, 3), rs(2, 1)]));
    held.shift()?.();
    const who = await request;
    expect(web?.service).toBe("web");
    expect(web?.servers.map((x) => [x.name, x.weight, x.state, x.sessions])).toEqual([
      ["web1", 3, "ready", who === "web1" ? 1 : 0],
      ["web2", 1, "ready", who === "web2" ? 1 : 0],
    ]);
  });

  it("puts a server left out of the table in maintenance, drains an inhibited one, and brings them back", async () => {
    const driver = new HaproxyDriver(socketSender(path.join(dir, "admin.sock")));
    expect((await driver.sync(table([rs(1, 1)])))[0]?.sent).toEqual(["set server be/web2 state maint"]);
    expect(await split(10)).toEqual({ web1: 10 });
    const [drained] = await driver.sync(table([rs(1, 1), rs(2, 1, "inhibited")]));
    expect(drained?.servers.find((s) => s.name === "web2")?.state).toBe("drain");
    expect(await split(10)).toEqual({ web1: 10 });
    await driver.sync(table([rs(1, 1), rs(2, 1)]));
    expect(await split(10)).toEqual({ web1: 5, web2: 5 });
  });

  it("adds a new server at runtime and deletes it when it goes", async () => {
    const driver = new HaproxyDriver(socketSender(path.join(dir, "admin.sock")));
    const [added] = await driver.sync(table([rs(1, 1), rs(2, 1), rs(3, 1)]));
    expect(added?.sent).toEqual([
      `add server be/web3 127.0.0.1:${ports[2]} weight 1`,
      "set server be/web3 state ready",
    ]);
    expect(await split(30)).toEqual({ web1: 10, web2: 10, web3: 10 });
    const [removed] = await driver.sync(table([rs(1, 1), rs(2, 1)]));
    expect(removed?.sent).toEqual(["set server be/web3 state maint", "del server be/web3"]);
    expect(removed?.servers.map((s) => s.name)).toEqual(["web1", "web2"]);
  });

  it("remembers across a restart which servers it added, and deletes only those", async () => {
    let kept: string[] = [];
    const memory = {
      load: () => kept,
      save: (names: string[]) => {
        kept = names;
      },
    };
    const before = new HaproxyDriver(socketSender(path.join(dir, "admin.sock")), memory);
    await before.sync(table([rs(1, 1), rs(2, 1), rs(3, 1)]));
    expect(kept).toEqual(["be/web3"]);
    const after = new HaproxyDriver(socketSender(path.join(dir, "admin.sock")), memory);
    const [result] = await after.sync(table([rs(1, 1)]));
    expect(result?.sent).toEqual([
      "set server be/web2 state maint",
      "set server be/web3 state maint",
      "del server be/web3",
    ]);
    expect(kept).toEqual([]);
    await after.sync(table([rs(1, 1), rs(2, 1)]));
  });

  it("refuses a name with a newline before anything is sent", async () => {
    const sent: string[] = [];
    const driver = new HaproxyDriver(async (line) => {
      sent.push(line);
      return "";
    });
    const evil = table([{ ...rs(1, 1), name: "web1\nshutdown sessions server be/web2" }]);
    await expect(driver.sync(evil)).rejects.toThrow(/name/);
    const badBackend = table([rs(1, 1)]).map((s) => ({
      ...s,
      driver: { type: "haproxy" as const, backend: "be;disable frontend fe" },
    }));
    await expect(driver.sync(badBackend)).rejects.toThrow(/backend/);
    expect(sent).toEqual([]);
  });

  it("keeps what HAProxy did when the IPVS driver fails, and reads status per driver", async () => {
    // No IPVS on this host: an ipvsadm that fails the way a missing module does (the qemu test drives the real one).
    const ipvs = new IpvsDriver({
      run: async () => ({ code: 2, stdout: "", stderr: "Can't initialize ipvs: Protocol not available" }),
    });
    const backends = new Backends(ipvs, new HaproxyDriver(socketSender(path.join(dir, "admin.sock"))));
    const ipvsService = { ...table([])[0], name: "dns", driver: { type: "ipvs" as const } } as DesiredService;
    const error = await backends.sync([ipvsService, ...table([rs(1, 2), rs(2, 1)])]).catch((e) => e);
    expect(error).toBeInstanceOf(PartialFailure);
    expect(error.message).toMatch(/^ipvs: ipvsadm -S -n exited 2: Can't initialize ipvs/);
    expect(error.result.haproxy[0].servers.map((x: { weight: number }) => x.weight)).toEqual([2, 1]);
    const status = await backends.status();
    expect(status.errors).toEqual({ ipvs: expect.stringMatching(/^ipvsadm -L -n exited 2/) });
    expect(status.services.map((x) => [x.service, x.servers.map((y) => y.weight)])).toEqual([["web", [2, 1]]]);
  });
});
