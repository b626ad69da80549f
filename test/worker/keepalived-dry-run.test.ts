/// <reference types="vite/client" />
/**
 * Every keepalived corpus case's document (test/cli/keepalived/<case>/expected.json, which
 * the importer's output must equal) passes the API's own dry run in workerd: the schema, the
 * cluster's references and the VIP checks the control plane applies, with nothing stored. So
 * does each email subscription (expected-email.json), but for a relay the importer warned the
 * control plane cannot reach, which the API refuses as a deployed control plane does.
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

const emails = import.meta.glob<{ default: { name: string } }>("../cli/keepalived/*/expected-email.json", {
  eager: true,
});

/** What the API says to each case's email subscription: null when it passes. */
const EXPECTED_REFUSAL: Record<string, string | null> = {
  "mail-alerts": null,
  "lvs-dr-pair": "127.0.0.1 is a loopback address",
};

describe("imported keepalived mail settings", () => {
  it("finds a case for each expectation", () => {
    const found = Object.keys(emails).map((file) => file.split("/").at(-2));
    expect(found.sort()).toEqual(Object.keys(EXPECTED_REFUSAL).sort());
  });

  it.each(Object.entries(emails))("%s goes through the API's dry run", async (file, { default: subscription }) => {
    const refusal = EXPECTED_REFUSAL[file.split("/").at(-2) ?? ""];
    const reply = await api("POST", "/v1/webhooks?dry_run=true", { body: subscription });
    if (refusal) {
      expect(reply.status).toBe(400);
      expect(reply.body.error.issues[0]).toMatchObject({ field: "url" });
      expect(reply.body.error.issues[0].message).toContain(refusal);
    } else {
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body).toMatchObject({
        dryRun: true,
        exists: false,
        webhook: { name: subscription.name, format: "email" },
      });
    }
    expect((await api("GET", `/v1/webhooks/${subscription.name}`)).status).toBe(404);
  });
});
