/**
 * Prober Durable Object: one per cluster, region and shard, placed with the region's
 * locationHint. A region's targets are split over shards (src/core/probe-shards.ts) because a
 * deployed invocation may hold only six outbound connections at once: each shard probes its
 * share with at most that many probes in flight. An alarm loop runs the shard's checks, each on
 * its own jittered schedule with retries; rise/fall turns results into votes; votes go to the
 * coordinator in batches, at once when one changes and as a full heartbeat every few seconds.
 * Each target's observer state is stored when its vote changes (storage is billed per row
 * written: a probe that changes nothing writes nothing), so an evicted prober resumes from each
 * target's last vote.
 */
import { DurableObject } from "cloudflare:workers";
import { probe, userAgent } from "../../edge/probes.js";
import { CONFIG_MAX_AGE_MS } from "../coordinator/config.js";
import { afterProbe, beginObservation, restartObservation, voteOf } from "../core/observer.js";
import { nextAlarm, type RunState } from "../core/probe-schedule.js";
import { PROBE_CONNECTIONS, type ProberStatus, shardCount, shardTargets } from "../core/probe-shards.js";
import type { ObserverState } from "../core/rise-fall.js";
import { HEARTBEAT_MS, regionTargets, type Target } from "../core/targets.js";
import { VERSION } from "../core/version.js";
import type { Region } from "../core/vocabulary.js";
import type { VoteBatch } from "../core/vote.js";
import type { Env } from "../env.js";
import { documentRows, readClusterRevision, readStoredCluster } from "../storage/cluster-config.js";
import type { ProberRpc } from "./api.js";

/** Checks due this soon run in the current alarm: fewer alarms, and an early alarm is not wasted. */
const COALESCE_MS = 10;
/** Vote batch round trips kept for the operator's view. */
const ROUND_TRIPS_KEPT = 100;

/** A target's observer as stored, with the check it observes. */
interface Stored {
  run: RunState;
  observer: ObserverState;
  fingerprint: string;
}

interface Running {
  target: Target;
  /** The check's settings as JSON, to notice a change. */
  fingerprint: string;
  run: RunState;
  observer: ObserverState;
}

export class Prober extends DurableObject<Env> implements ProberRpc {
  private cluster: string | null = null;
  private region: Region | null = null;
  private shard = 0;
  private running = new Map<string, Running>();
  private configReadAt = 0;
  private lastHeartbeat = 0;
  /** The last batch's seq: the clock in ms, or one past the last when that is not behind. */
  private seq = 0;
  private readonly used = { requests: 0, batches: 0, rowsWritten: 0, rowsRead: 0, d1RowsRead: 0, probes: 0 };
  /** The cluster revision the running targets were read at (null: none read, or no cluster). */
  private revision: number | null = null;
  /** The last ROUND_TRIPS_KEPT vote batches' round trips to the coordinator, ms. */
  private readonly roundTrips: number[] = [];
  /** The first load from storage, shared by every call that arrives while it runs. */
  private loading: Promise<void> | null = null;
  /** The time the alarm was last set for. */
  private alarmAt = 0;

  /** Starts or refreshes this prober; called on every configuration change and by the cron. */
  async configure(cluster: string, region: Region, shard = 0): Promise<{ targets: number }> {
    this.used.requests += 1;
    await this.load();
    if (this.cluster !== cluster || this.region !== region || this.shard !== shard) {
      this.cluster = cluster;
      this.region = region;
      this.shard = shard;
      await this.put({ cluster, region, shard });
    }
    await this.refresh(true);
    await this.schedule();
    return { targets: this.running.size };
  }

  /** Each target's observer state, for inspection. */
  async observers(): Promise<Record<string, ObserverState & { attempt: number; nextDue: number }>> {
    await this.load();
    return Object.fromEntries([...this.running].map(([id, r]) => [id, { ...r.observer, ...r.run }]));
  }

  async rowsWritten(): Promise<number> {
    return this.used.rowsWritten;
  }

  async status(): Promise<ProberStatus> {
    this.used.requests += 1;
    await this.load();
    const { probes, ...usage } = this.used;
    return {
      region: this.region ?? "",
      shard: this.shard,
      targets: this.running.size,
      probes,
      voteRoundTripsMs: [...this.roundTrips],
      usage,
    };
  }

  override async alarm(): Promise<void> {
    this.used.requests += 1;
    await this.load();
    if (this.cluster === null || this.region === null) return;
    await this.refresh(false);
    const firing = this.alarmAt;
    const now = Date.now();
    const due = [...this.running.values()].filter((r) => r.run.nextDue <= now + COALESCE_MS);
    const changed: Running[] = [];
    const who = { userAgent: userAgent(VERSION, this.region, this.shard) };
    await eachAtMost(due, PROBE_CONNECTIONS, async (r) => {
      const result = await probe(r.target, who);
      this.used.probes += 1;
      const { next, changed: voteChanged } = afterProbe(r, r.target.check, result, Date.now(), Math.random());
      r.run = next.run;
      r.observer = next.observer;
      if (voteChanged) changed.push(r);
    });
    if (changed.length > 0) await this.save(changed);
    const heartbeat = Date.now() - this.lastHeartbeat >= HEARTBEAT_MS;
    if (heartbeat || changed.length > 0) await this.send(heartbeat ? [...this.running.values()] : changed, heartbeat);
    await this.schedule(firing);
  }

  private async send(items: Running[], heartbeat: boolean): Promise<void> {
    if (this.cluster === null || this.region === null) return;
    // Seqs from the clock, not from storage: a restarted instance starts past every batch its
    // predecessor sent (they were sent before now, at most one per ms on average), and no row
    // is written to keep it so.
    this.seq = Math.max(this.seq + 1, Date.now());
    const batch: VoteBatch = {
      observer: `region:${this.region}`,
      shard: this.shard,
      seq: this.seq,
      heartbeat,
      votes: items.map((r) => voteOf(r.target.id, r.observer)),
    };
    try {
      this.used.batches += 1;
      const begun = Date.now();
      const result = await this.env.COORDINATOR.getByName(this.cluster).ingest(batch);
      this.roundTrips.push(Date.now() - begun);
      if (this.roundTrips.length > ROUND_TRIPS_KEPT) this.roundTrips.shift();
      if (result.rejected) console.error(`prober ${this.region}: the coordinator refused votes: ${result.rejected}`);
      if (heartbeat) this.lastHeartbeat = Date.now();
    } catch (err) {
      // The next heartbeat carries every vote again.
      console.error(`prober ${this.region}: sending votes failed`, err);
      this.lastHeartbeat = 0;
    }
  }

  /** Sets the alarm for the next due check or heartbeat; `firing` is the alarm now running, if any. */
  private async schedule(firing = 0): Promise<void> {
    if (this.running.size === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const due = [...this.running.values()].map((r) => r.run.nextDue);
    const next = nextAlarm(due, this.lastHeartbeat + HEARTBEAT_MS, Date.now(), firing);
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  /**
   * Re-reads the cluster's checks when pushed to, or when the last read is old and the
   * cluster's revision moved (D1 bills a row read per resource: a whole read every half
   * minute in every shard of every region would cost more than all the probing). `stored`:
   * what an instance that just started found in storage, taken where the check is the same.
   */
  private async refresh(force: boolean, stored = new Map<string, Stored>()): Promise<void> {
    if (this.cluster === null || this.region === null) return;
    if (!force && Date.now() - this.configReadAt < CONFIG_MAX_AGE_MS) return;
    if (!force) {
      const revision = await readClusterRevision(this.env.DB, this.cluster);
      this.used.d1RowsRead += 1;
      this.configReadAt = Date.now();
      if (revision === this.revision) return;
    }
    const read = await readStoredCluster(this.env.DB, this.cluster);
    const doc = read?.doc ?? null;
    this.revision = read?.revision ?? null;
    this.used.d1RowsRead += documentRows(doc);
    this.configReadAt = Date.now();
    const inRegion = doc ? regionTargets(doc, this.region) : [];
    // A shard past the region's count (it shrank) has nothing to probe and stops.
    const shards = shardCount(inRegion);
    const targets = this.shard < shards ? shardTargets(inRegion, this.shard, shards) : [];
    const now = Date.now();
    const next = new Map<string, Running>();
    const begun: Running[] = [];
    for (const target of targets) {
      const fingerprint = JSON.stringify([target.check, target.address, target.port]);
      const old = this.running.get(target.id);
      const kept = stored.get(target.id);
      if (old && old.fingerprint === fingerprint) next.set(target.id, { ...old, target });
      else if (!old && kept?.fingerprint === fingerprint) next.set(target.id, { target, ...kept });
      else {
        // A changed check starts a new round at once but keeps what this observer believes.
        const observation = old ? restartObservation(old, now) : beginObservation(target.check, now, Math.random());
        const r = { target, fingerprint, ...observation };
        next.set(target.id, r);
        begun.push(r);
      }
    }
    const gone = [...this.running.keys()].filter((id) => !next.has(id));
    this.running = next;
    if (gone.length > 0) await this.ctx.storage.delete(gone.map((id) => `target:${id}`));
    // Only what began or changed: a re-read of an unchanged configuration writes nothing.
    await this.save(begun);
  }

  private async save(items: Running[]): Promise<void> {
    for (let i = 0; i < items.length; i += 128) {
      const entries: Record<string, unknown> = {};
      for (const r of items.slice(i, i + 128))
        entries[`target:${r.target.id}`] = {
          run: r.run,
          observer: r.observer,
          fingerprint: r.fingerprint,
        } satisfies Stored;
      await this.put(entries);
    }
  }

  private async put(entries: Record<string, unknown>): Promise<void> {
    await this.ctx.storage.put(entries);
    this.used.rowsWritten += Object.keys(entries).length;
  }

  /**
   * Loads what storage holds, once. Calls that arrive while it runs (an alarm and a request
   * racing after a restart) wait for the same load, rather than see an empty prober.
   */
  private load(): Promise<void> {
    this.loading ??= this.loadStored().catch((err: unknown) => {
      this.loading = null;
      throw err;
    });
    return this.loading;
  }

  private async loadStored(): Promise<void> {
    const identity = await this.ctx.storage.get<string>(["cluster", "region", "shard"]);
    this.cluster = (identity.get("cluster") as string | undefined) ?? null;
    this.region = (identity.get("region") as Region | undefined) ?? null;
    this.shard = (identity.get("shard") as number | undefined) ?? 0;
    const saved = await this.ctx.storage.list<Stored>({ prefix: "target:" });
    this.used.rowsRead += identity.size + saved.size;
    await this.refresh(true, new Map([...saved].map(([key, value]) => [key.slice("target:".length), value])));
  }
}

/** Runs `work` on every item with at most `limit` running at once, each next item as soon as one ends. */
async function eachAtMost<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
