/// <reference types="vite/client" />
/**
 * Every keepalived corpus case's document (test/cli/keepalived/<case>/expected.json, which
 * the importer's output must equal) passes the API's own dry run in workerd: the schema, the
 * cluster's references and the VIP checks the control plane applies, with nothing stored.
 */
import { describe, expect, it } from "vitest";
import { api } from "./http.js";

const documents = import.meta.glob<{ default: { cluster: { name: string } } }>("../cli/keepalived/*/expected.json", {
  eager: true,
});

describe("imported keepalived documents", () => {
  it("finds the corpus", () => {
    expect(Object.keys(documents).length).toBeGreaterThanOrEqual(6);
  });

  it.each(Object.entries(documents))("%s passes the API's dry run", async (_file, { default: doc }) => {
    const name = `ka-${doc.cluster.name}`;
    expect((await api("POST", "/v1/clusters", { body: { name } })).status).toBe(201);
    const reply = await api("PUT", `/v1/clusters/${name}/config?dry_run=true`, {
      body: { ...doc, cluster: { ...doc.cluster, name } },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ cluster: name, dryRun: true });
    expect(reply.body.changes.length).toBeGreaterThan(0);
    expect((await api("GET", `/v1/clusters/${name}/config`)).body.virtualServices).toEqual([]);
  });
});
