/**
 * The event outbox: an event is first a row in the object's SQLite, written in the same
 * turn as the state change it records; flush() then writes it to D1 and queues it for
 * webhooks. A failed D1 write leaves it for the next flush, so no event is lost.
 */
import type { EventDraft } from "../core/verdict-events.js";
import { type EventRow, insertEvents } from "../storage/events.js";
import { enqueueEvents, type WebhookMessage } from "../webhooks/messages.js";

/** Events written to D1 in one batch; a burst goes out as several. */
const ROWS_PER_BATCH = 100;

export class Outbox {
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: SqlStorage,
    private readonly cluster: string,
    private readonly db: D1Database,
    private readonly queue: Queue<WebhookMessage>,
  ) {}

  add(event: EventDraft, now: number): void {
    const id = crypto.randomUUID();
    const row: EventRow = { ...event, id, at: new Date(now).toISOString() };
    this.sql.exec("INSERT INTO outbox (id, body) VALUES (?, ?)", id, JSON.stringify(row));
  }

  /**
   * Runs flushes one after another, so two never write the same rows. A flush that fails is
   * logged and ends there: the chain goes on, and the rows wait for the next flush.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() =>
      this.drain().catch((err) => console.error("coordinator: flushing the event outbox failed; will retry", err)),
    );
    return this.flushing;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<{ id: string; body: string }>("SELECT id, body FROM outbox ORDER BY rowid LIMIT ?", ROWS_PER_BATCH)
        .toArray();
      if (rows.length === 0) return;
      if (!(await this.write(rows))) return;
    }
  }

  /** Writes one slice to D1 and queues it; false when it must wait for the next flush. */
  private async write(rows: { id: string; body: string }[]): Promise<boolean> {
    const written = await insertEvents(
      this.db,
      this.cluster,
      rows.map((r) => JSON.parse(r.body) as EventRow),
    ).catch((err) => {
      console.error("coordinator: writing events to D1 failed; will retry", err);
      return null;
    });
    if (written === null) return false;
    for (const { id } of rows) this.sql.exec("DELETE FROM outbox WHERE id = ?", id);
    if (written === "cluster-gone") {
      console.warn(`coordinator: cluster ${this.cluster} no longer exists; dropped ${rows.length} event(s)`);
      return true;
    }
    try {
      await enqueueEvents(
        this.queue,
        rows.map((r) => r.id),
      );
    } catch (err) {
      // The events are in D1; the cron's sweep dispatches what was not queued.
      console.error("coordinator: queueing events for webhooks failed", err);
    }
    return true;
  }
}
