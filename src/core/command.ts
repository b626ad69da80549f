/**
 * The closed set of commands the coordinator may send an agent, and the agent's ack. Every
 * name and address is narrowed here, before an executor turns it into argv.
 */
import * as z from "zod";
import { DesiredService } from "./backends.js";
import { Check } from "./check.js";
import { Exec, Ident, IpAddress, Port } from "./primitives.js";
import { Garp, LvsSync, NotifyHooks, Vip } from "./vip-group.js";
import { COORDINATOR_LOSS_POLICIES, HOST_ACTIONS, NOTIFY_STATES } from "./vocabulary.js";
import { Vote } from "./vote.js";

export const Ping = z.strictObject({ type: z.literal("ping"), nonce: z.string().max(64) });

export const VipClaim = z.strictObject({
  type: z.literal("vip.claim"),
  group: Ident,
  vips: z.array(Vip).min(1).max(64),
  garp: Garp,
  /** Milliseconds the lease lasts from when the agent sent its renewal. */
  leaseMs: z.number().int().min(100).max(120_000),
  /** The id of the agent's lease.request this grant answers: the lease runs from when that was sent. */
  request: z.string().min(1).max(64),
  /** The epoch the coordinator promised under: the one the request asked for. */
  leaseEpoch: z.number().int().nonnegative(),
});

/**
 * The coordinator's answer to a lease.request it did not grant: why (null for a report, which
 * asks nothing) and its highest epoch, so the agent knows what to ask under next. Every
 * request is answered, which is how an agent knows the coordinator is there.
 */
export const LeaseAnswer = z.strictObject({
  type: z.literal("lease.answer"),
  group: Ident,
  request: z.string().min(1).max(64),
  reason: z.string().max(200).nullable(),
  epoch: z.number().int().nonnegative(),
});

export const VipRelease = z.strictObject({ type: z.literal("vip.release"), group: Ident, vips: z.array(Vip).max(64) });

/** The lease is free and this node should have it: ask now rather than at the next renewal. */
export const LeaseOffer = z.strictObject({ type: z.literal("lease.offer"), group: Ident });

/** What one VIP group (or sync group, whose groups move together) asks of a member's agent. */
export const LeaseUnitSpec = z.strictObject({
  name: Ident,
  vips: z.array(Vip).min(1).max(256),
  garp: Garp,
  leaseMs: z.number().int().min(100).max(120_000),
  onCoordinatorLoss: z.enum(COORDINATOR_LOSS_POLICIES),
  /** Every member, with what its peers need to reach it and verify its promises. */
  members: z
    .array(
      z.strictObject({
        node: Ident,
        address: IpAddress,
        peerPort: Port,
        /** Its agent's enrolled Ed25519 key (base64url), or null before it enrolled. */
        publicKey: z.string().max(64).nullable(),
        /** Its base priority in the unit. */
        priority: z.number().int(),
      }),
    )
    .max(16),
  /** What the receiving node tracks itself (its own checks' targets, with weights), for its eligibility without the coordinator. */
  track: z.array(z.strictObject({ target: z.string().max(200), weight: z.number().int() })).max(64),
  /** Hooks to run on each change, in order; the agent runs only paths its own config allows. */
  notify: z.array(NotifyHooks).max(33),
  /** The IPVS sync daemon's role follows the lease: master while holding, backup otherwise. */
  lvsSync: LvsSync.optional(),
});
export type LeaseUnitSpec = z.infer<typeof LeaseUnitSpec>;

/** A check the agent runs itself, voting as `agent:<node>`. */
export const AgentProbe = z.strictObject({
  target: z.string().min(1).max(200),
  check: Check,
  address: IpAddress,
  port: Port.or(z.literal(0)),
});
export type AgentProbe = z.infer<typeof AgentProbe>;

/** Everything an agent must do for its cluster: leases to ask for and checks to run. Replaces the last one. */
export const AgentWork = z.strictObject({
  type: z.literal("agent.work"),
  revision: z.number().int().nonnegative(),
  units: z.array(LeaseUnitSpec).max(256),
  probes: z.array(AgentProbe).max(10_000),
});
export type AgentWork = z.infer<typeof AgentWork>;

/**
 * From an agent, every third of the TTL: what it knows of the unit, and (epoch > 0) a request
 * for the coordinator's promise under that epoch, which runs from when this was sent.
 */
export const LeaseRequest = z.strictObject({
  type: z.literal("lease.request"),
  group: Ident,
  /** The epoch it asks a promise for; 0: it asks nothing, it reports. */
  epoch: z.number().int().nonnegative(),
  /** It holds the unit now, under `epoch`. */
  holding: z.boolean(),
  /**
   * Who holds the unit as this agent knows it (itself, or a peer that says so), or null; for a
   * peer, how long ago it last heard that peer say so.
   */
  holder: z
    .strictObject({
      node: Ident,
      epoch: z.number().int().nonnegative(),
      heardMsAgo: z.number().int().nonnegative().max(3_600_000).optional(),
    })
    .nullable(),
  /** While holding: the voters whose promises cover it, and for how much longer. */
  promises: z.array(z.strictObject({ voter: z.string().max(64), remainingMs: z.number().int() })).max(17),
});

/** From an agent: it no longer holds the group's VIPs (released on request, stopping, or at its deadline). */
export const LeaseReleased = z.strictObject({
  type: z.literal("lease.released"),
  group: Ident,
  leaseEpoch: z.number().int().nonnegative(),
});

/** From an agent: its votes on the targets it probes (all of them on a heartbeat). */
export const AgentVotes = z.strictObject({
  type: z.literal("votes"),
  heartbeat: z.boolean(),
  votes: z.array(Vote).max(10_000),
});

/**
 * From an agent: it refused to start a program the control plane asked for (a script check or
 * a notify or fault hook) because its own allowlist does not name it. Sent once per program
 * and subject while the agent runs; the coordinator records it as a `program.refused` event.
 */
export const ProgramRefused = z.strictObject({
  type: z.literal("program.refused"),
  kind: z.enum(["check", "hook"]),
  /** The check's target id, or the lease unit whose hook it is. */
  subject: z.string().min(1).max(200),
  /** For a hook: which notify state it was for. */
  state: z.enum(NOTIFY_STATES).nullable(),
  program: Exec,
  reason: z.string().max(500),
});
export type ProgramRefused = z.infer<typeof ProgramRefused>;

/** The tables a director should have for its virtual services (all of them: a full replacement). */
export const BackendsSync = z.strictObject({
  type: z.literal("backends.sync"),
  revision: z.number().int().nonnegative(),
  services: z.array(DesiredService).max(1000),
});

/** Asks a director for the tables it has now, with connection counts (answered in the ack's result). */
export const BackendsStatusRequest = z.strictObject({ type: z.literal("backends.status") });

/**
 * Runs the notify hooks a lease unit lists for `state` on its node; the coordinator sends it
 * for `fault` (a weight-0 tracked check or interface down), the agent runs the others itself.
 */
export const HookRun = z.strictObject({
  type: z.literal("hook.run"),
  group: Ident,
  state: z.enum(NOTIFY_STATES),
});

/** A new coordinator key, announced under the current one: agents pin it without re-enrolling. */
/** At most this many key ids are retired by one `key.rotate`. */
export const KEY_RETIRE_MAX = 8;

export const KeyRotate = z.strictObject({
  type: z.literal("key.rotate"),
  kid: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  /** Ed25519 public key, 32 bytes, base64url. */
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Key ids to forget now that the new key is pinned. */
  retire: z.array(z.string().max(64)).max(KEY_RETIRE_MAX).default([]),
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
export const Hello = z.strictObject({
  type: z.literal("hello"),
  nonce: z.string().min(16).max(64),
  /** Sent unless "apply": the agent logs VIP and IPVS changes (or IPVS changes only) instead of applying them. */
  hostActions: z.enum(HOST_ACTIONS).optional(),
  /** The coordinator key ids the agent pins, so the coordinator can rotate them (src/core/key-rotation.ts). */
  pinned: z.array(z.string().max(64)).max(16).optional(),
});

export const Command = z.discriminatedUnion("type", [
  Ping,
  VipClaim,
  VipRelease,
  LeaseOffer,
  LeaseAnswer,
  AgentWork,
  LeaseRequest,
  LeaseReleased,
  AgentVotes,
  ProgramRefused,
  BackendsSync,
  BackendsStatusRequest,
  HookRun,
  KeyRotate,
  Ack,
  Hello,
]);
export type Command = z.infer<typeof Command>;

/**
 * Commands that change nothing on the host: answering one again changes nothing either, so an
 * agent need not store its replay cursor before it answers (a stored write, fsynced, per ping).
 * The next command that does change something stores the cursor past them.
 */
export const EFFECT_FREE: ReadonlySet<Command["type"]> = new Set(["ping", "backends.status"]);
