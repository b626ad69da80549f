/**
 * A cluster with two directors, lb1 (priority 100) and lb2 (50), sharing VIP group VI_1 with a
 * 1 s lease, both enrolled and connected as scripted agents that have had their work.
 */
import { expect } from "vitest";
import { newKeyPair } from "../../src/core/envelope.js";
import { newCluster, node } from "./fixtures.js";
import { api } from "./http.js";
import { ScriptedAgent } from "./scripted-agent.js";

export async function directorPair(
  group: Record<string, unknown> = {},
  prefix = "lease",
): Promise<{ cluster: string; lb1: ScriptedAgent; lb2: ScriptedAgent }> {
  const { name, base } = await newCluster(prefix);
  const agents: ScriptedAgent[] = [];
  for (const [n, last] of [
    ["lb1", 11],
    ["lb2", 12],
  ] as const) {
    await api("POST", `${base}/nodes`, { body: node(n, last) });
  }
  const created = await api("POST", `${base}/vip-groups`, {
    body: {
      name: "VI_1",
      vips: [{ cidr: "192.168.88.15/24", interface: "eth0" }],
      members: [
        { node: "lb1", priority: 100 },
        { node: "lb2", priority: 50 },
      ],
      leaseTtl: 1,
      ...group,
    },
  });
  expect(created.status).toBe(201);
  for (const n of ["lb1", "lb2"]) {
    const token = (await api("POST", `${base}/enrollment-tokens`, { body: { node: n } })).body.token;
    const keys = await newKeyPair();
    await api("POST", "/v1/enroll", { body: { token, node: n, publicKey: keys.publicKey }, token: null });
    const agent = new ScriptedAgent(name, n, keys);
    await agent.connect();
    agents.push(agent);
  }
  const [lb1, lb2] = agents as [ScriptedAgent, ScriptedAgent];
  await lb1.next("agent.work");
  await lb2.next("agent.work");
  return { cluster: name, lb1, lb2 };
}
