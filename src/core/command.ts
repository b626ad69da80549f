/**
 * The closed set of commands the coordinator may send an agent, and the agent's ack. Every
 * name and address is narrowed here, before an executor turns it into argv.
 */
import { z } from "zod";
import { Exec, Ident } from "./primitives.js";
import { Garp, Vip } from "./vip-group.js";

export const Ping = z.strictObject({ type: z.literal("ping"), nonce: z.string().max(64) });

export const VipClaim = z.strictObject({
  type: z.literal("vip.claim"),
  group: Ident,
  vips: z.array(Vip).min(1).max(64),
  garp: Garp,
  /** Milliseconds the lease lasts from when the agent sent its renewal. */
  leaseMs: z.number().int().min(100).max(120_000),
});

export const VipRelease = z.strictObject({ type: z.literal("vip.release"), group: Ident, vips: z.array(Vip).max(64) });

export const BackendsSync = z.strictObject({
  type: z.literal("backends.sync"),
  /** Desired tables per virtual service; the executors come with the backend drivers. */
  services: z.array(z.strictObject({ name: Ident, revision: z.number().int().nonnegative() })).max(1000),
});

export const HookRun = z.strictObject({
  type: z.literal("hook.run"),
  group: Ident,
  state: z.enum(["master", "backup", "fault", "stop"]),
  exec: Exec,
});

/** A new coordinator key, announced under the current one: agents pin it without re-enrolling. */
export const KeyRotate = z.strictObject({
  type: z.literal("key.rotate"),
  kid: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  /** Ed25519 public key, 32 bytes, base64url. */
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Key ids to forget now that the new key is pinned. */
  retire: z.array(z.string().max(64)).max(8).default([]),
});

export const Ack = z.strictObject({
  type: z.literal("ack"),
  /** The id of the message acknowledged. */
  of: z.string().max(64),
  ok: z.boolean(),
  /** A refusal's reason code, or an executor's error. */
  error: z.string().max(500).nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
});

/** The agent's answer to a connection's challenge, signed with its key. */
export const Hello = z.strictObject({ type: z.literal("hello"), nonce: z.string().min(16).max(64) });

export const Command = z.discriminatedUnion("type", [
  Ping,
  VipClaim,
  VipRelease,
  BackendsSync,
  HookRun,
  KeyRotate,
  Ack,
  Hello,
]);
export type Command = z.infer<typeof Command>;
