/**
 * The cluster's configuration as the coordinator holds it: the document and its targets with
 * their quorum policies. Re-read on every announced change and at least every
 * CONFIG_MAX_AGE_MS by the alarm; reads use what is held and never reload it themselves.
 */
import type { ClusterDocument } from "../core/cluster.js";
import type { QuorumPolicy } from "../core/quorum.js";
import { policyFor, type Target, targetsOf } from "../core/targets.js";
import { readClusterDocument } from "../storage/cluster-config.js";

/** Configuration is re-read at least this often, besides the push on every change. */
export const CONFIG_MAX_AGE_MS = 30_000;

export type TargetIndex = ReadonlyMap<string, { target: Target; policy: QuorumPolicy }>;

export interface HeldConfig {
  /** Null when the cluster does not exist (any more). */
  doc: ClusterDocument | null;
  targets: TargetIndex;
  readAt: number;
}

export const NO_CONFIG: HeldConfig = { doc: null, targets: new Map(), readAt: 0 };

export async function readConfig(db: D1Database, cluster: string, now: number): Promise<HeldConfig> {
  const doc = await readClusterDocument(db, cluster);
  const targets = doc ? targetsOf(doc) : [];
  return { doc, targets: new Map(targets.map((t) => [t.id, { target: t, policy: policyFor(t) }])), readAt: now };
}
