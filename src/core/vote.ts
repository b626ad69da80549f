/**
 * Votes: one observer's current verdict on one target, after its own rise/fall. Edge
 * probers and agents send the same shape, in batches, to the cluster's coordinator.
 */
import * as z from "zod";

/** `region:weur` for an edge prober, `agent:lb1` for a node's agent. */
export const ObserverId = z
  .string()
  .regex(/^(region|agent):[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: "expected region:<name> or agent:<node>" });
export type ObserverId = z.infer<typeof ObserverId>;

export const VOTE_STATES = ["up", "down", "degraded", "unknown"] as const;
export const VoteState = z.enum(VOTE_STATES);
export type VoteState = z.infer<typeof VoteState>;

export const Vote = z.strictObject({
  /** Target id, e.g. `web/web1` (virtual service / real server). */
  target: z.string().min(1).max(200),
  state: VoteState,
  /** When this observer's state last changed (ms since the epoch, observer's clock). */
  since: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative().nullable(),
  /** Why the last probe failed, or null. */
  error: z.string().max(300).nullable(),
  /** Probes run and probes failed since the observer started: rollups, not rows. */
  probes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
});
export type Vote = z.infer<typeof Vote>;

export const VoteBatch = z.strictObject({
  observer: ObserverId,
  /** Which of a region's prober shards sent it (src/core/probe-shards.ts); each counts its own seq. */
  shard: z.number().int().nonnegative().max(100_000).optional(),
  /** Increases with every batch from one observer (one shard); a lower one is a stale retry and ignored. */
  seq: z.number().int().nonnegative(),
  /** A heartbeat carries every current vote, so silence can be told from health. */
  heartbeat: z.boolean(),
  votes: z.array(Vote).max(10_000),
});
export type VoteBatch = z.infer<typeof VoteBatch>;
