/**
 * A deployed control plane (this project runs without VIGIL_ALLOW_PRIVATE_TARGETS) reaches
 * public addresses only: webhooks to loopback, private, link-local or local names are refused
 * at the API, a stored one is never connected to, and edge regions may not probe a private
 * real server.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hostRefusal } from "../../src/outbound-policy.js";
import { newDeliveryId } from "../../src/storage/deliveries.js";
import { deliver } from "../../src/webhooks/deliver.js";
import { newCluster, node, vipGroup, virtualService } from "./fixtures.js";
import { api } from "./http.js";

describe("where a deployed control plane sends requests", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1 is a loopback address"],
    ["[::1]", "::1 is a loopback address"],
    ["10.0.0.9", "10.0.0.9 is a private address"],
    ["192.168.1.1", "192.168.1.1 is a private address"],
    ["169.254.169.254", "169.254.169.254 is a link-local address (cloud metadata services live there)"],
    ["[::ffff:10.0.0.9]", "10.0.0.9 is a private address"],
    ["[fd00::1]", "fd00::1 is a private (unique local) address"],
    ["100.64.1.1", "100.64.1.1 is a carrier-grade NAT address"],
    ["0.0.0.0", "0.0.0.0 is the unspecified address"],
    ["localhost", "localhost is a name of the local network"],
    ["vigil.localhost", "vigil.localhost is a name of the local network"],
    ["metadata.google.internal", "metadata.google.internal is a name of the local network"],
    ["hooks.slack.com", null],
    ["198.51.100.7", null],
    ["[2606:4700::1]", null],
  ])("%s", (host, refusal) => {
    expect(hostRefusal(host)).toBe(refusal);
  });

  it.each([
    ["http://localhost:8787/hook", "localhost is a name of the local network"],
    ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"],
    ["http://2130706433/hook", "127.0.0.1 is a loopback address"],
    ["http://[::ffff:10.0.0.9]/hook", "10.0.0.9 is a private address"],
  ])("refuses a webhook to %s with a 400 naming the url", async (url, why) => {
    const reply = await api("POST", "/v1/webhooks", { body: { name: `w-${crypto.randomUUID().slice(0, 8)}`, url } });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe("invalid_field");
    expect(reply.body.error.message).toContain(`url: ${why}`);
  });

  it("never connects to a stored webhook at a private address: the attempt fails before any request", async () => {
    const webhookId = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO webhooks (id, name, url, format, filter, secrets, enabled, hold_down, max_per_hour, consecutive_failures) VALUES (?, ?, 'http://169.254.169.254/latest/meta-data/', 'standard', '{}', '[\"whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"]', 1, 0, 0, 0)",
    )
      .bind(webhookId, `old-${webhookId.slice(0, 8)}`)
      .run();
    const id = newDeliveryId();
    const event = {
      id: "e1",
      cluster: "x",
      type: "target.down",
      severity: "critical",
      subject: "s",
      details: {},
      at: new Date().toISOString(),
    };
    await env.DB.prepare(
      "INSERT INTO deliveries (id, webhook_id, event_id, event_type, subject, event, status, next_at) VALUES (?, ?, 'e1', 'target.down', 's', ?, 'pending', ?)",
    )
      .bind(id, webhookId, JSON.stringify(event), new Date().toISOString())
      .run();
    await deliver(env, id);
    const row = await env.DB.prepare("SELECT status, last_error FROM deliveries WHERE id = ?").bind(id).first();
    expect(row).toEqual({
      status: "failed",
      last_error: "not sent: 169.254.169.254 is a link-local address (cloud metadata services live there)",
    });
    // Had a connection been tried, the attempt would carry the sandbox's network error and a latency.
    const attempt = await env.DB.prepare(
      "SELECT status, latency_ms, error FROM delivery_attempts WHERE delivery_id = ?",
    )
      .bind(id)
      .first();
    expect(attempt).toMatchObject({ status: null, latency_ms: 0, error: expect.stringMatching(/^not sent: /) });
  });

  it("refuses edge regions as observers of a private real server", async () => {
    const { name, base } = await newCluster("outbound");
    const doc = {
      cluster: { name },
      nodes: [node("lb1", 11)],
      checks: [{ name: "web-http", type: "http", observers: { regions: ["weur"] } }],
      vipGroups: [vipGroup("VI_1", [["lb1", 100]])],
      virtualServices: [
        {
          ...virtualService("web", "VI_1"),
          realServers: [{ name: "web1", address: "10.0.0.21", port: 80, check: "web-http" }],
        },
      ],
    };
    const reply = await api("PUT", `${base}/config`, { body: doc });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toBe(
      "checks[0].observers.regions: web/web1: 10.0.0.21 is a private address, which edge regions cannot probe; let agents on its network observe it instead",
    );
    const web = { name: "web1", address: "198.51.100.21", port: 80, check: "web-http" };
    const fixed = { ...doc, virtualServices: [{ ...doc.virtualServices[0], realServers: [web] }] };
    expect((await api("PUT", `${base}/config`, { body: fixed })).status).toBe(200);
  });
});
