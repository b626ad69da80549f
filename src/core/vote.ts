/**
 * Votes: one observer's current verdict on one target, after its own rise/fall. Edge
 * probers and agents send the same shape, in batches, to the cluster's coordinator.
 */
import * as z from "zod";

/** `region:weur` for an edge prober, `agent:lb1` for a node's agent. */
const OBSERVER_PATTERN = /^(region|agent):[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const ObserverId = z.string().regex(OBSERVER_PATTERN, { error: "expected region:<name> or agent:<node>" });
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

/**
 * `VoteBatch.safeParse`, quick for the batches probers and agents send. zod cannot compile its
 * checks where code may not be made from strings (workerd), and its generic path took about a
 * third of the coordinator's time per batch of 100 votes. A batch `isPlainVoteBatch` passes is
 * one `VoteBatch` accepts unchanged (test/core/vote-batch.test.ts holds the two together);
 * anything else, valid or not, goes to zod, which names what is wrong.
 */
export function parseVoteBatch(raw: unknown): z.ZodSafeParseResult<VoteBatch> {
  return isPlainVoteBatch(raw) ? { success: true, data: raw } : VoteBatch.safeParse(raw);
}

type Fields = Record<string, unknown>;

/** An object literal's shape: not an array, a class instance or a null-prototype object. */
function isPlainObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function keyCount(value: Fields): number {
  let n = 0;
  for (const _ in value) n += 1;
  return n;
}

const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isText = (v: unknown, min: number, max: number): boolean =>
  typeof v === "string" && v.length >= min && v.length <= max;

export function isPlainVoteBatch(raw: unknown): raw is VoteBatch {
  if (!isPlainObject(raw)) return false;
  const { observer, shard, seq, heartbeat, votes } = raw;
  if (typeof observer !== "string" || !OBSERVER_PATTERN.test(observer)) return false;
  if (!isCount(seq) || typeof heartbeat !== "boolean") return false;
  const hasShard = "shard" in raw;
  if (hasShard && !(isCount(shard) && (shard as number) <= 100_000)) return false;
  if (keyCount(raw) !== (hasShard ? 5 : 4)) return false;
  if (!Array.isArray(votes) || Object.getPrototypeOf(votes) !== Array.prototype || votes.length > 10_000) return false;
  for (const vote of votes) if (!isPlainVote(vote)) return false;
  return true;
}

function isPlainVote(vote: unknown): boolean {
  if (!isPlainObject(vote)) return false;
  const { target, state, since, latencyMs, error, probes, failures } = vote;
  return (
    isText(target, 1, 200) &&
    (VOTE_STATES as readonly unknown[]).includes(state) &&
    isCount(since) &&
    (latencyMs === null || (typeof latencyMs === "number" && Number.isFinite(latencyMs) && latencyMs >= 0)) &&
    (error === null || isText(error, 0, 300)) &&
    isCount(probes) &&
    isCount(failures) &&
    // All seven are there (none may be undefined), so seven keys means no other key.
    keyCount(vote) === 7
  );
}
