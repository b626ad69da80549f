/**
 * GET /metrics in workerd: refused without a token, served to a read token and to the
 * separate metrics token (which reads nothing else), and parsed by a Prometheus text-format
 * parser with the series for votes, verdicts, latency, leases, agents and commands.
 */
import { env, exports } from "cloudflare:workers";
import parse from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { webPair } from "./fixtures.js";
import { api } from "./http.js";

const METRICS_TOKEN = env.VIGIL_METRICS_TOKEN ?? "";

async function scrape(token: string | null) {
  const response = await exports.default.fetch(
    new Request("http://vigil.test/metrics", { headers: token ? { authorization: `Bearer ${token}` } : {} }),
  );
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

describe("GET /metrics", () => {
  it("needs a token, and the metrics token reads nothing else", async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape("vgl_wrong-token-0123456789")).status).toBe(401);
    const ok = await scrape(METRICS_TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect((await api("GET", "/v1/clusters", { token: METRICS_TOKEN })).status).toBe(401);
    const read = (await api("POST", "/v1/tokens", { body: { name: "prometheus", role: "read" } })).body.token;
    expect((await scrape(read)).status).toBe(200);
  });

  it("carries the cluster's votes, verdicts, latency, lease and agents", async () => {
    const name = await webPair(
      "metrics",
      {
        name: "web-tcp",
        type: "tcp",
        observers: { regions: ["weur", "enam", "apac"] },
        // The real probers' own verdicts take minutes to form.
        fall: 20,
        rise: 20,
      },
      "198.51.100.21",
    );
    const vote = (state: "up" | "down", latencyMs: number) => ({
      target: "web/web1",
      state,
      since: Date.now(),
      latencyMs,
      error: null,
      probes: 1,
      failures: state === "down" ? 1 : 0,
    });
    // The regions' real probers run too (their probes of this address fail, their verdicts take
    // minutes): a batch number past any of theirs (they number batches by the clock), as their
    // shard 0, keeps these votes the latest.
    const coordinator = env.COORDINATOR.getByName(name);
    // The coordinator takes a new cluster's configuration within a moment; a vote on a target it
    // does not know yet is not kept. Its health report says when it knows the target.
    await expect.poll(async () => (await api("GET", `/v1/clusters/${name}/health`)).body.targets?.length ?? 0).toBe(1);
    const seq = Date.now() + 86_400_000;
    await coordinator.ingest({ observer: "region:weur", shard: 0, seq, heartbeat: false, votes: [vote("up", 12)] });
    await coordinator.ingest({ observer: "region:apac", shard: 0, seq, heartbeat: false, votes: [vote("down", 300)] });

    const { text } = await scrape(METRICS_TOKEN);
    const families = new Map(parse(text).map((f) => [f.name, f]));
    const mine = (family: string) => (families.get(family)?.metrics ?? []).filter((m) => m.labels?.cluster === name);
    expect(
      mine("vigil_observer_vote")
        .filter((m) => m.value === "1")
        .map((m) => [m.labels?.observer, m.labels?.state]),
    ).toEqual([
      ["region:weur", "up"],
      ["region:enam", "unknown"],
      ["region:apac", "down"],
    ]);
    // One up, one down, one not heard: no majority either way.
    const verdict = (m: typeof mine) => m("vigil_target_verdict").find((x) => x.value === "1")?.labels?.state;
    expect(verdict(mine)).toBe("unknown");
    // Counted since the object started: the test's vote, and any heartbeat a real prober sent first.
    const received = new Map(mine("vigil_votes_received_total").map((m) => [m.labels?.observer, Number(m.value)]));
    expect(received.get("region:weur")).toBeGreaterThanOrEqual(1);
    expect(received.get("region:apac")).toBeGreaterThanOrEqual(1);
    expect(text).toContain(`vigil_probe_latency_seconds_bucket{cluster="${name}",region="weur",le="0.025"} 1`);
    expect(text).toContain(`vigil_probe_latency_seconds_bucket{cluster="${name}",region="apac",le="0.25"} 0`);
    expect(text).toContain(`vigil_probe_latency_seconds_count{cluster="${name}",region="apac"} 1`);
    expect(mine("vigil_lease_epoch").map((m) => [m.labels?.group, m.value])).toEqual([["VI_1", "0"]]);
    expect(mine("vigil_agent_online").map((m) => [m.labels?.node, m.value])).toEqual([
      ["lb1", "0"],
      ["lb2", "0"],
    ]);
    expect(mine("vigil_commands_total").map((m) => m.labels?.outcome)).toEqual(["sent", "acked", "failed"]);

    // A second region down makes the majority: the gauge follows the verdict.
    await coordinator.ingest({ observer: "region:enam", shard: 0, seq, heartbeat: false, votes: [vote("down", 300)] });
    const after = new Map(parse((await scrape(METRICS_TOKEN)).text).map((f) => [f.name, f]));
    expect(verdict((family) => (after.get(family)?.metrics ?? []).filter((m) => m.labels?.cluster === name))).toBe(
      "down",
    );
  });
});
