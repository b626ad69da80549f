import { describe, expect, it } from "vitest";
import { newCluster } from "./fixtures.js";
import { api } from "./http.js";

async function readToken(): Promise<string> {
  const made = await api("POST", "/v1/tokens", {
    body: { name: `reader-${crypto.randomUUID().slice(0, 8)}`, role: "read" },
  });
  expect(made.status).toBe(201);
  return made.body.token;
}

describe("authentication", () => {
  it("refuses a request without a token, and says how to send one", async () => {
    const reply = await api("GET", "/v1/clusters", { token: null });
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe("unauthorized");
    expect(reply.headers.get("www-authenticate")).toBe('Bearer realm="vigil"');
  });

  it("refuses a wrong token", async () => {
    const reply = await api("GET", "/v1/clusters", { token: "vgl_not-a-real-token" });
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe("unauthorized");
  });

  it("refuses a malformed Authorization header", async () => {
    const reply = await api("GET", "/v1/clusters", {
      token: null,
      headers: { authorization: "Basic YWRtaW46YWRtaW4=" },
    });
    expect(reply.status).toBe(401);
  });

  it("accepts the bootstrap admin token", async () => {
    const reply = await api("GET", "/v1/me");
    expect(reply.body).toEqual({ id: "bootstrap", name: "bootstrap", role: "admin" });
  });

  it("lets a read token read but not write", async () => {
    const { base } = await newCluster();
    const token = await readToken();
    expect((await api("GET", base, { token })).status).toBe(200);
    expect((await api("GET", `${base}/config`, { token })).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", `${base}/nodes`, { name: "lb1", address: "10.0.0.1" }],
      ["PUT", `${base}/config`, { cluster: { name: base.split("/")[3] } }],
      ["DELETE", base, undefined],
      ["POST", "/v1/tokens", { name: "escalate", role: "admin" }],
      ["GET", "/v1/tokens", undefined],
    ] as const) {
      const reply = await api(method, path, { token, body });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(reply.body.error.code).toBe("forbidden");
    }
    expect((await api("GET", base)).status).toBe(200);
  });

  it("shows a read token only the origin of a webhook URL, which for a chat service is the secret", async () => {
    const url = "https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXXXXXX";
    const name = `chat-${crypto.randomUUID().slice(0, 8)}`;
    expect((await api("POST", "/v1/webhooks", { body: { name, url, format: "slack" } })).status).toBe(201);
    const token = await readToken();
    const listed = (await api("GET", "/v1/webhooks", { token })).body.find((w: { name: string }) => w.name === name);
    expect(listed.url).toBe("https://hooks.slack.example/");
    expect((await api("GET", `/v1/webhooks/${name}`, { token })).body.url).toBe("https://hooks.slack.example/");
    expect(JSON.stringify((await api("GET", "/v1/webhooks", { token })).body)).not.toContain("XXXXXXXX");
    expect((await api("GET", `/v1/webhooks/${name}`)).body.url).toBe(url);
  });

  it("lets an admin token made through the API write", async () => {
    const made = await api("POST", "/v1/tokens", { body: { name: "ci-admin", role: "admin" } });
    const reply = await api("POST", "/v1/clusters", { token: made.body.token, body: { name: "by-ci-admin" } });
    expect(reply.status).toBe(201);
  });

  it("leaves the health check and the OpenAPI document public", async () => {
    expect((await api("GET", "/v1/health", { token: null })).status).toBe(200);
    expect((await api("GET", "/v1/openapi.json", { token: null })).status).toBe(200);
  });

  describe("failed authentication is rate-limited per client address", () => {
    const from = (address: string) => ({ "cf-connecting-ip": address });

    it.each([
      ["a bad API token", (ip: string) => api("GET", "/v1/clusters", { token: "vgl_wrong", headers: from(ip) })],
      [
        "a bad enrollment token",
        (ip: string) =>
          api("POST", "/v1/enroll", {
            token: null,
            headers: from(ip),
            body: { token: "vge_wrong-token", node: "lb1", publicKey: "B".repeat(43) },
          }),
      ],
      [
        "an agent connection for a node that does not exist",
        (ip: string) =>
          api("GET", "/v1/clusters/nowhere/agents/lb1/connect", {
            token: null,
            headers: { ...from(ip), upgrade: "websocket" },
          }),
      ],
    ])("%s: 429 with Retry-After past the limit, while other addresses go on", async (_name, attempt) => {
      const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
      const statuses: number[] = [];
      for (let i = 0; i < 32; i++) statuses.push((await attempt(ip)).status);
      expect(statuses.slice(0, 30).every((s) => s === 401 || s === 404)).toBe(true);
      const refused = await attempt(ip);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("60");
      expect(refused.body.error.code).toBe("too_many_requests");
      // Even the right token is refused from that address for now; another address is not affected.
      expect((await api("GET", "/v1/clusters", { headers: from(ip) })).status).toBe(429);
      expect((await api("GET", "/v1/clusters", { headers: from("203.0.113.77") })).status).toBe(200);
    });
  });
});
