/**
 * The coordinator on its own, fed votes over RPC as agents will send them (agent observers
 * start no probers, so every vote here is the test's).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Coordinator } from "../../src/coordinator/coordinator.js";
import type { Vote } from "../../src/core/vote.js";
import { agentVotedCluster } from "./fixtures.js";
import { api } from "./http.js";

const CLUSTER = "coord";
const agents = ["lb1", "lb2", "lb3"];
let seq = 0;

function vote(state: Vote["state"], error: string | null = null): Vote {
  return {
    target: "web/web1",
    state,
    since: Date.now(),
    latencyMs: 3,
    error,
    probes: 10,
    failures: state === "down" ? 3 : 0,
  };
}

const stub = () => env.COORDINATOR.getByName(CLUSTER);
const send = (observer: string, votes: Vote[], batchSeq = ++seq) =>
  stub().ingest({ observer, seq: batchSeq, heartbeat: false, votes });
const events = async () =>
  (await api("GET", `/v1/clusters/${CLUSTER}/events?target=web/web1`)).body.map((e: { type: string }) => e.type);

describe("Coordinator", () => {
  it("decides by quorum, ignores stale batches and outsiders, and marks silence as unknown", async () => {
    const applied = await api("PUT", `/v1/clusters/${CLUSTER}/config`, {
      body: agentVotedCluster(CLUSTER, agents, ["web1"]),
    });
    expect(applied.status).toBe(200);

    expect((await send("agent:lb1", [vote("up")])).changed).toEqual([]);
    expect((await send("agent:lb2", [vote("up")])).changed).toEqual([{ target: "web/web1", state: "up" }]);
    expect((await send("agent:lb1", [vote("down", "refused")])).changed).toEqual([]);
    expect((await send("agent:lb2", [vote("down", "refused")])).changed).toEqual([
      { target: "web/web1", state: "down" },
    ]);

    // A retried old batch does not undo newer votes.
    expect(await send("agent:lb2", [vote("up")], 1)).toMatchObject({ accepted: 0, stale: true });
    // Each shard of one observer counts its own seqs (a region's prober shards send apart).
    const sharded = (shard: number, batchSeq: number) =>
      stub().ingest({
        observer: "agent:lb2",
        shard,
        seq: batchSeq,
        heartbeat: false,
        votes: [vote("down", "refused")],
      });
    expect(await sharded(0, 5)).toMatchObject({ accepted: 1, stale: false });
    expect(await sharded(1, 1)).toMatchObject({ accepted: 1, stale: false });
    expect(await sharded(1, 1)).toMatchObject({ accepted: 0, stale: true });
    expect(await sharded(0, 4)).toMatchObject({ accepted: 0, stale: true });
    // An observer the check does not name is not counted, nor a target it does not have.
    expect((await send("agent:lb9", [vote("up")])).accepted).toBe(0);
    expect((await send("agent:lb3", [{ ...vote("up"), target: "web/nope" }])).accepted).toBe(0);
    expect(await send("agent:lb3", [{ ...vote("up"), state: "fine" as never }])).toMatchObject({
      accepted: 0,
      rejected: expect.stringMatching(/^votes\[0\]\.state: /),
    });

    const report = (await api("GET", `/v1/clusters/${CLUSTER}/health`)).body;
    expect(report.targets[0].verdict).toMatchObject({ state: "down", fresh: 2, required: 2 });
    expect(report.targets[0].observers).toEqual([
      expect.objectContaining({
        observer: "agent:lb1",
        state: "down",
        error: "refused",
        fresh: true,
        probes: 10,
        failures: 3,
      }),
      expect.objectContaining({ observer: "agent:lb2", state: "down", fresh: true }),
      expect.objectContaining({ observer: "agent:lb3", state: "unknown", fresh: false, receivedAt: null }),
    ]);

    // Silence: age every vote past the limit (3 intervals, at least 3 heartbeats) and let the alarm look.
    await runInDurableObject(stub(), async (instance) => {
      const book = (
        instance as unknown as {
          votes: { votes: Map<string, Map<string, { receivedAt: number }>>; staleAt: Map<string, number> };
        }
      ).votes;
      for (const byObserver of book.votes.values()) for (const v of byObserver.values()) v.receivedAt -= 16_000;
      // When each target's votes go stale moves with them.
      for (const [id, at] of book.staleAt) book.staleAt.set(id, at - 16_000);
      await (instance as Coordinator).alarm();
    });
    expect((await api("GET", `/v1/clusters/${CLUSTER}/health`)).body.targets[0].verdict.state).toBe("unknown");

    await send("agent:lb1", [vote("down")]);
    await send("agent:lb3", [vote("down")]);
    // Events are written just after the answer; give them a moment.
    for (let i = 0; i < 50 && (await events()).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await events()).toEqual(["quorum.regained", "quorum.lost", "target.down"]);
    // The service's only real server follows the verdict: below its minimum, back (unknown counts as healthy), below.
    const rows = await env.DB.prepare(
      "SELECT type FROM events WHERE cluster = ? AND subject = 'web' ORDER BY at, rowid",
    )
      .bind(CLUSTER)
      .all<{ type: string }>();
    expect(rows.results.map((r) => r.type)).toEqual([
      "service.below_minimum",
      "service.restored",
      "service.below_minimum",
    ]);
    const all = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE cluster = ?")
      .bind(CLUSTER)
      .first<{ n: number }>();
    expect(all?.n).toBe(6);
  });
});
