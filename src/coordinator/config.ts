/**
 * The cluster's configuration as the coordinator holds it: the document and its targets with
 * their quorum policies. Re-read on every announced change and at least every
 * CONFIG_MAX_AGE_MS by the alarm; reads use what is held and never reload it themselves.
 */
import type { ClusterDocument } from "../core/cluster.js";
import type { QuorumPolicy } from "../core/quorum.js";
import { policyFor, type Target, targetsOf } from "../core/targets.js";
import { documentRows, readClusterRevision, readStoredCluster } from "../storage/cluster-config.js";
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
  /** The cluster revision `doc` was read at (null: none, or no cluster). */
  revision: number | null;
  readAt: number;
  /** D1 rows the read that made this read (D1 bills per row read). */
  rowsRead: number;
}

export const NO_CONFIG: HeldConfig = {
  doc: null,
  targets: new Map(),
  keys: new Map(),
  revision: null,
  readAt: 0,
  rowsRead: 0,
};

export async function readConfig(db: D1Database, cluster: string, now: number): Promise<HeldConfig> {
  const [stored, keys] = await Promise.all([readStoredCluster(db, cluster), agentPublicKeys(db, cluster)]);
  const doc = stored?.doc ?? null;
  const targets = doc ? targetsOf(doc) : [];
  return {
    doc,
    targets: new Map(targets.map((t) => [t.id, { target: t, policy: policyFor(t) }])),
    keys,
    revision: stored?.revision ?? null,
    readAt: now,
    rowsRead: documentRows(doc) + (doc?.nodes.length ?? 0),
  };
}

/**
 * The periodic re-read: the revision and the agents' keys (enrollment changes no revision),
 * and the whole document only when the revision moved. Answers `held` (with the keys read
 * now) when it did not.
 */
export async function refreshConfig(
  db: D1Database,
  cluster: string,
  held: HeldConfig,
  now: number,
): Promise<{ config: HeldConfig; changed: boolean }> {
  const [revision, keys] = await Promise.all([readClusterRevision(db, cluster), agentPublicKeys(db, cluster)]);
  const rowsRead = 1 + keys.size;
  if (revision === null || revision !== held.revision) {
    const config = await readConfig(db, cluster, now);
    return { config: { ...config, rowsRead: config.rowsRead + rowsRead }, changed: true };
  }
  const sameKeys = keys.size === held.keys.size && [...keys].every(([node, key]) => held.keys.get(node) === key);
  return { config: { ...held, keys, readAt: now, rowsRead }, changed: !sameKeys };
}
