/**
 * Puts one connection's frames back in the order of their seq before they are checked.
 *
 * workerd may hand a Durable Object two frames of one WebSocket in the other order (seen in the
 * worker tests: an agent's seq 6 handled before its seq 5 when both were sent within a
 * millisecond). The replay check refuses a seq at or below the last one accepted and the
 * coordinator then closes the connection, so one swapped pair would cost the agent its channel
 * and a reconnect. A frame above the next expected seq waits until the gap fills, or `waitMs`
 * at most; anything else goes on at once. A frame at or below the last still goes on, to be
 * refused as a replay: this only orders, the envelope check decides.
 */

import { fromBase64url } from "./base64url.js";

export class FrameOrder<T> {
  /** The highest seq let through on this connection; null until the first frame. */
  private last: number | null = null;
  private readonly held = new Map<number, T>();
  private heldSince: number | null = null;

  constructor(private readonly waitMs: number) {}

  /**
   * A frame arrived. Answers the frames to handle now, in seq order: none while it waits for a
   * lower seq, or it and every held frame that follows it without a gap.
   */
  arrive(seq: number | null, frame: T, now: number): T[] {
    if (seq === null || this.last === null || seq <= this.last + 1) {
      if (seq !== null && (this.last === null || seq > this.last)) this.last = seq;
      return [frame, ...this.following()];
    }
    this.held.set(seq, frame);
    this.heldSince ??= now;
    return [];
  }

  /** Time passed: once the oldest held frame has waited `waitMs`, every held frame goes on, in seq order. */
  due(now: number): T[] {
    if (this.heldSince === null || now - this.heldSince < this.waitMs) return [];
    const seqs = [...this.held.keys()].sort((a, b) => a - b);
    const frames = seqs.map((s) => this.held.get(s) as T);
    this.held.clear();
    this.heldSince = null;
    this.last = Math.max(this.last ?? 0, ...seqs);
    return frames;
  }

  /** When `due` next lets something through; null while nothing waits. */
  dueAt(): number | null {
    return this.heldSince === null ? null : this.heldSince + this.waitMs;
  }

  private following(): T[] {
    const out: T[] = [];
    while (this.last !== null && this.held.has(this.last + 1)) {
      this.last += 1;
      out.push(this.held.get(this.last) as T);
      this.held.delete(this.last);
    }
    if (this.held.size === 0) this.heldSince = null;
    return out;
  }
}

/**
 * How much of a payload is decoded to find its seq: 512 base64 characters, 384 bytes. A sealed
 * envelope lists v, kid, cluster, agent, id and then seq (the schema's order), each before it at
 * most 64 characters, so the seq is inside; the command, which can be large, comes after and is
 * not decoded twice (`open` decodes the whole payload once it is verified). A frame whose seq is
 * not found there goes on unordered, as one whose seq cannot be read.
 */
const PEEK_CHARS = 512;
const utf8 = new TextDecoder();

/**
 * The seq a sealed frame claims, read without verifying it (null when it cannot be read). For
 * ordering only: what the frame says is trusted after `open` has checked its signature.
 */
export function peekSeq(frame: string): number | null {
  try {
    const payload = frame.split(".", 3)[2] ?? "";
    const head = utf8.decode(fromBase64url(payload.slice(0, PEEK_CHARS)));
    const seq = /"seq":(\d{1,15})[,}]/.exec(head)?.[1];
    return seq === undefined ? null : Number(seq);
  } catch {
    return null;
  }
}
