/**
 * The one write path for cluster configuration: take the stored document, change it,
 * validate the whole result, diff, write in one batch. Single-resource routes and
 * `PUT .../config` both end here, so they cannot disagree about what is valid.
 */
import { ClusterDocument, validateCluster } from "../core/cluster.js";
import { type Change, diffClusters } from "../core/diff.js";
import type { FieldIssue } from "../core/errors.js";
import { fieldIssue } from "../core/errors.js";
import { type Db, RevisionConflict, readCluster, type StoredCluster, writeCluster } from "../storage/cluster-store.js";
import { ApiError, zodIssues } from "./errors.js";

export async function loadCluster(db: Db, name: string): Promise<StoredCluster> {
  const stored = await readCluster(db, name);
  if (!stored) throw new ApiError("not_found", `no cluster named ${name}`);
  return stored;
}

export interface CommitResult {
  changes: Change[];
  revision: number;
}

/**
 * Validates `after` as a whole and writes what differs from `stored`.
 * `focus` is where the resource of a single-resource request sits in the document: issues
 * under it are reported relative to the request body.
 */
export async function commit(
  db: Db,
  stored: StoredCluster | null,
  after: unknown,
  actor: string,
  options: { dryRun?: boolean; focus?: (string | number)[] } = {},
): Promise<CommitResult & { doc: ClusterDocument }> {
  const parsed = ClusterDocument.safeParse(after);
  const issues: FieldIssue[] = parsed.success ? validateCluster(parsed.data) : zodIssues(parsed.error);
  if (issues.length > 0 || !parsed.success) throw ApiError.fromIssues(rebase(issues, options.focus));
  const doc = parsed.data;
  const changes = diffClusters(stored?.doc ?? null, doc);
  const base = stored?.revision ?? null;
  if (options.dryRun || (changes.length === 0 && base !== null)) return { doc, changes, revision: base ?? 0 };
  try {
    return { doc, changes, revision: await writeCluster(db, doc, changes, base, actor) };
  } catch (err) {
    if (err instanceof RevisionConflict) throw new ApiError("conflict", `${err.message}; read it again and retry`);
    throw err;
  }
}

function rebase(issues: FieldIssue[], focus: (string | number)[] | undefined): FieldIssue[] {
  if (!focus) return issues;
  return issues.map((issue) => {
    const inside = focus.every((key, i) => issue.path[i] === key);
    return inside ? fieldIssue(issue.code, issue.path.slice(focus.length), issue.message) : issue;
  });
}
