/**
 * The director-to-director link: one UDP port (agent config `peerPort`, 7441 by default) that
 * carries peer lease messages (src/core/peer.ts) and nothing else. Every datagram is signed
 * with this node's Ed25519 key and verified against the sender's key from the coordinator's
 * signed unit spec; anything else is refused with its reason in the log (at most one line per
 * sender and reason every 10 s, so a flood does not fill the disk).
 */
import { createSocket, type Socket } from "node:dgram";
import { importPublicKey } from "../../src/core/envelope.js";
import { openPeer, type PeerMessage, sealPeer } from "../../src/core/peer.js";

const LOG_EVERY_MS = 10_000;

/** A peer as the link needs it: where it listens and the key its datagrams are signed with. */
export interface PeerAddress {
  node: string;
  address: string;
  port: number;
  publicKey: string;
}

export interface PeerLinkOptions {
  cluster: string;
  node: string;
  port: number;
  privateKey: CryptoKey;
  log(line: string): void;
  deliver(from: string, message: PeerMessage): void;
}

export class PeerLink {
  private socket: Socket | null = null;
  private readonly peers = new Map<string, PeerAddress & { key: CryptoKey }>();
  private readonly lastSeq = new Map<string, number>();
  /** Continues above anything sent before a restart: microseconds of wall-clock time. */
  private seq = Date.now() * 1000;
  private readonly logged = new Map<string, number>();
  private sending: Promise<unknown> = Promise.resolve();
  private opening: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PeerLinkOptions) {}

  /** Binds the port; fails with the reason when it is taken. */
  start(): Promise<void> {
    const socket = createSocket({ type: "udp4", reuseAddr: false });
    this.socket = socket;
    socket.on("message", (data, from) => void this.receive(data.toString("utf8"), `${from.address}:${from.port}`));
    return new Promise((resolve, reject) => {
      socket.once("error", (err) =>
        reject(new Error(`cannot listen for peers on UDP port ${this.options.port}: ${err.message}`)),
      );
      socket.bind(this.options.port, () => {
        socket.removeAllListeners("error");
        socket.on("error", (err) => this.options.log(`peer link: ${err.message}`));
        this.options.log(`listening for peer lease messages on UDP port ${this.options.port}`);
        resolve();
      });
    });
  }

  /** Stops listening once what was sent (a stopping holder's release) has left. */
  async stop(): Promise<void> {
    await this.sending;
    this.socket?.close();
    this.socket = null;
  }

  /** The peers this node exchanges promises with, and their keys. */
  async setPeers(peers: PeerAddress[]): Promise<void> {
    const keyed = await Promise.all(peers.map(async (p) => ({ ...p, key: await importPublicKey(p.publicKey) })));
    this.peers.clear();
    for (const p of keyed) this.peers.set(p.node, p);
  }

  send(to: string, message: PeerMessage): void {
    const peer = this.peers.get(to);
    const socket = this.socket;
    if (!peer || !socket) return;
    this.seq += 1;
    const frame = {
      v: 1 as const,
      cluster: this.options.cluster,
      from: this.options.node,
      to,
      seq: this.seq,
      sentAt: Date.now(),
      message,
    };
    // One at a time, in the order of their seq: the receiver refuses a seq below the last.
    this.sending = this.sending
      .then(async () => {
        const text = await sealPeer(frame, this.options.privateKey);
        await new Promise<void>((resolve, reject) =>
          socket.send(text, peer.port, peer.address, (err) => (err ? reject(err) : resolve())),
        );
      })
      .catch((err) => this.refused(to, `sending to ${to}: ${(err as Error).message}`));
  }

  /** Frames are verified one at a time, in arrival order: each must be above its sender's last seq. */
  private receive(text: string, source: string): Promise<void> {
    const next = this.opening.then(() => this.open(text, source));
    this.opening = next.catch(() => undefined);
    return next;
  }

  private async open(text: string, source: string): Promise<void> {
    const opened = await openPeer(
      text,
      (node) => this.peers.get(node)?.key,
      { cluster: this.options.cluster, to: this.options.node },
      (node) => this.lastSeq.get(node) ?? -1,
      Date.now(),
    );
    if (!opened.ok) return this.refused(source, `refused a datagram from ${source}: ${opened.reason}`);
    const { from, seq, message } = opened.frame;
    this.lastSeq.set(from, seq);
    this.options.deliver(from, message);
  }

  private refused(key: string, line: string): void {
    const now = Date.now();
    const reasonKey = `${key} ${line.replace(/\d+/g, "#")}`;
    if (now - (this.logged.get(reasonKey) ?? 0) < LOG_EVERY_MS) return;
    if (this.logged.size > 1000) this.logged.clear();
    this.logged.set(reasonKey, now);
    this.options.log(`peer link: ${line}`);
  }
}
