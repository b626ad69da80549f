/**
 * How a region's probing is split between prober shards. A deployed Worker invocation may hold
 * only six outbound connections open at once, so one Durable Object cannot probe ten thousand
 * targets every ten seconds however fast it is; each shard is its own object, probes at most
 * six targets at a time, and is given about CHECKS_PER_SHARD checks a second, so its six
 * connections keep up while probes average up to 600 ms. Targets are placed by jump
 * consistent hashing: when the shard count grows from n to n + 1, only the targets that land
 * on the new shard move (about 1/(n + 1) of them), and each keeps its place otherwise.
 */
import * as z from "zod";
import type { ClusterDocument } from "./cluster.js";
import { regionTargets, type Target } from "./targets.js";
import type { Region } from "./vocabulary.js";

/** Outbound connections one invocation may hold open at once, on the platform. */
export const PROBE_CONNECTIONS = 6;
/** Checks per second one shard is given. */
export const CHECKS_PER_SHARD = 10;

/** Shards a region needs for `targets`: their checks per second over CHECKS_PER_SHARD, at least one. */
export function shardCount(targets: readonly Target[]): number {
  const perSecond = targets.reduce((sum, t) => sum + 1 / t.check.interval, 0);
  return Math.max(1, Math.ceil(perSecond / CHECKS_PER_SHARD - 1e-9));
}

const MASK = (1n << 64n) - 1n;

/** FNV-1a, 64 bits, over the UTF-16 code units of `key`. */
function hash64(key: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < key.length; i++) h = ((h ^ BigInt(key.charCodeAt(i))) * 0x100000001b3n) & MASK;
  return h;
}

/** The shard (0 to shards - 1) that probes the target `id`: jump consistent hashing of its hash. */
export function shardOf(id: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards ${shards}: expected a whole number >= 1`);
  let key = hash64(id);
  let b = -1;
  let j = 0;
  while (j < shards) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & MASK;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(key >> 33n) + 1)));
  }
  return b;
}

/** Each region the document's checks name, with the number of prober shards its targets need. */
export function regionShards(doc: ClusterDocument): Map<Region, number> {
  const regions = [...new Set(doc.checks.flatMap((check) => check.observers.regions))].sort();
  return new Map(regions.map((region) => [region, shardCount(regionTargets(doc, region))]));
}

/** The targets shard `shard` of `shards` probes. */
export function shardTargets(targets: readonly Target[], shard: number, shards: number): Target[] {
  return targets.filter((t) => shardOf(t.id, shards) === shard);
}

/** One prober shard as the operator sees it: what it probes, and what it was billed for since it started. */
export const ProberStatus = z.object({
  region: z.string(),
  shard: z.number().int().nonnegative(),
  targets: z.number().int().nonnegative(),
  /** Probes run since the shard started. */
  probes: z.number().int().nonnegative(),
  /** The last vote batches' round trips to the coordinator (votes in, verdicts out), ms, oldest first. */
  voteRoundTripsMs: z.array(z.number().nonnegative()),
  usage: z.object({
    /** Alarms and RPC calls handled (each a billed request). */
    requests: z.number().int().nonnegative(),
    /** Vote batches sent to the coordinator (each a billed request there). */
    batches: z.number().int().nonnegative(),
    rowsWritten: z.number().int().nonnegative(),
    rowsRead: z.number().int().nonnegative(),
    /** D1 rows its configuration reads read. */
    d1RowsRead: z.number().int().nonnegative(),
  }),
});
export type ProberStatus = z.infer<typeof ProberStatus>;

export const ProbersReport = z.object({ cluster: z.string(), probers: z.array(ProberStatus) });
export type ProbersReport = z.infer<typeof ProbersReport>;
