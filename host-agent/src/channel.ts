/**
 * `vigil-agent run`: keep one outbound WebSocket to the cluster's coordinator. Answer its
 * challenge with a signed hello, send heartbeats and expect them answered, hand every
 * command to the Inbox and send back its signed ack. Reconnect with capped exponential
 * backoff and jitter, forever; a refusal of this node's key is logged with its reason.
 */
import WebSocket from "ws";
import * as z from "zod";
import type { Command } from "../../src/core/command.js";
import { CLOCK_SKEW_MS } from "../../src/core/envelope.js";
import type { AgentConfig } from "./config.js";
import type { Inbox } from "./inbox.js";

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export type Log = (line: string) => void;

/** The coordinator's unsigned frames: the challenge, and word that the hello was accepted. */
const ControlFrame = z.discriminatedUnion("t", [
  z.object({ t: z.literal("challenge"), nonce: z.string().min(16).max(64) }),
  z.object({ t: z.literal("accepted"), at: z.number().int().positive() }),
]);

export interface Accepted {
  at: string;
  clockOffsetMs: number;
}

/** Sends on a socket while it is open (a frame signed for a closed one is dropped). */
const deliverTo = (socket: WebSocket) => (frame: string) => {
  if (socket.readyState === WebSocket.OPEN) socket.send(frame);
};

export function backoffMs(attempt: number, random: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt);
  return Math.round(ceiling * (0.5 + 0.5 * random));
}

export class Channel {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private lastPong = 0;
  private authenticated: WebSocket | null = null;

  constructor(
    private readonly config: AgentConfig,
    private readonly inbox: Inbox,
    private readonly log: Log,
    private readonly onAccepted?: (accepted: Accepted) => void,
  ) {}

  start(): void {
    this.connect();
  }

  connected(): boolean {
    return this.authenticated !== null && this.authenticated.readyState === WebSocket.OPEN;
  }

  /** Signs and sends a message from the agent; answers its id, or null when not connected. */
  async send(command: Command, group: string | null): Promise<string | null> {
    const socket = this.authenticated;
    if (!socket || socket.readyState !== WebSocket.OPEN) return null;
    const { id } = await this.inbox.signed(command, group, Date.now(), deliverTo(socket));
    return id;
  }

  /**
   * Closes the channel and waits (up to 2 s) for the close handshake: exiting with unread
   * frames in the socket would reset the connection, and the coordinator could lose the last
   * messages sent, such as the release of a lease.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      setTimeout(resolve, 2000).unref();
    });
    socket.close(1000, "agent stopping");
    await closed;
  }

  private connect(): void {
    const url = new URL(`/v1/clusters/${this.config.cluster}/agents/${this.config.node}/connect`, this.config.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    // No permessage-deflate: a signed frame is base64url and small, so compressing it saves little
    // and costs both ends CPU and a zlib stream each way for as long as the connection lives.
    const socket = new WebSocket(url, { handshakeTimeout: 10_000, perMessageDeflate: false });
    this.socket = socket;
    socket.on("open", () => this.log(`connected to ${url.host}`));
    socket.on("message", (data) => void this.onMessage(socket, data.toString()));
    socket.on("close", (code, reason) => this.onClose(code, reason.toString()));
    socket.on("error", (err) => this.log(`connection error: ${err.message}`));
  }

  /** One frame; whatever it holds, a bad frame is logged and the agent goes on. */
  private async onMessage(socket: WebSocket, text: string): Promise<void> {
    try {
      await this.handle(socket, text);
    } catch (err) {
      this.log(`ignored a frame it could not handle (${text.length} bytes): ${(err as Error).message}`);
    }
  }

  private async handle(socket: WebSocket, text: string): Promise<void> {
    if (text === "pong") {
      this.lastPong = Date.now();
      return;
    }
    if (text.startsWith("{")) {
      const control = ControlFrame.parse(JSON.parse(text));
      if (control.t === "challenge") {
        const hello = {
          type: "hello" as const,
          nonce: control.nonce,
          ...(this.config.hostActions === "apply" ? {} : { hostActions: this.config.hostActions }),
          pinned: this.inbox.pinned(),
        };
        await this.inbox.sign(hello, Date.now(), deliverTo(socket));
        this.authenticated = socket;
        this.startHeartbeat(socket);
      } else this.accepted(control.at);
      return;
    }
    const { accepted, reason } = await this.inbox.receive(text, Date.now(), deliverTo(socket));
    if (!accepted) this.log(`refused a command: ${reason}`);
  }

  /**
   * The coordinator verified the hello: only now is the backoff reset (a refused agent keeps
   * backing off). Its time gives this host's clock offset, kept for `vigil-agent status`.
   */
  private accepted(coordinatorNow: number): void {
    this.attempt = 0;
    const clockOffsetMs = Date.now() - coordinatorNow;
    this.log(`authenticated (clock offset ${clockOffsetMs} ms)`);
    if (Math.abs(clockOffsetMs) > CLOCK_SKEW_MS / 2)
      this.log(
        `this host's clock is ${Math.round(clockOffsetMs / 1000)} s off the control plane's: past ${CLOCK_SKEW_MS / 1000} s every command is refused; fix NTP`,
      );
    this.onAccepted?.({ at: new Date().toISOString(), clockOffsetMs });
  }

  private startHeartbeat(socket: WebSocket): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.lastPong = Date.now();
    const everyMs = this.config.heartbeat * 1000;
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastPong > 3 * everyMs) {
        this.log("no heartbeat answer; reconnecting");
        socket.terminate();
        return;
      }
      socket.send("ping");
    }, everyMs);
  }

  private onClose(code: number, reason: string): void {
    this.authenticated = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (this.stopped) return;
    const wait = backoffMs(this.attempt, Math.random());
    this.attempt += 1;
    this.log(`disconnected (${code}${reason ? `: ${reason}` : ""}); reconnecting in ${wait} ms`);
    this.retry = setTimeout(() => this.connect(), wait);
  }
}
