/**
 * The agent's state in /var/lib/vigil: its private key, the pinned coordinator keys and the
 * replay cursor. Every write goes to a temporary file, is fsynced, renamed over the old one
 * and the directory fsynced, with mode 0600: a crash leaves the old file or the new, never half.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { type Cursor, EMPTY_CURSOR } from "../../src/core/envelope.js";

export const Identity = z.object({
  cluster: z.string(),
  node: z.string(),
  agentKid: z.string(),
  /** Ed25519 seed, base64url. Never leaves this host. */
  seed: z.string(),
  publicKey: z.string(),
  /** Coordinator keys this agent trusts, by key id. */
  coordinatorKeys: z.record(z.string(), z.string()),
  enrolledAt: z.string(),
});
export type Identity = z.infer<typeof Identity>;

const CursorFile = z.object({ seq: z.number().int(), epochs: z.record(z.string(), z.number().int()) });

/** Outgoing sequence numbers reserved per write. */
const OUT_SEQ_BLOCK = 1000;

export class StateStore {
  private outSeq: number | null = null;
  private reserved = 0;

  constructor(readonly dir: string) {}

  identity(): Identity | null {
    const raw = this.read("identity.json");
    return raw === null ? null : Identity.parse(raw);
  }

  saveIdentity(identity: Identity): void {
    this.write("identity.json", identity);
  }

  cursor(): Cursor {
    const raw = this.read("cursor.json");
    return raw === null ? EMPTY_CURSOR : CursorFile.parse(raw);
  }

  saveCursor(cursor: Cursor): void {
    this.write("cursor.json", cursor);
  }

  /**
   * The next sequence number for a message this agent sends. Numbers are reserved on disk a
   * block at a time, so an ack costs no extra fsync; after a restart the agent starts past the
   * reserved block, so its numbers still only grow.
   */
  nextOutSeq(): number {
    if (this.outSeq === null) {
      const raw = this.read("out-seq.json") as { reserved: number } | null;
      this.outSeq = raw?.reserved ?? 0;
      this.reserved = this.outSeq;
    }
    this.outSeq += 1;
    if (this.outSeq > this.reserved) {
      this.reserved = this.outSeq + OUT_SEQ_BLOCK;
      this.write("out-seq.json", { reserved: this.reserved });
    }
    return this.outSeq;
  }

  /** A named JSON document of the agent's own (null when absent), and its atomic save and removal. */
  load(name: string): unknown {
    return this.read(name);
  }

  save(name: string, value: unknown): void {
    this.write(name, value);
  }

  remove(name: string): void {
    rmSync(path.join(this.dir, name), { force: true });
  }

  protected read(name: string): unknown {
    try {
      return JSON.parse(readFileSync(path.join(this.dir, name), "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new Error(`${path.join(this.dir, name)}: ${(err as Error).message}`);
    }
  }

  /** Atomic: temp file, fsync, rename, fsync of the directory. */
  protected write(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = path.join(this.dir, name);
    const temp = `${target}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
