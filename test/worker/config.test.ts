import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import exampleDocument from "../../examples/classic-lvs.json";
import { ClusterDocument } from "../../src/core/cluster.js";
import { api } from "./http.js";

const subnets = new Map<string, number>();

/**
 * The example under another cluster name, so each test has its own, with directors of its
 * own: clusters whose directors are the same node may not share a VIP.
 */
function example(name: string): any {
  const doc = structuredClone(exampleDocument);
  doc.cluster.name = name;
  if (!subnets.has(name)) subnets.set(name, subnets.size + 1);
  for (const node of doc.nodes) node.address = node.address.replace(/^192\.168\.88\./, `10.9.${subnets.get(name)}.`);
  return doc;
}

const summary = (changes: { op: string; kind: string; name: string }[]) =>
  changes.map((c) => `${c.op} ${c.kind} ${c.name}`);

describe("PUT /v1/clusters/{id}/config", () => {
  it("creates a cluster from a document and returns the diff", async () => {
    const reply = await api("PUT", "/v1/clusters/cfg-create/config", { body: example("cfg-create") });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ cluster: "cfg-create", dryRun: false, revision: 1 });
    expect(summary(reply.body.changes)).toEqual([
      "create cluster cfg-create",
      "create node lb1",
      "create node lb2",
      "create check web-tcp",
      "create vipGroup VI_1",
      "create virtualService web",
      "create realServer web/web1",
      "create realServer web/web2",
    ]);
    const stored = await api("GET", "/v1/clusters/cfg-create/config");
    expect(stored.body).toEqual(ClusterDocument.parse(example("cfg-create")));
    expect((await api("GET", "/v1/clusters/cfg-create/virtual-services/web/real-servers/web2")).body.weight).toBe(2);
  });

  it("reports no changes and keeps the revision when the document is the same", async () => {
    await api("PUT", "/v1/clusters/cfg-same/config", { body: example("cfg-same") });
    const again = await api("PUT", "/v1/clusters/cfg-same/config", { body: example("cfg-same") });
    expect(again.body).toMatchObject({ revision: 1, changes: [] });
  });

  it("updates, creates and deletes what the new document says", async () => {
    await api("PUT", "/v1/clusters/cfg-edit/config", { body: example("cfg-edit") });
    const doc = example("cfg-edit");
    doc.vipGroups[0].members[1].priority = 90;
    doc.virtualServices[0].realServers = [doc.virtualServices[0].realServers[0]];
    doc.nodes.push({ name: "lb3", address: "192.168.88.13" });
    const reply = await api("PUT", "/v1/clusters/cfg-edit/config", { body: doc });
    expect(reply.body.revision).toBe(2);
    expect(reply.body.changes).toEqual([
      { op: "create", kind: "node", name: "lb3" },
      { op: "update", kind: "vipGroup", name: "VI_1", fields: ["members"] },
      { op: "delete", kind: "realServer", name: "web/web2" },
    ]);
    const stored = await api("GET", "/v1/clusters/cfg-edit/config");
    expect(stored.body.vipGroups[0].members[1].priority).toBe(90);
    expect(stored.body.virtualServices[0].realServers.map((r: { name: string }) => r.name)).toEqual(["web1"]);
    const revisions = await api("GET", "/v1/clusters/cfg-edit/revisions");
    expect(revisions.body.map((r: { revision: number; actor: string }) => [r.revision, r.actor])).toEqual([
      [2, "bootstrap"],
      [1, "bootstrap"],
    ]);
    expect(revisions.body[0].changes).toEqual(reply.body.changes);
    const older = await api("GET", "/v1/clusters/cfg-edit/revisions?before=2");
    expect(older.body.map((r: { revision: number }) => r.revision)).toEqual([1]);
  });

  it("stores a VIP group's connection sync settings, and clears them when the document drops them", async () => {
    const doc = example("cfg-sync");
    doc.vipGroups[0].lvsSync = { interface: "eth1", syncId: 9 };
    expect((await api("PUT", "/v1/clusters/cfg-sync/config", { body: doc })).status).toBe(200);
    const stored = await api("GET", "/v1/clusters/cfg-sync/config");
    expect(stored.body.vipGroups[0].lvsSync).toEqual({ interface: "eth1", syncId: 9 });
    expect(stored.body).toEqual(ClusterDocument.parse(doc));
    delete doc.vipGroups[0].lvsSync;
    const dropped = await api("PUT", "/v1/clusters/cfg-sync/config", { body: doc });
    expect(dropped.body.changes).toEqual([{ op: "update", kind: "vipGroup", name: "VI_1", fields: ["lvsSync"] }]);
    expect((await api("GET", "/v1/clusters/cfg-sync/config")).body.vipGroups[0]).not.toHaveProperty("lvsSync");
  });

  it("changes nothing on a dry run", async () => {
    await api("PUT", "/v1/clusters/cfg-dry/config", { body: example("cfg-dry") });
    const before = await api("GET", "/v1/clusters/cfg-dry/config");
    const doc = example("cfg-dry");
    doc.virtualServices[0].scheduler = "lc";
    const reply = await api("PUT", "/v1/clusters/cfg-dry/config?dry_run=true", { body: doc });
    expect(reply.body).toMatchObject({ dryRun: true, revision: 1 });
    expect(reply.body.changes).toEqual([{ op: "update", kind: "virtualService", name: "web", fields: ["scheduler"] }]);
    expect((await api("GET", "/v1/clusters/cfg-dry/config")).body).toEqual(before.body);
    expect((await api("GET", "/v1/clusters/cfg-dry")).body.revision).toBe(1);
  });

  it("does not create a cluster on a dry run", async () => {
    const reply = await api("PUT", "/v1/clusters/cfg-dry-new/config?dry_run=true", { body: example("cfg-dry-new") });
    expect(reply.body.changes[0]).toEqual({ op: "create", kind: "cluster", name: "cfg-dry-new" });
    expect((await api("GET", "/v1/clusters/cfg-dry-new")).status).toBe(404);
  });

  it.each<[string, (doc: any) => void, string]>([
    [
      "one bad field deep inside",
      (d) => (d.virtualServices[0].realServers[1].weight = -5),
      "virtualServices[0].realServers[1].weight",
    ],
    ["one dangling reference", (d) => (d.vipGroups[0].members[0].node = "lb7"), "vipGroups[0].members[0].node"],
    [
      "a good change next to a bad one",
      (d) => {
        d.nodes[0].address = "192.168.88.111";
        d.checks[0].rise = 0;
      },
      "checks[0].rise",
    ],
  ])("is all-or-nothing: %s leaves the stored config byte-identical", async (_name, edit, field) => {
    const name = `cfg-atomic-${field.replace(/[^a-z0-9]/gi, "").toLowerCase()}`;
    await api("PUT", `/v1/clusters/${name}/config`, { body: example(name) });
    const raw = async () => (await api("GET", `/v1/clusters/${name}/config`)).body;
    const tables = async () =>
      JSON.stringify(
        await Promise.all(
          ["nodes", "checks", "vip_groups", "virtual_services", "real_servers", "clusters"].map(
            async (table) =>
              (
                await env.DB.prepare(`SELECT * FROM ${table} WHERE ${table === "clusters" ? "name" : "cluster"} = ?`)
                  .bind(name)
                  .all()
              ).results,
          ),
        ),
      );
    const before = JSON.stringify(await raw());
    const rowsBefore = await tables();
    const doc = example(name);
    edit(doc);
    const reply = await api("PUT", `/v1/clusters/${name}/config`, { body: doc });
    expect(reply.status).toBe(400);
    expect(reply.body.error.issues[0].field).toBe(field);
    expect(JSON.stringify(await raw())).toBe(before);
    expect(await tables()).toBe(rowsBefore);
  });

  it("rolls back the whole batch when a write fails midway", async () => {
    await api("PUT", "/v1/clusters/cfg-race/config", { body: example("cfg-race") });
    // Another writer takes revision 2 first: our batch must fail on it and write nothing.
    await env.DB.prepare(
      "INSERT INTO config_revisions (cluster, revision, actor, changes) VALUES ('cfg-race', 2, 'other', '[]')",
    ).run();
    const before = (await api("GET", "/v1/clusters/cfg-race/config")).body;
    const doc = example("cfg-race");
    doc.nodes.push({ name: "lb3", address: "192.168.88.13" });
    const reply = await api("PUT", "/v1/clusters/cfg-race/config", { body: doc });
    expect(reply.status).toBe(409);
    expect(reply.body.error.code).toBe("conflict");
    expect((await api("GET", "/v1/clusters/cfg-race/config")).body).toEqual(before);
  });
});
