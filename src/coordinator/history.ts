/**
 * What observers saw, kept in the coordinator's SQLite at a price an operator does not notice
 * (src/core/history.ts has the layout and the arithmetic): the minute in progress in memory, one
 * row per finished minute for the hour in progress, and one row per target per day.
 */
import {
  type Bucket,
  DAY_MS,
  type DayRow,
  dayOf,
  type Figures,
  foldHour,
  HISTORY_KEPT_DAYS,
  hourOf,
  MINUTES_KEPT_DAYS,
  MinuteBook,
  type Point,
  type Reported,
  series,
} from "../core/history.js";

export class HistoryKeeper {
  private readonly book = new MinuteBook();
  /** The hour whose start last folded (in memory: a restarted object folds once more, which writes nothing new). */
  private folded: number | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** An accepted vote. */
  vote(target: string, observer: string, vote: Reported, now: number): void {
    const ended = this.book.add(target, observer, vote, now);
    if (ended) this.keep(ended);
  }

  /** Time passed: ends the minute, and folds the minutes of finished hours into the day rows. */
  tick(now: number): void {
    const ended = this.book.close(now);
    if (ended) this.keep(ended);
    this.fold(now);
  }

  /** Each observer's points for one target over [from, to) at `stepMs`. */
  read(target: string, from: number, to: number, stepMs: number): Map<string, Point[]> {
    const days = new Map<number, DayRow>();
    for (const row of this.sql.exec<{ day: number; minutes: string | null; hours: string }>(
      "SELECT day, minutes, hours FROM history WHERE target = ? AND day >= ? AND day < ?",
      target,
      dayOf(from),
      to,
    )) {
      days.set(row.day, {
        minutes: row.minutes === null ? null : JSON.parse(row.minutes),
        hours: JSON.parse(row.hours),
      });
    }
    // SQLite takes this target's part of each minute row: a row holds every target's figures.
    const minutes = this.sql
      .exec<{ minute: number; figures: string }>(
        `SELECT minute, json_extract(body, ?) AS figures FROM history_minutes
         WHERE minute >= ? AND minute < ? AND figures IS NOT NULL ORDER BY minute`,
        `$."${target}"`,
        from,
        to,
      )
      .toArray()
      .map((r) => ({ minute: r.minute, figures: JSON.parse(r.figures) as Record<string, Figures> }));
    const current = this.book.current();
    if (current?.bucket[target]) minutes.push({ minute: current.minute, figures: current.bucket[target] });
    return series(days, minutes, from, to, stepMs);
  }

  private keep({ minute, bucket }: { minute: number; bucket: Bucket }): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO history_minutes (minute, body) VALUES (?, ?)",
      minute,
      JSON.stringify(bucket),
    );
  }

  private minuteRows(from: number, to: number): { minute: number; bucket: Bucket }[] {
    return this.sql
      .exec<{ minute: number; body: string }>(
        "SELECT minute, body FROM history_minutes WHERE minute >= ? AND minute < ? ORDER BY minute",
        from,
        to,
      )
      .toArray()
      .map((r) => ({ minute: r.minute, bucket: JSON.parse(r.body) }));
  }

  /**
   * Once an hour: minutes of hours that are over go into their targets' day rows (one write per
   * target and hour), then their minute rows go. Days past a week drop their minutes, days past
   * 90 go.
   */
  private fold(now: number): void {
    if (hourOf(now) === this.folded) return;
    this.folded = hourOf(now);
    const finished = this.minuteRows(0, hourOf(now));
    const hours = new Map<number, { minute: number; bucket: Bucket }[]>();
    for (const m of finished) hours.set(hourOf(m.minute), [...(hours.get(hourOf(m.minute)) ?? []), m]);
    for (const [hour, minutes] of hours) {
      const day = dayOf(hour);
      for (const [target, part] of foldHour(hour, minutes)) {
        // Merged in SQLite: a day row that dropped its minutes keeps none (json_patch of NULL is NULL).
        this.sql.exec(
          `INSERT INTO history (target, day, minutes, hours) VALUES (?, ?, ?, ?)
           ON CONFLICT (target, day) DO UPDATE SET
             minutes = json_patch(history.minutes, excluded.minutes), hours = json_patch(history.hours, excluded.hours)`,
          target,
          day,
          JSON.stringify(part.minutes),
          JSON.stringify(part.hours),
        );
      }
    }
    this.sql.exec("DELETE FROM history_minutes WHERE minute < ?", hourOf(now));
    const today = dayOf(now);
    this.sql.exec(
      "UPDATE history SET minutes = NULL WHERE day < ? AND minutes IS NOT NULL",
      today - MINUTES_KEPT_DAYS * DAY_MS,
    );
    this.sql.exec("DELETE FROM history WHERE day < ?", today - HISTORY_KEPT_DAYS * DAY_MS);
  }
}
