/**
 * What votes cost in storage: a vote that changes nothing writes no row (votes live in the
 * coordinator's memory), a verdict is written when its state changes, and a restarted
 * coordinator keeps its stored verdicts until fresh votes decide.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Vote } from "../../src/core/vote.js";
import { agentVotedCluster } from "./fixtures.js";
import { api } from "./http.js";
import { restart } from "./restart.js";

const CLUSTER = "vote-rows";
const agents = ["lb1", "lb2", "lb3"];
const TARGETS = ["web/web1", "web/web2"];
let seq = 0;

const stub = () => env.COORDINATOR.getByName(CLUSTER);
const send = (observer: string, state: Vote["state"]) =>
  stub().ingest({
    observer: `agent:${observer}`,
    seq: ++seq,
    heartbeat: false,
    votes: TARGETS.map((target) => ({
      target,
      state,
      since: 0,
      latencyMs: 2,
      error: null,
      probes: 1,
      failures: state === "down" ? 1 : 0,
    })),
  });
const rowsWritten = async () => (await stub().metrics()).usage.rowsWritten;
const verdicts = async () =>
  (await api("GET", `/v1/clusters/${CLUSTER}/health`)).body.targets.map(
    (t: { verdict: { state: string } }) => t.verdict.state,
  );
const minute = () => Math.floor(Date.now() / 60_000);

describe("votes and storage", () => {
  it("writes no row for votes that change nothing, a row per verdict that changes, and holds verdicts through a restart", async () => {
    const applied = await api("PUT", `/v1/clusters/${CLUSTER}/config`, {
      body: agentVotedCluster(
        CLUSTER,
        agents,
        TARGETS.map((t) => t.split("/")[1] as string),
      ),
    });
    expect(applied.status).toBe(200);
    await send("lb1", "up");
    await send("lb2", "up");
    expect(await verdicts()).toEqual(["up", "up"]);

    // 60 batches of two unchanged votes from each of three observers: no row, but for the
    // history's row of a minute that ended meanwhile (one per minute, whatever the votes).
    const before = await rowsWritten();
    const from = minute();
    for (let i = 0; i < 60; i++) for (const a of agents) await send(a, "up");
    expect(await rowsWritten()).toBeLessThanOrEqual(before + (minute() - from));
    expect(await verdicts()).toEqual(["up", "up"]);

    // Two verdicts change: a row each (their events go to the outbox as rows of their own).
    const changing = await rowsWritten();
    await send("lb1", "down");
    expect(await rowsWritten()).toBeLessThanOrEqual(changing + (minute() - from));
    await send("lb2", "down");
    expect(await verdicts()).toEqual(["down", "down"]);
    expect(await rowsWritten()).toBeGreaterThanOrEqual(changing + 2);

    // A restart: no votes in memory, the stored verdicts hold (not unknown), and fresh votes decide at once.
    await restart(CLUSTER);
    expect(await verdicts()).toEqual(["down", "down"]);
    await send("lb1", "up");
    expect(await verdicts()).toEqual(["down", "down"]);
    await send("lb3", "up");
    expect(await verdicts()).toEqual(["up", "up"]);
  });
});
