/**
 * History of what observers saw: per target, per observer, per minute, the probes run, the
 * probes failed and the latency (median and p95), kept at minute detail for a week and by the
 * hour for 90 days.
 *
 * Rows cost money (D1 and Durable Object SQLite alike), so the coordinator writes few: one row
 * per cluster per minute (every target's figures, a write-ahead for the hour in progress), and
 * at each hour's end one row per target per day, replaced with the hour added. After a week a
 * day row drops its minutes; after 90 days it goes. See `rowsPerMonth` for the arithmetic.
 *
 * Each vote carries the observer's running counts of probes and failures and its latest probe's
 * latency; a minute's figures are the counts' growth over the minute and the latencies of the
 * votes that came with a new probe. An hour's p50 and p95 are the probe-weighted median and
 * 95th percentile of its minutes' figures.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Minute detail is kept this long; hours after that. */
export const MINUTES_KEPT_DAYS = 7;
export const HISTORY_KEPT_DAYS = 90;

/** One observer's figures over one bucket: [probes, failures, p50 ms, p95 ms] (latencies null without a sample). */
export type Figures = [number, number, number | null, number | null];
/** target -> observer -> figures */
export type Bucket = Record<string, Record<string, Figures>>;

/** A day of one target: minute of day -> observer -> figures, and the same by hour of day. */
export interface DayRow {
  minutes: Record<string, Record<string, Figures>> | null;
  hours: Record<string, Record<string, Figures>>;
}

/** The nearest-rank percentile of samples; null without any. */
export function percentile(samples: number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return round(sorted[rank - 1] as number);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

interface Counting {
  probes: number;
  failures: number;
  samples: number[];
}

/** What a vote says of its observer's probes: running counts and the latest latency. */
export interface Reported {
  probes: number;
  failures: number;
  latencyMs: number | null;
}

/**
 * The minute in progress, in memory: each (target, observer)'s probes, failures and latency
 * samples since the minute began, from the growth of the counts its votes carry.
 */
export class MinuteBook {
  private minute: number | null = null;
  private counting = new Map<string, Map<string, Counting>>();
  /** The counts each (target, observer) last reported: the baseline for the next vote. */
  private readonly last = new Map<string, { probes: number; failures: number }>();

  /** Takes one vote; answers the minute that ended before it, if one did (see `close`). */
  add(target: string, observer: string, vote: Reported, now: number): { minute: number; bucket: Bucket } | null {
    const ended = this.close(now);
    const key = `${target}\n${observer}`;
    const before = this.last.get(key);
    // No baseline yet (a new observer, or this object restarted): the next vote measures.
    if (!before) {
      this.last.set(key, { probes: vote.probes, failures: vote.failures });
      return ended;
    }
    // Counts that went back mean the observer restarted: all of its counts are new.
    const restarted = vote.probes < before.probes || vote.failures < before.failures;
    const probes = restarted ? vote.probes : vote.probes - before.probes;
    const failures = restarted ? vote.failures : vote.failures - before.failures;
    // The baseline is updated in place: this runs for every vote.
    before.probes = vote.probes;
    before.failures = vote.failures;
    if (probes === 0 && failures === 0) return ended;
    const observers = this.counting.get(target) ?? new Map<string, Counting>();
    this.counting.set(target, observers);
    const c = observers.get(observer) ?? { probes: 0, failures: 0, samples: [] };
    observers.set(observer, c);
    c.probes += probes;
    c.failures += failures;
    if (vote.latencyMs !== null) c.samples.push(vote.latencyMs);
    return ended;
  }

  /**
   * Ends the minute in progress if `now` is past it: answers its figures (null when nothing
   * ended or nothing was counted in it) and starts the minute `now` is in.
   */
  close(now: number): { minute: number; bucket: Bucket } | null {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    if (this.minute === minute) return null;
    const ended = this.minute;
    const counted = this.counting;
    this.minute = minute;
    this.counting = new Map();
    if (ended === null || counted.size === 0) return null;
    return { minute: ended, bucket: this.figures(counted) };
  }

  /** The minute in progress so far, for reads. */
  current(): { minute: number; bucket: Bucket } | null {
    return this.minute === null || this.counting.size === 0
      ? null
      : { minute: this.minute, bucket: this.figures(this.counting) };
  }

  private figures(counted: Map<string, Map<string, Counting>>): Bucket {
    const bucket: Bucket = {};
    for (const [target, observers] of counted) {
      bucket[target] = {};
      for (const [observer, c] of observers)
        (bucket[target] as Record<string, Figures>)[observer] = [
          c.probes,
          c.failures,
          percentile(c.samples, 50),
          percentile(c.samples, 95),
        ];
    }
    return bucket;
  }
}

/** Several buckets' figures of one observer as one: counts add up, latencies by probe-weighted percentile. */
export function combine(parts: Figures[]): Figures {
  const probes = parts.reduce((n, f) => n + f[0], 0);
  const failures = parts.reduce((n, f) => n + f[1], 0);
  return [probes, failures, weighted(parts, 2, 50), weighted(parts, 3, 95)];
}

function weighted(parts: Figures[], at: 2 | 3, p: number): number | null {
  const points = parts
    .filter((f) => f[at] !== null)
    .map((f) => ({ v: f[at] as number, w: Math.max(1, f[0]) }))
    .sort((a, b) => a.v - b.v);
  const total = points.reduce((n, x) => n + x.w, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const x of points) {
    seen += x.w;
    if (seen >= (p / 100) * total) return x.v;
  }
  return points.at(-1)?.v ?? null;
}

/**
 * One hour's minute buckets as each target's part of its day row: the minutes as they are, and
 * the hour's combined figures. The store merges the part into the row it has (a JSON patch:
 * keys are minutes and hours of the day, so nothing already there is overwritten).
 */
export function foldHour(hour: number, minutes: { minute: number; bucket: Bucket }[]): Map<string, DayRow> {
  const day = dayOf(hour);
  const rows = new Map<
    string,
    { minutes: Record<string, Record<string, Figures>>; perObserver: Map<string, Figures[]> }
  >();
  for (const { minute, bucket } of minutes) {
    for (const [target, figures] of Object.entries(bucket)) {
      const row = rows.get(target) ?? { minutes: {}, perObserver: new Map<string, Figures[]>() };
      rows.set(target, row);
      row.minutes[String((minute - day) / MINUTE_MS)] = figures;
      for (const [observer, f] of Object.entries(figures))
        row.perObserver.set(observer, [...(row.perObserver.get(observer) ?? []), f]);
    }
  }
  const out = new Map<string, DayRow>();
  for (const [target, { minutes: m, perObserver }] of rows) {
    const hourFigures: Record<string, Figures> = {};
    for (const [observer, parts] of perObserver) hourFigures[observer] = combine(parts);
    out.set(target, { minutes: m, hours: { [String((hour - day) / HOUR_MS)]: hourFigures } });
  }
  return out;
}

export const dayOf = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
export const hourOf = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;

/** One point of a series: the bucket's start (ms) and its figures. */
export interface Point {
  t: number;
  probes: number;
  failures: number;
  p50: number | null;
  p95: number | null;
}

/**
 * Each observer's series over [from, to) at `stepMs` (a whole number of minutes), from day rows
 * (by day start), minute buckets not yet folded, and the minute in progress. Buckets with no
 * probes are left out. A step below an hour uses minute detail where it is still kept, and the
 * hours elsewhere (so points are an hour apart there).
 */
export function series(
  days: Map<number, DayRow>,
  minutes: { minute: number; figures: Record<string, Figures> }[],
  from: number,
  to: number,
  stepMs: number,
): Map<string, Point[]> {
  const parts = new Map<string, Map<number, Figures[]>>();
  const put = (observer: string, t: number, f: Figures) => {
    if (t < from || t >= to) return;
    const bucket = from + Math.floor((t - from) / stepMs) * stepMs;
    const o = parts.get(observer) ?? new Map<number, Figures[]>();
    parts.set(observer, o);
    o.set(bucket, [...(o.get(bucket) ?? []), f]);
  };
  for (const [day, row] of days) {
    if (stepMs < HOUR_MS && row.minutes !== null) {
      for (const [m, figures] of Object.entries(row.minutes))
        for (const [observer, f] of Object.entries(figures)) put(observer, day + Number(m) * MINUTE_MS, f);
    } else {
      for (const [h, figures] of Object.entries(row.hours))
        for (const [observer, f] of Object.entries(figures)) put(observer, day + Number(h) * HOUR_MS, f);
    }
  }
  for (const { minute, figures } of minutes)
    for (const [observer, f] of Object.entries(figures)) put(observer, minute, f);
  const out = new Map<string, Point[]>();
  for (const [observer, buckets] of [...parts].sort(([a], [b]) => a.localeCompare(b))) {
    const points = [...buckets]
      .sort(([a], [b]) => a - b)
      .map(([t, fs]) => {
        const [probes, failures, p50, p95] = combine(fs);
        return { t, probes, failures, p50, p95 };
      })
      .filter((p) => p.probes > 0);
    out.set(observer, points);
  }
  return out;
}

/**
 * Rows written per month for `targets` targets, as this design writes them: a minute row per
 * cluster and its deletion after folding, one day-row replacement per target per hour, one
 * per target per day when the minutes are dropped, and one when the day expires.
 */
export function rowsPerMonth(targets: number, clusters = 1): number {
  const minutes = 30 * 24 * 60;
  return clusters * minutes * 2 + targets * 30 * 24 + targets * 30 * 2;
}
