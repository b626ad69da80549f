/**
 * The agent's side of the channel against a WebSocket server on loopback that plays the
 * coordinator badly: frames that are not JSON or not known do not end the agent, the backoff
 * is reset only when the coordinator says it accepted the hello (a refused agent keeps backing
 * off), and the accepted frame's time gives the clock offset.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type Accepted, Channel } from "../../host-agent/src/channel.js";
import { parseConfig } from "../../host-agent/src/config.js";
import { Inbox } from "../../host-agent/src/inbox.js";
import { StateStore } from "../../host-agent/src/state.js";
import { toBase64url } from "../../src/core/base64url.js";
import { keyPairFromSeed } from "../../src/core/envelope.js";

let dir = "";
let server: WebSocketServer;
let channel: Channel | null = null;
const log: string[] = [];

async function startChannel(onAccepted?: (a: Accepted) => void): Promise<Channel> {
  const state = new StateStore(path.join(dir, "state"));
  const agent = await keyPairFromSeed(new Uint8Array(32).fill(9));
  state.saveIdentity({
    cluster: "lab",
    node: "lb1",
    agentKid: "agent:lb1",
    seed: toBase64url(new Uint8Array(32).fill(9)),
    publicKey: agent.publicKey,
    coordinatorKeys: {},
    enrolledAt: new Date().toISOString(),
  });
  const port = (server.address() as AddressInfo).port;
  const config = parseConfig(
    "agent.json",
    JSON.stringify({ url: `http://127.0.0.1:${port}`, cluster: "lab", node: "lb1" }),
  );
  channel = new Channel(config, await Inbox.load(state), (line) => log.push(line), onAccepted);
  channel.start();
  return channel;
}

/** Resolves with the next frame a socket receives. */
const nextFrame = (ws: WebSocket) => new Promise<string>((resolve) => ws.once("message", (d) => resolve(d.toString())));
const challenge = (ws: WebSocket) => ws.send(JSON.stringify({ t: "challenge", nonce: "n".repeat(32) }));

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "vigil-channel-"));
  log.length = 0;
  server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
});

afterEach(async () => {
  await channel?.stop();
  channel = null;
  for (const ws of server.clients) ws.terminate();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("the agent's channel", () => {
  it("survives frames it cannot read, and answers the challenge after them", async () => {
    const connected = new Promise<WebSocket>((resolve) => server.once("connection", resolve));
    await startChannel();
    const ws = await connected;
    for (const bad of ["{not json", '{"t":"challenge"}', '{"t":"welcome","x":1}', "v1.garbage", "\u0000\u0001"])
      ws.send(bad);
    const hello = nextFrame(ws);
    challenge(ws);
    expect((await hello).startsWith("v1.agent:lb1.")).toBe(true);
    expect(log.filter((l) => l.startsWith("ignored a frame")).length).toBeGreaterThanOrEqual(3);
    expect(channel?.connected()).toBe(true);
  });

  it("asks for no compression: its frames are small and signed, and deflate costs both ends CPU", async () => {
    const upgraded = new Promise<IncomingMessage>((resolve) => server.once("connection", (_ws, req) => resolve(req)));
    await startChannel();
    const request = await upgraded;
    expect(request.headers.upgrade).toBe("websocket");
    expect(request.headers["sec-websocket-extensions"]).toBeUndefined();
  });

  it("keeps backing off while the coordinator refuses the hello, and takes the clock offset when it accepts", async () => {
    const times: number[] = [];
    let refuse = 3;
    server.on("connection", (ws) => {
      times.push(Date.now());
      ws.once("message", () => {
        if (refuse-- > 0) ws.close(4401, "UNKNOWN_KEY: this node is not enrolled");
        else ws.send(JSON.stringify({ t: "accepted", at: Date.now() - 20_000 }));
      });
      challenge(ws);
    });
    const accepted = new Promise<Accepted>((resolve) => void startChannel(resolve));
    const { clockOffsetMs } = await accepted;
    expect(clockOffsetMs).toBeGreaterThanOrEqual(20_000);
    expect(clockOffsetMs).toBeLessThan(21_000);
    // Backoff after 1, 2 and 3 refusals: 250-500 ms, then 500-1000, then 1000-2000.
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toHaveLength(3);
    expect(gaps[0]).toBeLessThan(700);
    expect(gaps[2]).toBeGreaterThanOrEqual(1000);
    expect(log.join("\n")).toContain("this host's clock is 20 s off the control plane's");
  }, 15_000);
});
