/** An agent played by a worker test: signs what it sends, verifies what it gets, acks on request. */
import { exports } from "cloudflare:workers";
import type { Command } from "../../src/core/command.js";
import {
  type Cursor,
  EMPTY_CURSOR,
  type Envelope,
  importPublicKey,
  type KeyPair,
  keyPairFromSeed,
  open,
  seal,
} from "../../src/core/envelope.js";

const coordinator = keyPairFromSeed(new Uint8Array(32).fill(7));

/** An agent played by the test: signs what it sends, verifies what it gets. */
export class ScriptedAgent {
  readonly received: Envelope[] = [];
  private seq = 0;
  private cursor: Cursor = EMPTY_CURSOR;
  private ws!: WebSocket;
  private waiters: (() => void)[] = [];
  private taking: Promise<void> = Promise.resolve();

  constructor(
    readonly cluster: string,
    readonly name: string,
    private readonly keys: KeyPair,
  ) {}

  async connect(): Promise<void> {
    const response = await exports.default.fetch(
      new Request(`http://vigil.test/v1/clusters/${this.cluster}/agents/${this.name}/connect`, {
        headers: { upgrade: "websocket" },
      }),
    );
    this.ws = response.webSocket as WebSocket;
    const challenge = new Promise<string>((resolve) =>
      this.ws.addEventListener("message", (e) => resolve(e.data as string), { once: true }),
    );
    this.ws.accept();
    const { nonce } = JSON.parse(await challenge);
    // One frame at a time, in arrival order: each is checked against the cursor the last one left.
    this.ws.addEventListener("message", (e) => {
      this.taking = this.taking.then(() => this.take(e.data as string)).catch((err) => console.error(err));
    });
    await this.send({ type: "hello", nonce });
  }

  private async take(frame: string): Promise<void> {
    // The coordinator's unsigned word that the hello was accepted.
    if (frame.startsWith("{")) return;
    const pub = await importPublicKey((await coordinator).publicKey);
    const opened = await open(frame, () => pub, { cluster: this.cluster, agent: this.name }, this.cursor, Date.now());
    if (!opened.ok) throw new Error(`${this.name} refused a frame: ${opened.reason}`);
    this.cursor = opened.cursor;
    this.received.push(opened.envelope);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Frames leave in the order of their seq, however many are sent at once. */
  private sending: Promise<unknown> = Promise.resolve();

  /** `agedMs`: signed as if issued that long ago (a frame held up in the network). */
  send(command: Command, epoch = 0, agedMs = 0): Promise<string> {
    const sent = this.sending.then(() => this.sendNow(command, epoch, agedMs));
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  private async sendNow(command: Command, epoch: number, agedMs: number): Promise<string> {
    this.seq += 1;
    const id = `${this.name}-${this.seq}`;
    const now = Date.now() - agedMs;
    this.ws.send(
      await seal(
        {
          v: 1,
          kid: `agent:${this.name}`,
          cluster: this.cluster,
          agent: this.name,
          id,
          seq: this.seq,
          epoch,
          issuedAt: now,
          notAfter: now + 60_000,
          command,
        },
        this.keys.privateKey,
      ),
    );
    return id;
  }

  /**
   * A lease.request as the agent sends it: asking the coordinator's promise under `epoch` (0:
   * only reporting), and saying whether it holds the unit (then with the coordinator's promise).
   */
  lease(group: string, epoch: number, holding = false, agedMs = 0): Promise<string> {
    // Under the highest epoch seen for the group, as the agent's inbox does.
    const seen = Math.max(
      0,
      ...this.received.filter((e) => "group" in e.command && e.command.group === group).map((e) => e.epoch),
    );
    return this.send(
      {
        type: "lease.request",
        group,
        epoch,
        holding,
        holder: holding ? { node: this.name, epoch } : null,
        promises: holding ? [{ voter: "@coordinator", remainingMs: 500 }] : [],
      },
      seen,
      agedMs,
    );
  }

  /**
   * Waits for a command of `type` (or of any of several types) received after the first `after`
   * ones. The default wait allows for a loaded 2-core CI machine running every project at once.
   */
  async next(type: Command["type"] | Command["type"][], after = 0, limitMs = 10_000): Promise<Envelope> {
    const types: string[] = Array.isArray(type) ? type : [type];
    const until = Date.now() + limitMs;
    for (;;) {
      const found = this.received.slice(after).find((e) => types.includes(e.command.type));
      if (found) return found;
      if (Date.now() > until) throw new Error(`${this.name} got no ${types.join(" or ")} within ${limitMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.ws.close(1000, "done");
  }
}
