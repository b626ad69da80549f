/**
 * Events end to end in workerd, with nothing written by hand: a real server fails, the three
 * regions' probers vote, the coordinator decides, and a subscribed receiver on loopback gets
 * the signed `target.down` (and `target.up`), verified with the Standard Webhooks library; two
 * directors hand a VIP over through the coordinator's leases and the receiver gets `vip.moved`.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { api } from "../worker/http.js";
import { directorPair } from "../worker/pair.js";
import { loopbackCluster } from "./loopback-cluster.js";
import type { Received } from "./servers.js";

const ports = inject("ports");
const SECRET = "whsec_ZXZlbnQtcGF0aC1zZWNyZXQtMDEyMzQ1Njc4OWFi";
const RECEIVER = "/hook/event-path";

/** A receiver that keeps what it was sent; the events for `cluster`, verified, in arrival order. */
async function delivered(cluster: string): Promise<{ type: string; data: Record<string, any> }[]> {
  const requests: Received[] = await (await fetch(`http://127.0.0.1:${ports.hooks}/hook-log?path=${RECEIVER}`)).json();
  return requests
    .map((r) => new Webhook(SECRET).verify(r.body, r.headers) as { type: string; data: Record<string, any> })
    .filter((p) => p.data.cluster === cluster);
}

async function subscribe(cluster: string): Promise<void> {
  const reply = await api("POST", "/v1/webhooks", {
    body: {
      name: `path-${cluster}`,
      url: `http://127.0.0.1:${ports.hooks}${RECEIVER}`,
      secret: SECRET,
      filter: { clusters: [cluster] },
    },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
}

const WAIT = { timeout: 20_000, interval: 100 };

describe("an event from the coordinator to a subscribed receiver", () => {
  it("a real server fails for every region: the receiver gets the signed target.down, then target.up", async () => {
    const cluster = "event-path-target";
    const path = `/switched/${cluster}`;
    const serve = (status: number) => fetch(`http://127.0.0.1:${ports.http}/switch?path=${path}&status=${status}`);
    await serve(200);
    await subscribe(cluster);
    const applied = await api("PUT", `/v1/clusters/${cluster}/config`, {
      body: loopbackCluster(cluster, "127.0.91.2", ports.http, {
        path,
        rise: 1,
        fall: 1,
        observers: { regions: ["weur", "enam", "apac"] },
      }),
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const verdict = async () => (await api("GET", `/v1/clusters/${cluster}/health`)).body.targets[0]?.verdict.state;
    await expect.poll(verdict, WAIT).toBe("up");

    await serve(503);
    await expect.poll(async () => (await delivered(cluster)).map((p) => p.type), WAIT).toContain("target.down");
    const down = (await delivered(cluster)).find((p) => p.type === "target.down");
    expect(down?.data).toMatchObject({
      cluster,
      subject: "web/web1",
      severity: "critical",
      details: { from: "up", to: "down" },
    });

    await serve(200);
    await expect.poll(async () => (await delivered(cluster)).map((p) => p.type), WAIT).toContain("target.up");
    const types = (await delivered(cluster)).map((p) => p.type);
    expect(types.indexOf("target.up", types.indexOf("target.down"))).toBeGreaterThan(types.indexOf("target.down"));
  });

  it("a VIP moves from one director to the other: the receiver gets the signed vip.moved for each", async () => {
    const { cluster, lb1, lb2 } = await directorPair({}, "event-path-vip");
    await subscribe(cluster);

    // lb1 is promised the group and says it holds it.
    await lb1.lease("VI_1", 1);
    await lb1.next("vip.claim");
    await lb1.lease("VI_1", 1, true);
    await expect
      .poll(async () => (await delivered(cluster)).filter((p) => p.type === "vip.moved").length, WAIT)
      .toBe(1);

    // lb2 reports, lb1 gives the group up, lb2 is offered it and takes it.
    await lb2.lease("VI_1", 0);
    const seen = lb2.received.length;
    await lb1.send({ type: "lease.released", group: "VI_1", leaseEpoch: 1 }, 1);
    const offer = await lb2.next("lease.offer", seen);
    await lb2.lease("VI_1", offer.epoch + 1);
    await lb2.next("vip.claim", seen);
    await lb2.lease("VI_1", offer.epoch + 1, true);
    await expect
      .poll(async () => (await delivered(cluster)).filter((p) => p.type === "vip.moved").length, WAIT)
      .toBe(2);

    const moves = (await delivered(cluster)).filter((p) => p.type === "vip.moved").map((p) => p.data);
    expect(moves[0]).toMatchObject({ subject: "VI_1", severity: "info", details: { from: null, to: "lb1", epoch: 1 } });
    expect(moves[1]).toMatchObject({
      subject: "VI_1",
      severity: "warning",
      details: { from: "lb1", to: "lb2", epoch: 2, reason: "lb1 released it" },
    });
    lb1.close();
    lb2.close();
  });
});
