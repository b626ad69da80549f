/**
 * The coordinator's side of the agent channel in workerd: the challenge, a hello that must be
 * signed by the enrolled key with the connection's nonce, and a silent agent taken offline.
 */
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SILENT_AFTER_MS } from "../../src/coordinator/channel.js";
import { fromBase64url } from "../../src/core/base64url.js";
import type { Command } from "../../src/core/command.js";
import { EMPTY_CURSOR, importPublicKey, type KeyPair, newKeyPair, open, seal } from "../../src/core/envelope.js";
import { NEXT_COORDINATOR_PUBLIC_KEY } from "../shared/coordinator-keys.js";
import golden from "../shared/envelope-golden.json";
import { newCluster, node } from "./fixtures.js";
import { api } from "./http.js";
import { restart } from "./restart.js";

async function enrolled(): Promise<{ cluster: string; keys: KeyPair }> {
  const { name, base } = await newCluster("chan");
  await api("POST", `${base}/nodes`, { body: node("lb1") });
  return { cluster: name, keys: await enroll(name) };
}

/** Enrolls lb1 of `cluster` with a new key. */
async function enroll(cluster: string): Promise<KeyPair> {
  const token = (await api("POST", `/v1/clusters/${cluster}/enrollment-tokens`, { body: { node: "lb1" } })).body.token;
  const keys = await newKeyPair();
  expect(
    (await api("POST", "/v1/enroll", { body: { token, node: "lb1", publicKey: keys.publicKey }, token: null })).status,
  ).toBe(201);
  return keys;
}

/** The last seq the coordinator took on lb1's connections (kept with each socket). */
const takenSeq = (cluster: string) =>
  runInDurableObject(env.COORDINATOR.getByName(cluster), async (_instance, state) =>
    Math.max(
      -1,
      ...state.getWebSockets("node:lb1").map((ws) => (ws.deserializeAttachment() as { seq?: number })?.seq ?? -1),
    ),
  );

/** The seqs of the commands among `frames` (sealed frames; the coordinator's plain words left out). */
const commandSeqs = (frames: string[]) =>
  frames
    .filter((c) => c.startsWith("v1."))
    .map((c) => JSON.parse(new TextDecoder().decode(fromBase64url(c.split(".")[2] ?? ""))).seq as number);

const connectRequest = (cluster: string, agent = "lb1") =>
  exports.default.fetch(
    new Request(`http://vigil.test/v1/clusters/${cluster}/agents/${agent}/connect`, {
      headers: { upgrade: "websocket" },
    }),
  );

/** Opens the agent WebSocket and returns it with the challenge it was sent first. */
async function connect(
  cluster: string,
): Promise<{ ws: WebSocket; challenge: { nonce: string }; closed: Promise<CloseEvent> }> {
  const response = await connectRequest(cluster);
  const ws = response.webSocket as WebSocket;
  expect(response.status).toBe(101);
  const first = new Promise<string>((resolve) =>
    ws.addEventListener("message", (e) => resolve(e.data as string), { once: true }),
  );
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve, { once: true }));
  ws.accept();
  return { ws, challenge: JSON.parse(await first), closed };
}

/** A frame from lb1, sealed with `keys`. */
const frame = (cluster: string, keys: KeyPair, seq: number, command: Command, clockAheadMs = 0) =>
  seal(
    {
      v: 1,
      kid: "agent:lb1",
      cluster,
      agent: "lb1",
      id: `lb1-${seq}`,
      seq,
      epoch: 0,
      issuedAt: Date.now() + clockAheadMs,
      notAfter: Date.now() + clockAheadMs + 60_000,
      command,
    },
    keys.privateKey,
  );

const hello = (cluster: string, keys: KeyPair, nonce: string, seq = 1, clockAheadMs = 0, pinned?: string[]) =>
  frame(cluster, keys, seq, { type: "hello", nonce, ...(pinned ? { pinned } : {}) }, clockAheadMs);

const online = async (cluster: string) => (await api("GET", `/v1/clusters/${cluster}/nodes/lb1`)).body.status.online;

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
}

describe("the coordinator's agent channel", () => {
  it("trusts a hello signed by the enrolled key, and on its own timer takes an agent silent for 45 s offline, not before", {
    timeout: 120_000,
  }, async () => {
    const { cluster, keys } = await enrolled();
    const { ws, challenge } = await connect(cluster);
    expect(challenge).toMatchObject({ t: "challenge", cluster, node: "lb1" });
    ws.send(await hello(cluster, keys, challenge.nonce));
    await until(() => online(cluster));
    const heard = Date.now();
    expect(await online(cluster)).toBe(true);

    // The agent says nothing more; the coordinator's alarm finds it silent (real time, no help).
    await expect.poll(() => online(cluster), { timeout: 100_000, interval: 500 }).toBe(false);
    expect(Date.now() - heard).toBeGreaterThanOrEqual(SILENT_AFTER_MS);
    const events = (await api("GET", `/v1/clusters/${cluster}/events?subject=lb1`)).body.map(
      (e: { type: string }) => e.type,
    );
    expect(events).toEqual(["agent.offline", "agent.online"]);
  });

  it.each([
    [
      "a hello with another connection's nonce",
      async (cluster: string, keys: KeyPair) => hello(cluster, keys, "x".repeat(32)),
      "BAD_MESSAGE",
    ],
    [
      "a hello signed by another key",
      async (cluster: string, _keys: KeyPair, nonce: string) => hello(cluster, await newKeyPair(), nonce),
      "BAD_SIGNATURE",
    ],
  ])("closes the connection on %s", async (_name, make, reason) => {
    const { cluster, keys } = await enrolled();
    const { ws, challenge, closed } = await connect(cluster);
    ws.send(await make(cluster, keys, challenge.nonce));
    const event = await closed;
    expect(event.code).toBe(4401);
    expect(event.reason).toContain(reason);
    expect(await online(cluster)).toBe(false);
  });

  it("takes a new connection of the same agent for the old one, which it closes, and sends there", async () => {
    const { cluster, keys } = await enrolled();
    const first = await connect(cluster);
    first.ws.send(await hello(cluster, keys, first.challenge.nonce, 1));
    await until(() => online(cluster));
    // The agent restarted while its old connection was cut off: that one is still open here.
    const second = await connect(cluster);
    const commands: string[] = [];
    second.ws.addEventListener("message", (e) => commands.push(e.data as string));
    second.ws.send(await hello(cluster, keys, second.challenge.nonce, 2));
    const event = await first.closed;
    expect(event.code).toBe(4409);
    expect(event.reason).toContain("replaced by a newer connection");
    // Its work reaches the new connection (not the old), and the node stayed online throughout.
    const types = () =>
      commands
        .filter((c) => c.startsWith("v1."))
        .map((c) => JSON.parse(new TextDecoder().decode(fromBase64url(c.split(".")[2] ?? ""))).command.type);
    await until(async () => types().includes("agent.work"));
    expect(types()).toContain("agent.work");
    expect(
      (await api("GET", `/v1/clusters/${cluster}/events?subject=lb1`)).body.map((e: { type: string }) => e.type),
    ).toEqual(["agent.online", "agent.online"]);
    second.ws.close();
  });

  it("records whether the agent applies VIP actions or only shows them, from its hello", async () => {
    const { cluster, keys } = await enrolled();
    const status = async () => (await api("GET", `/v1/clusters/${cluster}/nodes/lb1`)).body.status;
    expect((await status()).hostActions).toBe("apply");
    const { ws, challenge } = await connect(cluster);
    ws.send(await frame(cluster, keys, 1, { type: "hello", nonce: challenge.nonce, hostActions: "show" }));
    await until(() => online(cluster));
    expect(await status()).toMatchObject({ online: true, hostActions: "show" });
    ws.close();
  });

  it("puts two frames handed over swapped back in seq order, and still refuses a replayed one", async () => {
    const { cluster, keys } = await enrolled();
    const { ws, challenge, closed } = await connect(cluster);
    ws.send(await hello(cluster, keys, challenge.nonce, 1));
    await until(() => online(cluster));
    const heartbeat = (seq: number) => frame(cluster, keys, seq, { type: "votes", heartbeat: true, votes: [] });
    const cursor = () => takenSeq(cluster);
    const [third, second] = [await heartbeat(3), await heartbeat(2)];
    ws.send(third);
    ws.send(second);
    await until(async () => (await cursor()) === 3);
    expect(await cursor()).toBe(3);
    expect(await online(cluster)).toBe(true);
    // Once 3 was taken, a 2 is a replay however it arrives.
    ws.send(await heartbeat(2));
    const event = await closed;
    expect(event.code).toBe(4401);
    expect(event.reason).toContain("REPLAY");
  });

  it("refuses an older frame after the object restarts, and an old connection's hello on a new one", async () => {
    const { cluster, keys } = await enrolled();
    const first = await connect(cluster);
    const firstHello = await hello(cluster, keys, first.challenge.nonce, 1);
    first.ws.send(firstHello);
    await until(() => online(cluster));
    first.ws.send(await frame(cluster, keys, 5, { type: "votes", heartbeat: true, votes: [] }));
    await until(async () => (await takenSeq(cluster)) === 5);
    await restart(cluster);
    // The cursor lives in memory: what stops a replay across connections is the hello, which
    // signs each connection's own nonce.
    const replayed = await connect(cluster);
    replayed.ws.send(firstHello);
    expect((await replayed.closed).reason).toContain("BAD_MESSAGE: the first message must be a hello");
    const again = await connect(cluster);
    again.ws.send(await hello(cluster, keys, again.challenge.nonce, 6));
    await until(() => online(cluster));
    again.ws.send(await frame(cluster, keys, 4, { type: "votes", heartbeat: true, votes: [] }));
    const event = await again.closed;
    expect(event.code).toBe(4401);
    expect(event.reason).toContain("REPLAY: seq 4 is not after 6");
  });

  it("writes no row per agent frame, counts each frame and call it is billed for, and its commands' seqs keep growing through a restart", async () => {
    const { cluster, keys } = await enrolled();
    const first = await connect(cluster);
    const frames: string[] = [];
    first.ws.addEventListener("message", (e) => frames.push(e.data as string));
    first.ws.send(await hello(cluster, keys, first.challenge.nonce, 1));
    await until(async () => commandSeqs(frames).length > 0);
    const stub = env.COORDINATOR.getByName(cluster);
    const { usage: used } = await stub.metrics();
    const before = used.rowsWritten;
    const minute = () => Math.floor(Date.now() / 60_000);
    const from = minute();
    for (let seq = 2; seq <= 51; seq++)
      first.ws.send(await frame(cluster, keys, seq, { type: "votes", heartbeat: true, votes: [] }));
    first.ws.send("ping");
    await until(async () => (await takenSeq(cluster)) === 51);
    expect(await takenSeq(cluster)).toBe(51);
    // Fifty frames and a ping in, each counted as a message, not as a request (a vote frame
    // takes the path a prober's call does); and each call (an alarm may add one or two).
    let calls = 0;
    const usage = async () => {
      calls += 1;
      return (await stub.metrics()).usage;
    };
    await until(async () => (await usage()).messagesIn - used.messagesIn === 51);
    const a = await usage();
    expect(a.requests - used.requests).toBeLessThanOrEqual(calls + 2);
    await stub.health();
    const b = (await stub.metrics()).usage;
    expect(b.requests - a.requests).toBeGreaterThanOrEqual(2);
    expect(b.messagesIn).toBe(a.messagesIn);
    // Fifty frames, no row (but the history's row for a minute that ended meanwhile).
    expect((await stub.metrics()).usage.rowsWritten - before).toBeLessThanOrEqual(minute() - from);
    const sentBefore = Math.max(...commandSeqs(frames));

    await restart(cluster);
    const again = await connect(cluster);
    const after: string[] = [];
    again.ws.addEventListener("message", (e) => after.push(e.data as string));
    again.ws.send(await hello(cluster, keys, again.challenge.nonce, 52));
    await until(async () => commandSeqs(after).length > 0);
    expect(Math.min(...commandSeqs(after))).toBeGreaterThan(sentBefore);
    again.ws.close();
  });

  it.each<[string, string[], { kid: string; retire: string[] }[]]>([
    ["pins the key offered beside the signing one", ["coord-test"], [{ kid: "coord-next", retire: [] }]],
    [
      "retires a key no longer offered, under the signing key",
      ["coord-test", "coord-next", "coord-old"],
      [{ kid: "coord-test", retire: ["coord-old"] }],
    ],
  ])("rotates the keys an agent pins on its hello: %s", async (_name, pinned, rotations) => {
    const { cluster, keys } = await enrolled();
    const { ws, challenge } = await connect(cluster);
    const frames: string[] = [];
    ws.addEventListener("message", (e) => frames.push(e.data as string));
    ws.send(await hello(cluster, keys, challenge.nonce, 1, 0, pinned));
    const coordinator = await importPublicKey(golden.coordinatorPublicKey);
    const commands = async () => {
      const out: Command[] = [];
      let cursor = EMPTY_CURSOR;
      for (const f of frames.filter((x) => !x.startsWith("{"))) {
        const opened = await open(
          f,
          (kid) => (kid === "coord-test" ? coordinator : undefined),
          { cluster, agent: "lb1" },
          cursor,
          Date.now(),
        );
        if (!opened.ok) throw new Error(`${opened.reason}: ${opened.detail}`);
        cursor = opened.cursor;
        out.push(opened.envelope.command);
      }
      return out.filter((c) => c.type === "key.rotate");
    };
    await expect.poll(async () => (await commands()).length).toBe(rotations.length);
    expect((await commands()).map((c) => c.type === "key.rotate" && { kid: c.kid, retire: c.retire })).toEqual(
      rotations,
    );
    const next = (await commands()).find((c) => c.type === "key.rotate" && c.kid === "coord-next");
    if (next?.type === "key.rotate") expect(next.publicKey).toBe(NEXT_COORDINATOR_PUBLIC_KEY);
    ws.close();
  });

  it("answers a ping to an agent that is not connected with a conflict", async () => {
    const { cluster } = await enrolled();
    const reply = await api("POST", `/v1/clusters/${cluster}/nodes/lb1/ping`);
    expect(reply.status).toBe(409);
    expect(reply.body.error.message).toBe("the agent of lb1 is not connected");
  });

  it("tells the agent it was accepted, with the time, and shows how far its clock is off", async () => {
    const { cluster, keys } = await enrolled();
    const { ws, challenge } = await connect(cluster);
    const accepted = new Promise<string>((resolve) =>
      ws.addEventListener("message", (e) => resolve(e.data as string), { once: true }),
    );
    ws.send(await hello(cluster, keys, challenge.nonce, 1, 20_000));
    const frame = JSON.parse(await accepted);
    expect(frame).toEqual({ t: "accepted", at: expect.any(Number) });
    expect(Math.abs(frame.at - Date.now())).toBeLessThan(5_000);
    const status = (await api("GET", `/v1/clusters/${cluster}/nodes/lb1`)).body.status;
    expect(status.online).toBe(true);
    expect(status.clockOffsetMs).toBeGreaterThan(15_000);
    expect(status.clockOffsetMs).toBeLessThanOrEqual(20_000);
  });

  describe("deleting a node cuts off its agent", () => {
    it("closes its socket, refuses its old key when the node is made again, and takes the new enrollment at once", async () => {
      const { cluster, keys } = await enrolled();
      const old = await connect(cluster);
      old.ws.send(await hello(cluster, keys, old.challenge.nonce));
      await until(() => online(cluster));

      expect((await api("DELETE", `/v1/clusters/${cluster}/nodes/lb1`)).status).toBe(204);
      const closed = await old.closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason).toContain("node lb1 was deleted");

      expect((await api("POST", `/v1/clusters/${cluster}/nodes`, { body: node("lb1") })).status).toBe(201);
      // The old agent comes back with its old key: the node exists again, but not that enrollment.
      const refused = await connectRequest(cluster);
      expect(refused.status).toBe(401);
      expect(JSON.parse(await refused.text()).error.message).toContain("not enrolled");

      const fresh = await enroll(cluster);
      const again = await connect(cluster);
      again.ws.send(await hello(cluster, fresh, again.challenge.nonce));
      await until(() => online(cluster));
      expect(await online(cluster)).toBe(true);
      await runInDurableObject(env.COORDINATOR.getByName(cluster), async (instance) => {
        expect((instance as unknown as { channel: { connected(n: string): boolean } }).channel.connected("lb1")).toBe(
          true,
        );
      });

      // The old key, presented on a socket of the new enrollment, is refused.
      const stale = await connect(cluster);
      stale.ws.send(await hello(cluster, keys, stale.challenge.nonce));
      expect((await stale.closed).reason).toContain("BAD_SIGNATURE");
    });

    it("cuts off every agent of a deleted cluster", async () => {
      const { cluster, keys } = await enrolled();
      const { ws, challenge, closed } = await connect(cluster);
      ws.send(await hello(cluster, keys, challenge.nonce));
      await until(() => online(cluster));
      expect((await api("DELETE", `/v1/clusters/${cluster}?force=true`)).status).toBe(204);
      expect((await closed).code).toBe(4401);
    });
  });

  describe("before authentication", () => {
    it.each([
      ["an unknown cluster", "no-such-cluster", "lb1", 404],
      ["a cluster name of the wrong form", "a%20b", "lb1", 404],
      ["an unknown node", null, "lb9", 404],
    ])("answers %s without touching a Durable Object", async (_name, clusterName, agent, status) => {
      const { cluster } = await enrolled();
      const before = (await listDurableObjectIds(env.COORDINATOR)).length;
      const reply = await connectRequest(clusterName ?? cluster, agent);
      expect(reply.status).toBe(status);
      expect((await listDurableObjectIds(env.COORDINATOR)).length).toBe(before);
    });

    it("answers a node that is not enrolled with 401", async () => {
      const { name } = await newCluster("chan");
      await api("POST", `/v1/clusters/${name}/nodes`, { body: node("lb1") });
      expect((await connectRequest(name)).status).toBe(401);
    });

    it("writes nothing before the hello verifies, and closes a socket that only pings", async () => {
      const { name } = await newCluster("chan");
      await api("POST", `/v1/clusters/${name}/nodes`, { body: node("lb1") });
      await enroll(name);
      const stub = env.COORDINATOR.getByName(name);
      const rows = () =>
        runInDurableObject(stub, async (_instance, state) => {
          const tables = state.storage.sql
            .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
            .toArray()
            .map((r) => r.name)
            .filter((t) => !t.startsWith("_cf") && !t.startsWith("sqlite"));
          return Object.fromEntries(
            tables.map((table) => [table, state.storage.sql.exec(`SELECT * FROM ${table}`).toArray()]),
          );
        });
      const before = await rows();
      const { ws, closed } = await connect(name);
      ws.send("ping");
      await new Promise((r) => setTimeout(r, 100));
      expect(await rows()).toEqual(before);
      await runInDurableObject(stub, async (instance) => {
        (instance as unknown as { channel: { closeSilent(now: number): void } }).channel.closeSilent(Date.now() + 6000);
      });
      const event = await closed;
      expect(event.code).toBe(4401);
      expect(event.reason).toContain("no hello within 5000 ms");
    });
  });
});
