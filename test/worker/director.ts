/**
 * A cluster with one director, lb1, enrolled and connected as a scripted agent: VIP group
 * VI_1, virtual service web (web1 weight 3, web2 weight 1) on lb1's own tcp check web-tcp.
 */
import { expect } from "vitest";
import { newKeyPair } from "../../src/core/envelope.js";
import { newCluster, node } from "./fixtures.js";
import { api } from "./http.js";
import { ScriptedAgent } from "./scripted-agent.js";

export async function director(
  prefix = "be",
  edit: (doc: { checks: object[]; virtualServices: { realServers: object[] }[] }) => void = () => undefined,
): Promise<{ cluster: string; lb1: ScriptedAgent }> {
  const { name, base } = await newCluster(prefix);
  const doc = {
    cluster: { name },
    nodes: [node("lb1", 11)],
    checks: [
      { name: "web-tcp", type: "tcp", interval: 1, timeout: 0.5, rise: 1, fall: 1, observers: { agents: ["lb1"] } },
    ],
    vipGroups: [
      {
        name: "VI_1",
        vips: [{ cidr: "192.168.88.15/24", interface: "eth0" }],
        members: [{ node: "lb1", priority: 100 }],
      },
    ],
    virtualServices: [
      {
        name: "web",
        vipGroup: "VI_1",
        address: "192.168.88.15",
        port: 80,
        scheduler: "wrr",
        forwarding: "dr",
        realServers: [
          { name: "web1", address: "192.168.88.21", port: 80, weight: 3, check: "web-tcp" },
          { name: "web2", address: "192.168.88.22", port: 80, weight: 1, check: "web-tcp" },
        ],
      },
    ],
  };
  edit(doc);
  expect((await api("PUT", `${base}/config`, { body: doc })).status).toBe(200);
  const token = (await api("POST", `${base}/enrollment-tokens`, { body: { node: "lb1" } })).body.token;
  const keys = await newKeyPair();
  await api("POST", "/v1/enroll", { body: { token, node: "lb1", publicKey: keys.publicKey }, token: null });
  const lb1 = new ScriptedAgent(name, "lb1", keys);
  await lb1.connect();
  return { cluster: name, lb1 };
}
