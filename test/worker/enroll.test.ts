import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newKeyPair } from "../../src/core/envelope.js";
import { Enrollment } from "../../src/core/token.js";
import { NEXT_COORDINATOR_PUBLIC_KEY } from "../shared/coordinator-keys.js";
import golden from "../shared/envelope-golden.json";
import { newCluster, node } from "./fixtures.js";
import { api } from "./http.js";

async function enrollable() {
  const cluster = await newCluster("enroll");
  expect((await api("POST", `${cluster.base}/nodes`, { body: node("lb1") })).status).toBe(201);
  const token = async (nodeName = "lb1") =>
    (await api("POST", `${cluster.base}/enrollment-tokens`, { body: { node: nodeName } })).body.token as string;
  return { ...cluster, token };
}

const enroll = (body: object) => api("POST", "/v1/enroll", { body, token: null });

describe("enrollment", () => {
  it("registers the agent's public key once, returns the coordinator keys to pin, and spends the token", async () => {
    const c = await enrollable();
    const keys = await newKeyPair();
    const token = await c.token();
    const reply = await enroll({ token, node: "lb1", publicKey: keys.publicKey });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(Enrollment.parse(reply.body)).toEqual({
      cluster: c.name,
      node: "lb1",
      agentKid: "agent:lb1",
      coordinatorKeys: [
        { kid: "coord-test", publicKey: golden.coordinatorPublicKey },
        { kid: "coord-next", publicKey: NEXT_COORDINATOR_PUBLIC_KEY },
      ],
    });
    expect((await api("GET", `${c.base}/nodes/lb1`)).body.status).toMatchObject({
      enrolled: true,
      agentPublicKey: keys.publicKey,
    });
    const again = await enroll({ token, node: "lb1", publicKey: keys.publicKey });
    expect(again.status).toBe(401);
    expect(again.body.error.message).toContain("already used");
  });

  it("needs an admin reset before a node enrolls again", async () => {
    const c = await enrollable();
    expect(
      (await enroll({ token: await c.token(), node: "lb1", publicKey: (await newKeyPair()).publicKey })).status,
    ).toBe(201);
    const second = await enroll({ token: await c.token(), node: "lb1", publicKey: (await newKeyPair()).publicKey });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain(`DELETE /v1/clusters/${c.name}/nodes/lb1/enrollment`);
    expect((await api("DELETE", `${c.base}/nodes/lb1/enrollment`, { token: null })).status).toBe(401);
    expect((await api("DELETE", `${c.base}/nodes/lb1/enrollment`)).status).toBe(204);
    expect((await api("GET", `${c.base}/nodes/lb1`)).body.status).toMatchObject({
      enrolled: false,
      agentPublicKey: null,
    });
    const fresh = await newKeyPair();
    expect((await enroll({ token: await c.token(), node: "lb1", publicKey: fresh.publicKey })).status).toBe(201);
  });

  it.each<[string, (c: Awaited<ReturnType<typeof enrollable>>) => Promise<object>, number, string]>([
    ["an unknown token", async () => ({ token: "vge_not-a-token-at-all", node: "lb1" }), 401, "unauthorized"],
    ["a token for another node", async (c) => ({ token: await c.token(), node: "lb2" }), 403, "forbidden"],
    [
      "an expired token",
      async (c) => {
        const token = await c.token();
        await env.DB.prepare("UPDATE enrollment_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE cluster = ?")
          .bind(c.name)
          .run();
        return { token, node: "lb1" };
      },
      401,
      "unauthorized",
    ],
  ])("refuses %s", async (_name, make, status, code) => {
    const c = await enrollable();
    const reply = await enroll({ ...(await make(c)), publicKey: (await newKeyPair()).publicKey });
    expect(reply.status).toBe(status);
    expect(reply.body.error.code).toBe(code);
    expect((await api("GET", `${c.base}/nodes/lb1`)).body.status.enrolled).toBe(false);
  });

  it("refuses a public key that is not 32 bytes of base64url, naming the field", async () => {
    const c = await enrollable();
    const reply = await enroll({ token: await c.token(), node: "lb1", publicKey: "c2hvcnQ" });
    expect(reply.status).toBe(400);
    expect(reply.body.error.issues[0].field).toBe("publicKey");
  });
});
