/**
 * Votes and verdicts. The last vote of each (target, observer) lives in memory only: storage is
 * billed per row written, and a vote that changes nothing must cost nothing. What is stored is
 * each target's verdict, written when its state changes. A restarted object has no votes, so
 * for one vote lifetime it keeps the stored verdicts until fresh votes decide
 * (src/core/quorum.ts heldAfterRestart). A change of verdict becomes event drafts; the caller
 * puts them in the outbox.
 */
import { formatPath } from "../core/errors.js";
import type { HealthReport } from "../core/health.js";
import { emptyHistogram, type LatencyHistogram, observeLatency } from "../core/metrics.js";
import { quickParse } from "../core/quick-check.js";
import { firstStaleAt, heldAfterRestart, verdict } from "../core/quorum.js";
import { type EventDraft, verdictEvents } from "../core/verdict-events.js";
import { type Vote, VoteBatch, type VoteState } from "../core/vote.js";
import type { IngestResult } from "./api.js";
import type { TargetIndex } from "./config.js";

interface StoredVote extends Vote {
  observer: string;
  receivedAt: number;
}

interface StoredVerdict {
  state: VoteState;
  since: number;
  lastKnown: Exclude<VoteState, "unknown"> | null;
  fresh: number;
  required: number;
}

const initialVerdict = (now: number): StoredVerdict => ({
  state: "unknown",
  since: now,
  lastKnown: null,
  fresh: 0,
  required: 0,
});

/** The error most of these votes give (null when none gives one): what a down event says. */
function commonError(votes: Vote[]): string | null {
  const counts = new Map<string, number>();
  for (const v of votes) if (v.error !== null) counts.set(v.error, (counts.get(v.error) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

export class VoteBook {
  private readonly votes = new Map<string, Map<string, StoredVote>>();
  private readonly verdicts = new Map<string, StoredVerdict>();
  private readonly seqs = new Map<string, number>();
  /** Votes received per observer since this object started (Prometheus takes counter resets in its stride). */
  readonly counts = new Map<string, number>();
  /** Latency reported in region observers' votes, per region. */
  readonly latency = new Map<string, LatencyHistogram>();

  /** When this instance started: stored verdicts hold for a vote lifetime after it. */
  private readonly startedAt: number;
  /** Targets whose verdict came from storage and no fresh quorum has decided since. */
  private readonly inherited = new Set<string>();
  /** When each target's first counted vote goes stale: the time's work re-evaluates only those due. */
  private readonly staleAt = new Map<string, number>();

  /** `accepted` hears every vote kept (the history's minute figures). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly accepted: (target: string, observer: string, vote: Vote, now: number) => void = () => {},
    now = Date.now(),
  ) {
    this.startedAt = now;
    // Tables of earlier versions, which wrote a row per vote and per batch.
    sql.exec("DROP TABLE IF EXISTS votes; DROP TABLE IF EXISTS observers");
    for (const row of sql.exec<{ target: string; body: string }>("SELECT * FROM verdicts")) {
      this.verdicts.set(row.target, { ...JSON.parse(row.body), fresh: 0 });
      this.inherited.add(row.target);
    }
    if (this.verdicts.size > 0)
      console.log(
        `${new Date(now).toISOString()} coordinator: started with ${this.verdicts.size} stored verdict(s) and no votes; each holds until fresh votes decide, for one vote lifetime at most`,
      );
  }

  /** A target's current verdict; `unknown` before it has one. */
  state(target: string): VoteState {
    return this.verdicts.get(target)?.state ?? "unknown";
  }

  /**
   * Takes one batch of votes from one observer: validates it (observers are not trusted),
   * refuses a replayed or older batch, keeps the votes of targets the observer may vote on,
   * and re-evaluates the targets it touched.
   */
  ingest(raw: unknown, targets: TargetIndex, now: number): IngestResult & { events: EventDraft[] } {
    const parsed = quickParse(VoteBatch, raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const rejected = `${formatPath(issue?.path ?? [])}: ${issue?.message}`;
      return { accepted: 0, changed: [], stale: false, rejected, events: [] };
    }
    const batch = parsed.data;
    const sender = batch.shard === undefined ? batch.observer : `${batch.observer} shard ${batch.shard}`;
    const last = this.seqs.get(sender);
    if (last !== undefined && batch.seq <= last)
      return { accepted: 0, changed: [], stale: true, rejected: null, events: [] };
    // In memory: after a restart an observer's next batch sets its mark again.
    this.seqs.set(sender, batch.seq);

    const touched = new Set<string>();
    let accepted = 0;
    for (const vote of batch.votes) {
      if (!targets.get(vote.target)?.policy.eligible.includes(batch.observer)) continue;
      const stored: StoredVote = { ...vote, observer: batch.observer, receivedAt: now };
      this.voteMap(vote.target).set(batch.observer, stored);
      touched.add(vote.target);
      this.accepted(vote.target, batch.observer, vote, now);
      accepted += 1;
      this.count(batch.observer, vote);
    }
    return { accepted, stale: false, rejected: null, ...this.evaluate(targets, touched, now) };
  }

  private count(observer: string, vote: Vote): void {
    this.counts.set(observer, (this.counts.get(observer) ?? 0) + 1);
    if (!observer.startsWith("region:") || vote.latencyMs === null) return;
    const region = observer.slice("region:".length);
    const histogram = this.latency.get(region) ?? emptyHistogram();
    observeLatency(histogram, vote.latencyMs / 1000);
    this.latency.set(region, histogram);
  }

  /**
   * Re-evaluates targets (every one when `ids` is omitted): votes that went stale turn a
   * verdict `unknown` without new input. A verdict is stored only when its state changed.
   */
  evaluate(
    targets: TargetIndex,
    ids: Iterable<string> = targets.keys(),
    now = Date.now(),
  ): { changed: IngestResult["changed"]; events: EventDraft[] } {
    const changed: IngestResult["changed"] = [];
    const events: EventDraft[] = [];
    for (const id of ids) {
      const known = targets.get(id);
      if (!known) continue;
      const prev = this.verdicts.get(id) ?? initialVerdict(now);
      const votes = this.votes.get(id);
      const v = verdict(votes?.values() ?? [], known.policy, prev.state, now);
      const stale = votes ? firstStaleAt(votes.values(), known.policy, now) : null;
      if (stale === null) this.staleAt.delete(id);
      else this.staleAt.set(id, stale);
      if (v.state !== "unknown") this.inherited.delete(id);
      const state = this.inherited.has(id)
        ? heldAfterRestart(v.state, prev.state, this.startedAt, now, known.policy.maxAgeMs)
        : v.state;
      const next: StoredVerdict = {
        state,
        since: state === prev.state ? prev.since : now,
        lastKnown: state === "unknown" ? prev.lastKnown : state,
        fresh: v.fresh,
        required: v.required,
      };
      if (next.state !== prev.state) {
        changed.push({ target: id, state: next.state });
        const details = {
          check: known.target.check.name,
          fresh: v.fresh,
          required: v.required,
          down: v.down,
          healthy: v.healthy,
          error: commonError([...(votes?.values() ?? [])].filter((o) => o.state === "down")),
        };
        events.push(...verdictEvents(id, prev.state, next.state, prev.lastKnown, details));
      }
      this.verdicts.set(id, next);
      if (next.state !== prev.state) {
        const { fresh: _, ...body } = next;
        this.sql.exec("INSERT OR REPLACE INTO verdicts (target, body) VALUES (?, ?)", id, JSON.stringify(body));
      }
    }
    return { changed, events };
  }

  /**
   * The targets whose verdict time alone may change: a counted vote went stale, or a verdict
   * held over from before a restart still waits for fresh votes. Every other verdict stands
   * until a vote arrives, so the time's work need not evaluate it.
   */
  due(now: number): string[] {
    const ids = new Set(this.inherited);
    for (const [id, at] of this.staleAt) if (at <= now) ids.add(id);
    return [...ids];
  }

  /** Forgets the votes and verdicts of targets that no longer exist. */
  forgetAllBut(targets: TargetIndex): void {
    for (const id of [...this.votes.keys(), ...this.verdicts.keys()]) {
      if (targets.has(id)) continue;
      this.votes.delete(id);
      this.verdicts.delete(id);
      this.inherited.delete(id);
      this.staleAt.delete(id);
      this.sql.exec("DELETE FROM verdicts WHERE target = ?", id);
    }
  }

  /** Targets x observers, as stored: the verdict as of the last evaluation, each vote's freshness as of `now`. */
  report(cluster: string, targets: TargetIndex, now: number): HealthReport {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      cluster,
      at: new Date(now).toISOString(),
      targets: [...targets.values()].map(({ target, policy }) => {
        const v = this.verdicts.get(target.id) ?? initialVerdict(now);
        return {
          target: target.id,
          check: target.check.name,
          address: target.address,
          port: target.port,
          verdict: { state: v.state, since: new Date(v.since).toISOString(), fresh: v.fresh, required: v.required },
          observers: policy.eligible.map((observer) => {
            const vote = this.votes.get(target.id)?.get(observer);
            return {
              observer,
              state: vote?.state ?? "unknown",
              fresh: vote !== undefined && now - vote.receivedAt <= policy.maxAgeMs,
              since: iso(vote?.since ?? null),
              receivedAt: iso(vote?.receivedAt ?? null),
              latencyMs: vote?.latencyMs ?? null,
              error: vote?.error ?? null,
              probes: vote?.probes ?? 0,
              failures: vote?.failures ?? 0,
            };
          }),
        };
      }),
    };
  }

  private voteMap(target: string): Map<string, StoredVote> {
    let map = this.votes.get(target);
    if (!map) {
      map = new Map();
      this.votes.set(target, map);
    }
    return map;
  }
}
