import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.js";
import { populatedCluster } from "./fixtures.js";
import { api } from "./http.js";

describe("cron", () => {
  it("deletes unused enrollment tokens a week past expiry and keeps the rest", async () => {
    const { base, name } = await populatedCluster();
    const fresh = await api("POST", `${base}/enrollment-tokens`, { body: { node: "lb1" } });
    const insert = env.DB.prepare(
      "INSERT INTO enrollment_tokens (id, cluster, node, hash, prefix, expires_at, used_at) VALUES (?, ?, 'lb1', ?, 'vge_x', ?, ?)",
    );
    const eightDaysAgo = new Date(Date.now() - 8 * 86400_000).toISOString();
    await env.DB.batch([
      insert.bind("old-unused", name, "h1", eightDaysAgo, null),
      insert.bind("old-used", name, "h2", eightDaysAgo, eightDaysAgo),
      insert.bind("recently-expired", name, "h3", new Date(Date.now() - 86400_000).toISOString(), null),
    ]);
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), env);
    const left = (await api("GET", `${base}/enrollment-tokens`)).body.map((t: { id: string }) => t.id).sort();
    expect(left).toEqual([fresh.body.id, "old-used", "recently-expired"].sort());
  });
});
