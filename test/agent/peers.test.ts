/**
 * The director-to-director link over real UDP on loopback: a signed lease message from a peer
 * is delivered, and everything else (not a peer frame, a stranger's key, a frame for another
 * node or cluster, a replay) is refused with its reason in the log and never delivered.
 */
import { createSocket } from "node:dgram";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PeerLink } from "../../host-agent/src/peers.js";
import { newKeyPair } from "../../src/core/envelope.js";
import { type PeerFrame, type PeerMessage, sealPeer } from "../../src/core/peer.js";

const state: PeerMessage = { type: "state", unit: "VI_1", eligible: true, priority: 100, holding: true, epoch: 3 };
const links: PeerLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) await l.stop();
});

async function pair() {
  const keys = { lb1: await newKeyPair(), lb2: await newKeyPair(), stranger: await newKeyPair() };
  const got: { from: string; message: PeerMessage }[] = [];
  const logs: string[] = [];
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const make = (node: "lb1" | "lb2", at: number) =>
    new PeerLink({
      cluster: "lab",
      node,
      port: at,
      privateKey: keys[node].privateKey,
      log: (line) => logs.push(`${node}: ${line}`),
      deliver: (from, message) => got.push({ from, message }),
    });
  const lb1 = make("lb1", port);
  const lb2 = make("lb2", port + 1);
  links.push(lb1, lb2);
  await lb1.start();
  await lb2.start();
  await lb1.setPeers([{ node: "lb2", address: "127.0.0.1", port: port + 1, publicKey: keys.lb2.publicKey }]);
  await lb2.setPeers([{ node: "lb1", address: "127.0.0.1", port, publicKey: keys.lb1.publicKey }]);
  return { keys, got, logs, lb1, lb2, lb2Port: port + 1 };
}

/** Sends raw bytes to a port, as anyone on the LAN could. */
async function raw(port: number, text: string): Promise<void> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) =>
    socket.send(text, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
  );
  socket.close();
}

/** Datagrams on loopback arrive in milliseconds; the ceiling is for a loaded machine. */
const WAIT = { timeout: 10_000, interval: 10 };
const frame = (over: Partial<PeerFrame> = {}): PeerFrame => ({
  v: 1,
  cluster: "lab",
  from: "lb1",
  to: "lb2",
  seq: Date.now() * 1000 + 1_000_000,
  sentAt: Date.now(),
  message: state,
  ...over,
});

describe("the peer link", () => {
  it("delivers a signed message from a peer", async () => {
    const p = await pair();
    p.lb1.send("lb2", state);
    await vi.waitFor(() => expect(p.got).toEqual([{ from: "lb1", message: state }]), WAIT);
  });

  it("delivers a burst in the order it was sent, none taken for a replay", async () => {
    const p = await pair();
    const burst = Array.from({ length: 50 }, (_, i) => ({ ...state, epoch: i + 1 }));
    for (const m of burst) p.lb1.send("lb2", m);
    await vi.waitFor(() => expect(p.got).toHaveLength(50), WAIT);
    expect(p.got.map((g) => g.message)).toEqual(burst);
    expect(p.logs.filter((l) => l.includes("refused"))).toEqual([]);
  });

  it("stops only after what it sent has left: a stopping holder's last word arrives", async () => {
    const p = await pair();
    const release: PeerMessage = { type: "release", unit: "VI_1", epoch: 3 };
    p.lb1.send("lb2", release);
    await p.lb1.stop();
    await vi.waitFor(() => expect(p.got).toEqual([{ from: "lb1", message: release }]), WAIT);
  });

  it("refuses what is not a peer lease message, and says why", async () => {
    const p = await pair();
    await raw(p.lb2Port, "GET / HTTP/1.0\r\n\r\n");
    await raw(p.lb2Port, await sealPeer(frame(), p.keys.stranger.privateKey));
    await raw(p.lb2Port, await sealPeer(frame({ from: "lb9" }), p.keys.stranger.privateKey));
    await raw(p.lb2Port, await sealPeer(frame({ to: "lb3" }), p.keys.lb1.privateKey));
    await raw(p.lb2Port, await sealPeer(frame({ cluster: "other" }), p.keys.lb1.privateKey));
    await raw(p.lb2Port, await sealPeer(frame({ sentAt: Date.now() - 120_000 }), p.keys.lb1.privateKey));
    // A good frame last: once it is in, everything before it was handled, and none got through.
    const good = frame({ seq: Date.now() * 1000 + 2_000_000 });
    await raw(p.lb2Port, await sealPeer(good, p.keys.lb1.privateKey));
    await vi.waitFor(() => expect(p.got).toHaveLength(1), WAIT);
    expect(p.got).toEqual([{ from: "lb1", message: good.message }]);
    const text = p.logs.join("\n");
    expect(text).toMatch(/lb2: peer link: refused a datagram from 127\.0\.0\.1:\d+: not a peer frame/);
    expect(text).toMatch(/bad signature from lb1/);
    expect(text).toMatch(/lb9 is not a peer of this node/);
    expect(text).toMatch(/frame from lb1 is for lb3/);
    expect(text).toMatch(/frame from lb1 is for cluster other/);
    expect(text).toMatch(/frame from lb1 sent 1\d{5} ms ago/);
  });

  it("refuses a replayed datagram", async () => {
    const p = await pair();
    const signed = await sealPeer(frame(), p.keys.lb1.privateKey);
    await raw(p.lb2Port, signed);
    await vi.waitFor(() => expect(p.got).toHaveLength(1), WAIT);
    await raw(p.lb2Port, signed);
    await vi.waitFor(() => expect(p.logs.join("\n")).toMatch(/replayed or reordered frame from lb1/), WAIT);
    expect(p.got).toHaveLength(1);
  });

  it("says so when its port is taken", async () => {
    const p = await pair();
    const again = new PeerLink({
      cluster: "lab",
      node: "lb2",
      port: p.lb2Port,
      privateKey: p.keys.lb2.privateKey,
      log: () => undefined,
      deliver: () => undefined,
    });
    await expect(again.start()).rejects.toThrow(`cannot listen for peers on UDP port ${p.lb2Port}`);
  });
});
