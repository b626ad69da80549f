/**
 * The coordinator's side of the agent channel (WebSocket hibernation API). A connection
 * starts with a challenge; the agent answers with a `hello` signed by its enrolled key, and
 * only then is it trusted. Commands go out sealed with the coordinator key; acks come back
 * sealed with the agent's key and are checked the same way, replay cursor included.
 */
import { toBase64url } from "../core/base64url.js";
import type { Command } from "../core/command.js";
import { type Cursor, EMPTY_CURSOR, type Envelope, envelope, importPublicKey, open, seal } from "../core/envelope.js";
import { FrameOrder, peekSeq } from "../core/frame-order.js";
import { rotations } from "../core/key-rotation.js";
import type { EventDraft } from "../core/verdict-events.js";
import type { HostActions } from "../core/vocabulary.js";
import { agentPublicKey, recordPresence } from "../storage/node-status.js";
import type { CommandResult } from "./api.js";
import { coordinatorKeys } from "./keys.js";

/** How long a sealed command stays valid, and how long the coordinator waits for its ack. */
const COMMAND_TTL_MS = 10_000;
/** How long a frame waits for one with a lower seq that the runtime handed over later. */
const REORDER_WAIT_MS = 250;
/** An agent whose heartbeat has not been heard for this long is taken for gone. */
export const SILENT_AFTER_MS = 45_000;
/** A connection that has not authenticated this long after it opened is closed, whatever it sends. */
export const AUTHENTICATE_WITHIN_MS = 5_000;

interface Attachment {
  node: string;
  nonce: string;
  authenticated: boolean;
  connectedAt: number;
  /** The agent's clock less ours, read from its hello (0 until then). */
  offsetMs?: number;
  /** The last seq taken on this connection (it outlives the object's sleep, with the socket). */
  seq?: number;
}

/**
 * Command seqs are reserved in storage a block at a time: a row per this many commands to a
 * node, and a restarted object starts past the block, so its seqs still only grow.
 */
const COMMAND_SEQ_BLOCK = 1000;

export class NotConnected extends Error {}

/** What the coordinator does with what arrives on the channel. */
export interface ChannelHooks {
  /** Records an event (through the coordinator's outbox). */
  record(event: EventDraft): void;
  /**
   * A node's agent authenticated (with the enrolled key, base64url, its hello was verified
   * with), or its last connection ended.
   */
  presence(node: string, online: boolean, publicKey?: string): Promise<void>;
  /**
   * A signed message from an agent that is not an ack (lease requests, releases, votes), and
   * how long ago it was issued by our clock (the agent's clock offset taken out).
   */
  message(node: string, envelope: Envelope, ageMs: number): Promise<void>;
}

export class AgentChannel {
  private readonly pending = new Map<string, (ack: Omit<CommandResult, "rttMs">) => void>();
  /** Commands sealed and sent, acked ok, and failed (refused or unanswered), since this object started. */
  private readonly counted = { sent: 0, acked: 0, failed: 0 };
  /** Each node's enrolled key, as read from D1 before its hello, and as imported. */
  private readonly keys = new Map<string, { text: string; key: CryptoKey }>();
  /** Each node's replay cursor (see cursor()). */
  private readonly cursors = new Map<string, Cursor>();
  /** The last command seq sent to each node, and how far storage has it reserved. */
  private readonly commandSeqs = new Map<string, { last: number; reserved: number }>();
  private readonly sql: SqlStorage;
  /**
   * Each node's frames and closes are handled one at a time, in arrival order: awaiting D1
   * lets the next frame in, and a lease request must not overtake the hello that authenticates
   * its connection, nor a new connection's hello the close of the old. Nodes do not wait for
   * each other: one agent's hello awaiting D1 holds up no other agent's lease request.
   */
  private readonly serial = new Map<string, Promise<void>>();
  /** Each connection's frames, put back in seq order (in memory: a woken object starts each afresh). */
  private readonly order = new Map<WebSocket, FrameOrder<{ frame: string; handled: () => void }>>();

  /**
   * @param db where enrolled keys are read and presence is recorded
   * @param signingKeys the VIGIL_COORDINATOR_KEY secret
   * @param sql the object's SQLite (as the coordinator counts its writes)
   */
  constructor(
    private readonly ctx: DurableObjectState,
    sql: SqlStorage,
    private readonly cluster: string,
    private readonly db: D1Database,
    private readonly signingKeys: string | undefined,
    private readonly hooks: ChannelHooks,
  ) {
    this.sql = sql;
    // Earlier versions wrote every frame's cursor here, a row per agent message.
    sql.exec("DROP TABLE IF EXISTS agent_cursors");
    // Heartbeats are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Accepts a connection and sends the challenge. */
  accept(node: string): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const nonce = toBase64url(crypto.getRandomValues(new Uint8Array(24)));
    this.ctx.acceptWebSocket(server, [`node:${node}`]);
    server.serializeAttachment({
      node,
      nonce,
      authenticated: false,
      connectedAt: Date.now(),
    } satisfies Attachment);
    server.send(JSON.stringify({ t: "challenge", cluster: this.cluster, node, nonce }));
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * A frame arrived. Settles once it was handled: in seq order with the connection's other
   * frames (src/core/frame-order.ts), one at a time.
   */
  message(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const frame = typeof data === "string" ? data : new TextDecoder().decode(data);
    let order = this.order.get(ws);
    if (!order) {
      order = new FrameOrder(REORDER_WAIT_MS);
      this.order.set(ws, order);
    }
    const arrived = order;
    return new Promise<void>((handled) => {
      this.handleInOrder(ws, arrived.arrive(peekSeq(frame), { frame, handled }, Date.now()));
      const at = arrived.dueAt();
      if (at !== null) setTimeout(() => this.handleInOrder(ws, arrived.due(Date.now())), at - Date.now());
    });
  }

  private handleInOrder(ws: WebSocket, frames: { frame: string; handled: () => void }[]): void {
    for (const { frame, handled } of frames)
      void this.after(ws, "a frame", () => this.handle(ws, frame)).finally(handled);
  }

  /** Runs `work` after everything queued before it for the connection's node; settles when it ran. */
  private after(ws: WebSocket, what: string, work: () => Promise<void>): Promise<void> {
    const node = (ws.deserializeAttachment() as Attachment | null)?.node ?? "";
    const ran = (this.serial.get(node) ?? Promise.resolve()).then(work);
    const settled = ran
      .catch((err) => console.error(`agent channel: handling ${what} failed`, err))
      .finally(() => {
        if (this.serial.get(node) === settled) this.serial.delete(node);
      });
    this.serial.set(node, settled);
    return settled;
  }

  private async handle(ws: WebSocket, frame: string): Promise<void> {
    const att = ws.deserializeAttachment() as Attachment;
    // Before a hello the key is read from D1 afresh: what D1 says now is what holds.
    if (!att.authenticated) this.keys.delete(att.node);
    const publicKey = await this.agentKey(att.node);
    if (!publicKey) {
      ws.close(4401, "UNKNOWN_KEY: this node is not enrolled (or was reset); enroll it again");
      return;
    }
    const opened = await open(
      frame,
      (kid) => (kid === `agent:${att.node}` ? publicKey : undefined),
      { cluster: this.cluster, agent: att.node },
      this.cursor(att.node),
      Date.now(),
    );
    if (!opened.ok) {
      console.warn(`agent channel: refused a frame from ${att.node}: ${opened.reason}: ${opened.detail}`);
      ws.close(4401, `${opened.reason}: ${opened.detail}`.slice(0, 120));
      return;
    }
    const command = opened.envelope.command;
    const seq = opened.envelope.seq;
    if (!att.authenticated) {
      if (command.type !== "hello" || command.nonce !== att.nonce) {
        ws.close(4401, "BAD_MESSAGE: the first message must be a hello with this connection's nonce");
        return;
      }
      this.cursors.set(att.node, opened.cursor);
      this.supersede(att.node, ws);
      const now = Date.now();
      // Its clock less ours (the hello's one-way trip makes it read a little behind).
      const offsetMs = opened.envelope.issuedAt - now;
      ws.serializeAttachment({ ...att, authenticated: true, offsetMs, seq } satisfies Attachment);
      // The agent learns it was accepted (it resets its backoff then) and our time, to see its clock
      // offset; before any command, which setOnline may send.
      ws.send(JSON.stringify({ t: "accepted", at: now }));
      await this.setOnline(att, true, offsetMs, command.hostActions ?? "apply");
      if (command.pinned) await this.rotateKeys(att.node, command.pinned);
      return;
    }
    this.cursors.set(att.node, opened.cursor);
    ws.serializeAttachment({ ...att, seq } satisfies Attachment);
    if (command.type === "ack") {
      this.counted[command.ok ? "acked" : "failed"] += 1;
      this.pending.get(command.of)?.({ ok: command.ok, error: command.error, result: command.result });
    } else
      await this.hooks.message(
        att.node,
        opened.envelope,
        Date.now() - (opened.envelope.issuedAt - (att.offsetMs ?? 0)),
      );
  }

  /**
   * A node has one agent: its new connection replaces any older one. An agent that restarted
   * while its old connection was cut off leaves that one open here until it is found silent;
   * commands sent on it would be lost.
   */
  private supersede(node: string, current: WebSocket): void {
    for (const old of this.ctx.getWebSockets(`node:${node}`)) {
      if (old === current || !(old.deserializeAttachment() as Attachment).authenticated) continue;
      try {
        old.serializeAttachment({ ...(old.deserializeAttachment() as Attachment), authenticated: false });
        old.close(4409, "replaced by a newer connection from the same agent");
      } catch {
        // Already closed.
      }
    }
  }

  /** Whether a node's agent has an authenticated connection. */
  connected(node: string): boolean {
    return this.socketOf(node) !== undefined;
  }

  /** A connection ended; handled after the frames that arrived before its close. */
  closed(ws: WebSocket): Promise<void> {
    try {
      // Complete the close handshake, so an agent that waits for it can exit at once.
      ws.close(1000, "closed");
    } catch {
      // Already closed.
    }
    // Frames still waiting for a lower seq come first: none will follow.
    const order = this.order.get(ws);
    this.order.delete(ws);
    if (order) this.handleInOrder(ws, order.due(Number.POSITIVE_INFINITY));
    return this.after(ws, "a close", () => this.handleClose(ws));
  }

  private async handleClose(ws: WebSocket): Promise<void> {
    const att = ws.deserializeAttachment() as Attachment | null;
    if (!att?.authenticated) return;
    // Handle each connection's end once, whether it closed or was found silent.
    try {
      ws.serializeAttachment({ ...att, authenticated: false } satisfies Attachment);
    } catch {
      // A socket already closed keeps its last attachment; `others` below excludes it anyway.
    }
    const others = this.ctx
      .getWebSockets(`node:${att.node}`)
      .filter((s) => s !== ws && (s.deserializeAttachment() as Attachment).authenticated);
    if (others.length === 0) await this.setOnline(att, false);
  }

  /** Seals a command for one node, sends it and waits for the signed ack. */
  async send(node: string, command: Command): Promise<CommandResult> {
    const ws = this.socketOf(node);
    if (!ws) throw new NotConnected(`the agent of ${node} is not connected`);
    const { id, frame } = await this.seal(node, command, 0);
    const begun = performance.now();
    const ack = new Promise<Omit<CommandResult, "rttMs">>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.counted.failed += 1;
        this.pending.delete(id);
        reject(new NotConnected(`no ack from ${node} within ${COMMAND_TTL_MS} ms`));
      }, COMMAND_TTL_MS);
      this.pending.set(id, (value) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(value);
      });
    });
    ws.send(frame);
    this.counted.sent += 1;
    const result = await ack;
    return { ...result, rttMs: performance.now() - begun };
  }

  counts(): { sent: number; acked: number; failed: number } {
    return { ...this.counted };
  }

  /** Seals and sends a command if the node is connected; its ack is not awaited. */
  async post(node: string, command: Command, epoch: number): Promise<void> {
    const ws = this.socketOf(node);
    if (!ws) return;
    const { frame } = await this.seal(node, command, epoch);
    try {
      ws.send(frame);
      this.counted.sent += 1;
    } catch {
      // Closed meanwhile: its close handler takes the node offline.
    }
  }

  /** Brings the keys an agent pins in line with the ones offered (an agent too old to say what it pins is left alone). */
  private async rotateKeys(node: string, pinned: string[]): Promise<void> {
    const { commands, problem } = rotations(await coordinatorKeys(this.signingKeys), pinned);
    if (problem) console.warn(`agent channel: cannot rotate the coordinator keys of ${node}: ${problem}`);
    for (const command of commands) {
      console.log(
        `agent channel: ${node}: pinning coordinator key ${command.kid}${command.retire.length > 0 ? `, retiring ${command.retire.join(", ")}` : ""}`,
      );
      await this.post(node, command, 0);
    }
  }

  private async seal(node: string, command: Command, epoch: number): Promise<{ id: string; frame: string }> {
    const [key] = await coordinatorKeys(this.signingKeys);
    if (!key) throw new Error("no coordinator key");
    const seq = this.nextCommandSeq(node);
    const id = `${node}-c${seq}`;
    const out = envelope({
      kid: key.kid,
      cluster: this.cluster,
      agent: node,
      id,
      seq,
      epoch,
      command,
      now: Date.now(),
      ttlMs: COMMAND_TTL_MS,
    });
    return { id, frame: await seal(out, key.privateKey) };
  }

  private socketOf(node: string): WebSocket | undefined {
    return this.ctx.getWebSockets(`node:${node}`).find((s) => (s.deserializeAttachment() as Attachment).authenticated);
  }

  /**
   * The coordinator's half of the heartbeat: a connection whose agent has sent no ping for
   * SILENT_AFTER_MS (three of its default heartbeats and a half) is closed, and the node
   * goes offline; one that has not authenticated within AUTHENTICATE_WITHIN_MS is closed.
   */
  closeSilent(now: number): void {
    for (const ws of this.ctx.getWebSockets()) {
      const att = ws.deserializeAttachment() as Attachment | null;
      if (att && !att.authenticated) {
        // Pings are answered before authentication too; they do not keep such a socket open.
        if (now - att.connectedAt > AUTHENTICATE_WITHIN_MS)
          ws.close(4401, `BAD_MESSAGE: no hello within ${AUTHENTICATE_WITHIN_MS} ms`);
        continue;
      }
      const heard = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? att?.connectedAt ?? now;
      if (now - heard <= SILENT_AFTER_MS) continue;
      // A silent peer may never answer the close, so the node is marked offline here.
      ws.close(4408, "no heartbeat from the agent");
      this.ctx.waitUntil(this.closed(ws));
    }
  }

  /** Closes a node's connections and forgets its key and replay cursor, after an admin reset of its enrollment. */
  revoke(node: string, why = "this node's enrollment was reset"): void {
    for (const ws of this.ctx.getWebSockets(`node:${node}`)) {
      try {
        ws.close(4401, `UNKNOWN_KEY: ${why}`);
      } catch {
        // Already closed.
      }
    }
    this.cursors.delete(node);
    this.keys.delete(node);
  }

  /** Cuts off every node not in `nodes` (deleted from the cluster, or the cluster deleted). */
  revokeAllBut(nodes: ReadonlySet<string>): void {
    const known = new Set(this.cursors.keys());
    for (const ws of this.ctx.getWebSockets()) {
      const att = ws.deserializeAttachment() as Attachment | null;
      if (att) known.add(att.node);
    }
    for (const node of known) if (!nodes.has(node)) this.revoke(node, `node ${node} was deleted`);
  }

  /**
   * The node's replay cursor, in memory: no frame is replayed across connections, since each
   * opens with a hello that signs the connection's own nonce; within one, the seq must grow.
   * An object woken from sleep takes the last seq its connections kept.
   */
  private cursor(node: string): Cursor {
    const known = this.cursors.get(node);
    if (known) return known;
    const seqs = this.ctx
      .getWebSockets(`node:${node}`)
      .map((s) => (s.deserializeAttachment() as Attachment | null)?.seq ?? EMPTY_CURSOR.seq);
    return { seq: Math.max(EMPTY_CURSOR.seq, ...seqs), epochs: {} };
  }

  private nextCommandSeq(node: string): number {
    let out = this.commandSeqs.get(node);
    if (!out) {
      const reserved =
        this.sql.exec<{ seq: number }>("SELECT seq FROM command_seq WHERE node = ?", node).toArray()[0]?.seq ?? 0;
      out = { last: reserved, reserved };
      this.commandSeqs.set(node, out);
    }
    out.last += 1;
    if (out.last > out.reserved) {
      out.reserved = out.last + COMMAND_SEQ_BLOCK;
      this.sql.exec("INSERT OR REPLACE INTO command_seq (node, seq) VALUES (?, ?)", node, out.reserved);
    }
    return out.last;
  }

  /** The node's enrolled key, read once per node while this object lives; revoke() forgets it. */
  private async agentKey(node: string): Promise<CryptoKey | null> {
    const cached = this.keys.get(node);
    if (cached) return cached.key;
    const text = await agentPublicKey(this.db, this.cluster, node);
    if (!text) return null;
    const key = await importPublicKey(text);
    this.keys.set(node, { text, key });
    return key;
  }

  private async setOnline(
    att: Attachment,
    online: boolean,
    clockOffsetMs?: number,
    hostActions?: HostActions,
  ): Promise<void> {
    await recordPresence(this.db, this.cluster, att.node, {
      online,
      at: Date.now(),
      ...(clockOffsetMs === undefined ? {} : { clockOffsetMs }),
      ...(hostActions === undefined ? {} : { hostActions }),
    });
    await this.hooks.presence(att.node, online, online ? this.keys.get(att.node)?.text : undefined);
    this.hooks.record({
      type: online ? "agent.online" : "agent.offline",
      severity: online ? "info" : "warning",
      subject: att.node,
      details: { node: att.node },
    });
  }
}
