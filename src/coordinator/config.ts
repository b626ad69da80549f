/**
 * The cluster's configuration as the coordinator holds it: the document and its targets with
 * their quorum policies. Re-read on every announced change and at least every
 * CONFIG_MAX_AGE_MS by the alarm; reads use what is held and never reload it themselves.
 */
import type { ClusterDocument } from "../core/cluster.js";
import type { QuorumPolicy } from "../core/quorum.js";
import { policyFor, type Target, targetsOf } from "../core/targets.js";
import { readClusterDocument } from "../storage/cluster-config.js";
import { agentPublicKeys } from "../storage/node-status.js";

/** Configuration is re-read at least this often, besides the push on every change. */
export const CONFIG_MAX_AGE_MS = 30_000;

export type TargetIndex = ReadonlyMap<string, { target: Target; policy: QuorumPolicy }>;

export interface HeldConfig {
  /** Null when the cluster does not exist (any more). */
  doc: ClusterDocument | null;
  targets: TargetIndex;
  /** Each enrolled node's agent key, for its peers to verify its promises. */
  keys: ReadonlyMap<string, string>;
  readAt: number;
}

export const NO_CONFIG: HeldConfig = { doc: null, targets: new Map(), keys: new Map(), readAt: 0 };

export async function readConfig(db: D1Database, cluster: string, now: number): Promise<HeldConfig> {
  const [doc, keys] = await Promise.all([readClusterDocument(db, cluster), agentPublicKeys(db, cluster)]);
  const targets = doc ? targetsOf(doc) : [];
  return { doc, targets: new Map(targets.map((t) => [t.id, { target: t, policy: policyFor(t) }])), keys, readAt: now };
}
