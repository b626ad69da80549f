import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Check } from "../../src/core/check.js";
import { NodeView } from "../../src/core/node.js";
import { SyncGroup, VipGroup } from "../../src/core/vip-group.js";
import { RealServer, VirtualService } from "../../src/core/virtual-service.js";
import { newCluster, node, populatedCluster, tcpCheck, vipGroup, virtualService } from "./fixtures.js";
import { api } from "./http.js";

describe("clusters", () => {
  it("are created, read, listed, updated and deleted", async () => {
    const { name, base } = await newCluster();
    expect((await api("GET", base)).body).toMatchObject({ name, description: "", revision: 1 });
    const updated = await api("PUT", base, { body: { description: "rack 12" } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ description: "rack 12", revision: 2 });
    expect((await api("GET", "/v1/clusters")).body.map((c: { name: string }) => c.name)).toContain(name);
    expect((await api("DELETE", base)).status).toBe(204);
    expect((await api("GET", base)).status).toBe(404);
  });

  it("are not deleted while they hold resources, unless forced", async () => {
    const { base } = await populatedCluster();
    const refused = await api("DELETE", base);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("in_use");
    expect((await api("DELETE", `${base}?force=true`)).status).toBe(204);
    expect((await api("GET", `${base}/nodes/lb1`)).status).toBe(404);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM real_servers WHERE cluster = ?")
      .bind(base.split("/")[3])
      .first();
    expect(rows?.n).toBe(0);
  });
});

/** For each kind: a body to create, a change to apply with PUT, and the schema that checks responses. */
const kinds = [
  { path: "nodes", schema: NodeView, create: node("lb3", 13), change: { address: "192.168.88.33" } },
  { path: "checks", schema: Check, create: tcpCheck("api-tcp", ["lb1"]), change: { interval: 10 } },
  {
    path: "vip-groups",
    schema: VipGroup,
    create: vipGroup("VI_2", [["lb2", 100]], "192.168.88.16/24"),
    change: { preempt: false },
  },
  {
    path: "sync-groups",
    schema: SyncGroup,
    create: { name: "both", vipGroups: ["VI_1", "VI_2"] },
    change: { notify: { master: { path: "/usr/local/bin/notify", args: ["master"] } } },
  },
  {
    path: "virtual-services",
    schema: VirtualService,
    create: { ...virtualService("mail", "VI_1"), port: 25, forwarding: "nat", realServers: [] },
    change: { scheduler: "lc" },
  },
  {
    path: "virtual-services/web/real-servers",
    schema: RealServer,
    create: { name: "web2", address: "192.168.88.22", port: 80, weight: 2 },
    change: { weight: 5, check: "web-tcp" },
  },
];

describe.each(kinds)("$path", ({ path, schema, create, change }) => {
  it("is created, read, listed, replaced and deleted", async () => {
    const { base } = await populatedCluster();
    if (path === "sync-groups") {
      expect(
        (await api("POST", `${base}/vip-groups`, { body: vipGroup("VI_2", [["lb2", 100]], "192.168.88.16/24") }))
          .status,
      ).toBe(201);
    }
    const collection = `${base}/${path}`;
    const item = `${collection}/${create.name}`;

    const created = await api("POST", collection, { body: create });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(schema.parse(created.body)).toMatchObject(create);

    const again = await api("POST", collection, { body: create });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("already_exists");

    const read = await api("GET", item);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const list = await api("GET", collection);
    expect(list.body.map((i: { name: string }) => i.name)).toContain(create.name);

    const replaced = await api("PUT", item, { body: { ...create, ...change } });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(schema.parse(replaced.body)).toMatchObject(change);
    expect((await api("GET", item)).body).toMatchObject(change);

    expect((await api("DELETE", item)).status).toBe(204);
    expect((await api("GET", item)).status).toBe(404);
    expect((await api("DELETE", item)).status).toBe(404);
  });
});

describe("nodes", () => {
  it("show agent status that config writes do not touch", async () => {
    const { name, base } = await populatedCluster();
    await env.DB.prepare(
      "UPDATE nodes SET agent_public_key = ?, enrolled_at = ?, online = 1 WHERE cluster = ? AND name = ?",
    )
      .bind("MCowBQYDK2VwAyEA", "2026-11-01T00:00:00.000Z", name, "lb1")
      .run();
    const replaced = await api("PUT", `${base}/nodes/lb1`, { body: { address: "192.168.88.111" } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.status).toMatchObject({ enrolled: true, online: true, agentPublicKey: "MCowBQYDK2VwAyEA" });
    const fresh = await api("GET", `${base}/nodes/lb2`);
    expect(fresh.body.status).toEqual({
      enrolled: false,
      enrolledAt: null,
      agentPublicKey: null,
      online: false,
      lastSeenAt: null,
      clockOffsetMs: null,
      hostActions: "apply",
    });
  });

  it("cannot be deleted while a VIP group or check names them", async () => {
    const { base } = await populatedCluster();
    const refused = await api("DELETE", `${base}/nodes/lb2`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("in_use");
    expect(refused.body.error.message).toContain("vipGroups[0].members[1].node");
    expect((await api("GET", `${base}/nodes/lb2`)).status).toBe(200);
  });

  it("take their name from the path when a PUT body leaves it out, and create when missing", async () => {
    const { base } = await newCluster();
    const created = await api("PUT", `${base}/nodes/lb7`, { body: { address: "10.1.1.7" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "lb7", address: "10.1.1.7" });
  });
});

describe("webhooks", () => {
  it("are created with a secret shown once, read, replaced and deleted", async () => {
    const created = await api("POST", "/v1/webhooks", {
      body: {
        name: "ops-slack",
        url: "https://hooks.example.test/T1",
        format: "slack",
        filter: { minSeverity: "warning" },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    const read = await api("GET", "/v1/webhooks/ops-slack");
    expect(read.body.secret).toBeUndefined();
    expect(read.body.secretPrefixes[0]).toBe(`${created.body.secret.slice(0, 12)}…`);
    expect(read.body.filter).toEqual({ events: [], clusters: [], targets: [], minSeverity: "warning" });
    const replaced = await api("PUT", "/v1/webhooks/ops-slack", {
      body: { url: "https://hooks.example.test/T2", format: "slack", holdDown: 30 },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      url: "https://hooks.example.test/T2",
      holdDown: 30,
      secretPrefixes: read.body.secretPrefixes,
    });
    expect((await api("GET", "/v1/webhooks")).body.map((w: { name: string }) => w.name)).toContain("ops-slack");
    expect((await api("DELETE", "/v1/webhooks/ops-slack")).status).toBe(204);
    expect((await api("GET", "/v1/webhooks/ops-slack")).status).toBe(404);
  });
});

describe("API tokens", () => {
  it("are made, listed without their secret, used, and revoked", async () => {
    const made = await api("POST", "/v1/tokens", { body: { name: "grafana", role: "read" } });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^vgl_/);
    const stored = await env.DB.prepare("SELECT hash FROM api_tokens WHERE id = ?")
      .bind(made.body.id)
      .first<{ hash: string }>();
    expect(stored?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.hash).not.toContain(made.body.token);
    const list = await api("GET", "/v1/tokens");
    const listed = list.body.find((t: { id: string }) => t.id === made.body.id);
    expect(listed).toMatchObject({ name: "grafana", role: "read", prefix: made.body.token.slice(0, 10) });
    expect(JSON.stringify(list.body)).not.toContain(made.body.token);
    expect((await api("GET", "/v1/me", { token: made.body.token })).body).toMatchObject({
      name: "grafana",
      role: "read",
    });
    expect((await api("DELETE", `/v1/tokens/${made.body.id}`)).status).toBe(204);
    expect((await api("GET", "/v1/clusters", { token: made.body.token })).status).toBe(401);
  });
});

describe("enrollment tokens", () => {
  it("are made for an existing node, listed and revoked", async () => {
    const { base } = await populatedCluster();
    const made = await api("POST", `${base}/enrollment-tokens`, { body: { node: "lb1", ttl: 600 } });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^vge_/);
    const expires = Date.parse(made.body.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(590_000);
    expect(expires).toBeLessThanOrEqual(600_000);
    const list = await api("GET", `${base}/enrollment-tokens`);
    expect(list.body).toEqual([expect.objectContaining({ id: made.body.id, node: "lb1", usedAt: null })]);
    expect(JSON.stringify(list.body)).not.toContain(made.body.token);
    expect((await api("DELETE", `${base}/enrollment-tokens/${made.body.id}`)).status).toBe(204);
    expect((await api("GET", `${base}/enrollment-tokens`)).body).toEqual([]);
  });
});

describe("events", () => {
  it("are listed newest first, filtered, and read one by one", async () => {
    const { name, base } = await newCluster();
    const insert = env.DB.prepare(
      "INSERT INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    await env.DB.batch([
      insert.bind("e1", name, "target.down", "critical", "web1", '{"votes":3}', "2026-11-01T10:00:00.000Z"),
      insert.bind("e2", name, "target.up", "info", "web1", "{}", "2026-11-01T10:05:00.000Z"),
      insert.bind(
        "e3",
        name,
        "vip.moved",
        "warning",
        "VI_1",
        '{"from":"lb1","to":"lb2","epoch":4}',
        "2026-11-01T10:06:00.000Z",
      ),
    ]);
    expect((await api("GET", `${base}/events`)).body.map((e: { id: string }) => e.id)).toEqual(["e3", "e2", "e1"]);
    expect((await api("GET", `${base}/events?subject=web1&limit=1`)).body.map((e: { id: string }) => e.id)).toEqual([
      "e2",
    ]);
    expect((await api("GET", `${base}/events?type=target.down`)).body.map((e: { id: string }) => e.id)).toEqual(["e1"]);
    expect(
      (await api("GET", `${base}/events?before=2026-11-01T10:05:00Z`)).body.map((e: { id: string }) => e.id),
    ).toEqual(["e1"]);
    const after = await api("GET", `${base}/events?target=web1&after=2026-11-01T10:05:00Z`);
    expect(after.body.map((e: { id: string }) => e.id)).toEqual(["e2"]);
    expect((await api("GET", `${base}/events/e3`)).body).toMatchObject({
      type: "vip.moved",
      details: { from: "lb1", to: "lb2", epoch: 4 },
    });
    expect((await api("GET", `${base}/events/nope`)).status).toBe(404);
  });
});
