/**
 * backends.sync through the real coordinator in workerd: a director gets its VIP group's
 * tables when it connects, a real server voted down leaves the table at once, what the
 * director acks comes back in GET .../backends, its live table is read on an explicit refresh
 * (and shown with its age afterwards, without asking again), and a service below its minimum
 * is an event.
 */
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/core/envelope.js";
import { director } from "./director.js";
import { ADMIN, api, page, signIn } from "./http.js";

const servers = (e: Envelope) =>
  e.command.type === "backends.sync" ? e.command.services[0]?.servers.map((s) => `${s.name}:${s.weight}`) : [];

describe("backends through the coordinator", () => {
  it("sends the director its tables, drops a server voted down at once, and shows what the director acked", async () => {
    const { cluster, lb1 } = await director();
    const first = await lb1.next("backends.sync");
    expect(servers(first)).toEqual(["web1:3", "web2:1"]);
    await lb1.send({
      type: "ack",
      of: first.id,
      ok: true,
      error: null,
      result: { ipvs: { sent: ["-A -t 192.168.88.15:80 -s wrr"], actual: ["-A -t 192.168.88.15:80 -s wrr"] } },
    });

    const seen = lb1.received.length;
    const now = Date.now();
    await lb1.send({
      type: "votes",
      heartbeat: false,
      votes: [
        { target: "web/web1", state: "down", since: now, latencyMs: null, error: "refused", probes: 3, failures: 3 },
      ],
    });
    const second = await lb1.next("backends.sync", seen, 2000);
    expect(servers(second)).toEqual(["web2:1"]);

    // A refresh asks the director for its live table; the scripted director answers with web1 still in.
    const asked = lb1.received.length;
    const pending = api("POST", `/v1/clusters/${cluster}/backends/refresh`);
    const status = await lb1.next("backends.status", asked);
    const live = (address: string, weight: number, conns: number) => ({
      address,
      port: 80,
      weight,
      forward: "Route",
      activeConns: conns,
      inactiveConns: 0,
    });
    await lb1.send({
      type: "ack",
      of: status.id,
      ok: true,
      error: null,
      result: {
        services: [
          {
            service: "web",
            present: true,
            scheduler: "wrr",
            servers: [live("192.168.88.21", 3, 4), live("192.168.88.22", 1, 2)],
          },
        ],
        errors: {},
        sync: [{ role: "master", interface: "eth1", syncId: 5 }],
      },
    });
    const view = (await pending).body;
    expect(view.services[0].desired).toMatchObject({ name: "web", healthy: 1, belowMinimum: false });
    expect(view.services[0].desired.servers.map((s: { name: string }) => s.name)).toEqual(["web2"]);
    const revision = first.command.type === "backends.sync" ? first.command.revision : -1;
    expect(view.services[0].directors).toEqual([
      {
        node: "lb1",
        online: true,
        actual: {
          service: "web",
          present: true,
          scheduler: "wrr",
          servers: [live("192.168.88.21", 3, 4), live("192.168.88.22", 1, 2)],
        },
        readAt: expect.any(String),
        ageMs: expect.any(Number),
        error: null,
        differences: ["192.168.88.21:80 not wanted"],
        sync: [{ role: "master", interface: "eth1", syncId: 5 }],
        report: {
          revision,
          at: expect.any(String),
          ok: true,
          error: null,
          result: { ipvs: { sent: ["-A -t 192.168.88.15:80 -s wrr"], actual: ["-A -t 192.168.88.15:80 -s wrr"] } },
        },
      },
    ]);
    // The dashboard shows the director's connection sync beside its table.
    const { cookie } = await signIn(ADMIN);
    expect((await page("GET", `/ui/clusters/${cluster}/services`, cookie)).text).toContain(
      "Connection sync: master on eth1 (syncid 5)",
    );
    // Looking again shows the same table, as read then, and asks the director nothing.
    const before = lb1.received.length;
    const again = (await api("GET", `/v1/clusters/${cluster}/backends`)).body;
    expect(again.services[0].directors[0].actual).toEqual(view.services[0].directors[0].actual);
    expect(again.services[0].directors[0].readAt).toBe(view.services[0].directors[0].readAt);
    expect(lb1.received.length).toBe(before);
    lb1.close();
  });

  it("takes out a real server when any of its several checks is voted down, and shows each check's verdict", async () => {
    const { cluster, lb1 } = await director("mc", (doc) => {
      doc.checks.push({
        name: "web-http",
        type: "http",
        interval: 1,
        timeout: 0.5,
        rise: 1,
        fall: 1,
        observers: { agents: ["lb1"] },
      });
      doc.virtualServices[0]?.realServers.splice(0, 1, {
        name: "web1",
        address: "192.168.88.21",
        port: 80,
        weight: 3,
        checks: ["web-tcp", "web-http"],
      });
    });
    const first = await lb1.next("backends.sync");
    expect(servers(first)).toEqual(["web1:3", "web2:1"]);
    const config = (await api("GET", `/v1/clusters/${cluster}/config`)).body;
    expect(config.virtualServices[0].realServers[0]).toEqual({
      name: "web1",
      address: "192.168.88.21",
      port: 80,
      weight: 3,
      checks: ["web-tcp", "web-http"],
    });
    const seen = lb1.received.length;
    const now = Date.now();
    const vote = (target: string, state: "up" | "down") => ({
      target,
      state,
      since: now,
      latencyMs: null,
      error: state === "down" ? "status 500" : null,
      probes: 1,
      failures: state === "down" ? 1 : 0,
    });
    await lb1.send({
      type: "votes",
      heartbeat: false,
      votes: [vote("web/web1/web-tcp", "up"), vote("web/web1/web-http", "down")],
    });
    const second = await lb1.next("backends.sync", seen, 2000);
    expect(servers(second)).toEqual(["web2:1"]);
    const view = (await api("GET", `/v1/clusters/${cluster}/backends`)).body;
    expect(view.services[0].checks).toEqual([
      { server: "web1", check: "web-tcp", target: "web/web1/web-tcp", state: "up" },
      { server: "web1", check: "web-http", target: "web/web1/web-http", state: "down" },
      { server: "web2", check: "web-tcp", target: "web/web2", state: "unknown" },
    ]);
    lb1.close();
  });

  it("shows a director that does not answer, and keeps what a driver did when the other failed", async () => {
    const { cluster, lb1 } = await director();
    const first = await lb1.next("backends.sync");
    const done = { ipvs: { sent: [], actual: ["-A -t 192.168.88.15:80 -s wrr"] } };
    const seen = lb1.received.length;
    await lb1.send({ type: "ack", of: first.id, ok: false, error: "haproxy: no socket", result: done });
    // The failure is an event, and the same tables go out again at the next alarm, though no verdict changed.
    const again = await lb1.next("backends.sync", seen, 10_000);
    expect(servers(again)).toEqual(servers(first));
    await expect
      .poll(async () => (await api("GET", `/v1/clusters/${cluster}/events?type=command.failed`)).body.length, {
        timeout: 5000,
      })
      .toBe(1);
    // Before any read the view says so.
    const unread = (await api("GET", `/v1/clusters/${cluster}/backends`)).body.services[0].directors[0];
    expect(unread).toMatchObject({ actual: null, readAt: null, ageMs: null, error: "not read yet" });
    const view = (await api("POST", `/v1/clusters/${cluster}/backends/refresh`)).body;
    const [lb] = view.services[0].directors;
    expect(lb.report).toMatchObject({ ok: false, error: "haproxy: no socket", result: done });
    // lb1 never answered the status read.
    expect(lb).toMatchObject({ online: true, actual: null, error: "no answer within 3000 ms", differences: [] });
    lb1.close();
  });

  it("records when a service falls below its minimum healthy real servers, and when it is back", async () => {
    const { cluster, lb1 } = await director();
    // Votes count once the director's connection is fully set up, which its first sync shows.
    await lb1.next("backends.sync");
    const vote = (target: string, state: "up" | "down") => ({
      target,
      state,
      since: Date.now(),
      latencyMs: null,
      error: null,
      probes: 1,
      failures: state === "down" ? 1 : 0,
    });
    await lb1.send({ type: "votes", heartbeat: false, votes: [vote("web/web1", "down"), vote("web/web2", "down")] });
    const events = async (type: string) => (await api("GET", `/v1/clusters/${cluster}/events?type=${type}`)).body;
    await expect.poll(async () => (await events("service.below_minimum")).length, { timeout: 10_000 }).toBe(1);
    expect((await events("service.below_minimum"))[0]).toMatchObject({
      subject: "web",
      severity: "critical",
      details: { healthy: 0, minHealthy: 1, sorry: false },
    });
    await lb1.send({ type: "votes", heartbeat: false, votes: [vote("web/web2", "up")] });
    await expect.poll(async () => (await events("service.restored")).length, { timeout: 10_000 }).toBe(1);
    expect(await events("service.below_minimum")).toHaveLength(1);
    lb1.close();
  });
});
