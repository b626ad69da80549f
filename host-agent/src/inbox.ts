/**
 * The agent's side of every command: verify the frame (src/core/envelope.ts), persist the
 * new replay cursor before acting, run the command, and build the signed ack. Persisting first
 * means a message accepted once is refused after any restart, kill -9 included. A command that
 * changes nothing on the host (EFFECT_FREE: a ping) moves the cursor in memory only: refused
 * again while the agent runs, it may be answered again after a restart, which changes nothing.
 */

import { fromBase64url } from "../../src/core/base64url.js";
import { type Command, EFFECT_FREE } from "../../src/core/command.js";
import { type Cursor, envelope, importPublicKey, keyPairFromSeed, open, seal } from "../../src/core/envelope.js";
import type { Identity, StateStore } from "./state.js";

/** How long an ack stays valid. */
const ACK_TTL_MS = 60_000;

/** A command that failed part-way: the ack says why and still carries what was done. */
export class PartialFailure extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Sends a signed frame on its way (the channel's socket). */
export type Deliver = (frame: string) => void;

export interface Executors {
  /** Runs an accepted command; `epoch` is its envelope's lease epoch. */
  run(command: Command, epoch: number): Promise<Record<string, unknown>>;
}

/** Answers pings only: for tools and tests that need no host actions. */
export const pingOnly: Executors = {
  async run(command) {
    if (command.type === "ping") return { pong: command.nonce };
    throw new Error(`${command.type} is not supported here`);
  },
};

export class Inbox {
  /** Frames are verified and their cursor stored one at a time, so the cursor never goes back. */
  private opening: Promise<unknown> = Promise.resolve();
  /** Outgoing frames are signed (and delivered) one at a time, in seq order. */
  private signing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly state: StateStore,
    /** The replay cursor: what storage holds, and past it any effect-free commands since. */
    private cursor: Cursor,
    private readonly identity: Identity,
    private readonly keys: Map<string, CryptoKey>,
    private readonly privateKey: CryptoKey,
    private readonly executors: Executors,
  ) {}

  static async load(state: StateStore, executors: Executors = pingOnly): Promise<Inbox> {
    const identity = state.identity();
    if (!identity) throw new Error(`not enrolled: no identity in ${state.dir}; run vigil-agent enroll first`);
    const keys = new Map<string, CryptoKey>();
    for (const [kid, publicKey] of Object.entries(identity.coordinatorKeys))
      keys.set(kid, await importPublicKey(publicKey));
    const { privateKey } = await keyPairFromSeed(fromBase64url(identity.seed));
    return new Inbox(state, state.cursor(), identity, keys, privateKey, executors);
  }

  /**
   * Handles one frame; returns the signed ack to send back (a refusal is acked too, with its
   * reason). `deliver`, when given, sends the ack in seq order with everything else signed here.
   */
  async receive(
    frame: string,
    now = Date.now(),
    deliver?: Deliver,
  ): Promise<{ ack: string; accepted: boolean; reason: string | null }> {
    const opening = this.opening.then(async () => {
      const result = await open(
        frame,
        (kid) => this.keys.get(kid),
        { cluster: this.identity.cluster, agent: this.identity.node },
        this.cursor,
        now,
      );
      if (result.ok) {
        this.cursor = result.cursor;
        if (!EFFECT_FREE.has(result.envelope.command.type)) this.state.saveCursor(result.cursor);
      }
      return result;
    });
    this.opening = opening.catch(() => undefined);
    const opened = await opening;
    if (!opened.ok) {
      const of = peekId(frame);
      return {
        ack: await this.ack(of, false, `${opened.reason}: ${opened.detail}`, null, deliver),
        accepted: false,
        reason: opened.reason,
      };
    }
    const e = opened.envelope;
    try {
      if (e.command.type === "key.rotate") return await this.rotate(e.id, e.command, deliver);
      const result = await this.executors.run(e.command, e.epoch);
      return { ack: await this.ack(e.id, true, null, result, deliver), accepted: true, reason: null };
    } catch (err) {
      const result = err instanceof PartialFailure ? err.result : null;
      return {
        ack: await this.ack(e.id, false, (err as Error).message, result, deliver),
        accepted: true,
        reason: null,
      };
    }
  }

  /** A new coordinator key, signed by a pinned one: pin it, forget the retired ones. */
  private async rotate(
    id: string,
    rotation: Extract<Command, { type: "key.rotate" }>,
    deliver?: Deliver,
  ): Promise<{ ack: string; accepted: boolean; reason: string | null }> {
    const pinned = { ...this.identity.coordinatorKeys, [rotation.kid]: rotation.publicKey };
    for (const kid of rotation.retire) if (kid !== rotation.kid) delete pinned[kid];
    this.state.saveIdentity({ ...this.identity, coordinatorKeys: pinned });
    this.identity.coordinatorKeys = pinned;
    this.keys.set(rotation.kid, await importPublicKey(rotation.publicKey));
    for (const kid of rotation.retire) if (kid !== rotation.kid) this.keys.delete(kid);
    return {
      ack: await this.ack(id, true, null, { pinned: Object.keys(pinned) }, deliver),
      accepted: true,
      reason: null,
    };
  }

  /** The coordinator key ids this agent pins now. */
  pinned(): string[] {
    return Object.keys(this.identity.coordinatorKeys);
  }

  /** Seals a message from this agent (acks, and the hello that answers a challenge). */
  async sign(command: Command, now = Date.now(), deliver?: Deliver): Promise<string> {
    return (await this.signed(command, null, now, deliver)).frame;
  }

  /**
   * Seals a message about a lease unit (or none), under the highest epoch seen for it, and
   * answers the id it carries: a grant names the request it answers by that id. With
   * `deliver`, the frame is sent before the next one is signed: frames leave in seq order,
   * and the coordinator refuses one whose seq is not above the last.
   */
  signed(
    command: Command,
    group: string | null,
    now = Date.now(),
    deliver?: Deliver,
  ): Promise<{ id: string; frame: string }> {
    const done = this.signing.then(async () => {
      const out = await this.sealNext(command, group, now);
      deliver?.(out.frame);
      return out;
    });
    this.signing = done.catch(() => undefined);
    return done;
  }

  private async sealNext(command: Command, group: string | null, now: number): Promise<{ id: string; frame: string }> {
    const seq = this.state.nextOutSeq();
    const id = `${this.identity.node}-${seq}`;
    const epoch = group === null ? 0 : (this.cursor.epochs[group] ?? 0);
    const frame = await seal(
      envelope({
        kid: this.identity.agentKid,
        cluster: this.identity.cluster,
        agent: this.identity.node,
        id,
        seq,
        epoch,
        command,
        now,
        ttlMs: ACK_TTL_MS,
      }),
      this.privateKey,
    );
    return { id, frame };
  }

  private ack(
    of: string,
    ok: boolean,
    error: string | null,
    result: Record<string, unknown> | null,
    deliver?: Deliver,
  ): Promise<string> {
    return this.sign({ type: "ack", of, ok, error: error === null ? null : cut(error), result }, Date.now(), deliver);
  }
}

/** An ack carries at most ACK_ERROR_MAX characters of error: a longer one is cut, not left unsent. */
const ACK_ERROR_MAX = 500;
const CUT = " ... (cut short)";
function cut(error: string): string {
  return error.length <= ACK_ERROR_MAX ? error : `${error.slice(0, ACK_ERROR_MAX - CUT.length)}${CUT}`;
}

/** The id a frame claims, for acking a refusal; unauthenticated, so only echoed back. */
function peekId(frame: string): string {
  try {
    const payload = JSON.parse(new TextDecoder().decode(fromBase64url(frame.split(".")[2] ?? "")));
    return typeof payload.id === "string" ? payload.id.slice(0, 64) : "unknown";
  } catch {
    return "unknown";
  }
}
