/**
 * Periods read from events, for history views: when a target was down, and who held a VIP
 * group from when to when and why it moved. Pure: the events in, the periods out.
 */
import * as z from "zod";

export interface PeriodEvent {
  type: string;
  at: string;
  details: Record<string, unknown>;
}

export const DownPeriod = z.object({ from: z.iso.datetime(), to: z.iso.datetime().nullable() });
export type DownPeriod = z.infer<typeof DownPeriod>;

export const Holding = z
  .object({
    node: z.string(),
    epoch: z.number().int().nullable(),
    from: z.iso.datetime(),
    /** null while it still holds. */
    to: z.iso.datetime().nullable(),
    /** Why it holds: the first holder, a switchover, the previous holder's expiry or release. */
    why: z.string(),
    /** How it ended: moved to another node, or its lease expired. */
    ended: z.string().nullable(),
  })
  .meta({ id: "Holding" });
export type Holding = z.infer<typeof Holding>;

const iso = (ms: number) => new Date(ms).toISOString();
const clip = (at: string, from: number, to: number) => iso(Math.min(to, Math.max(from, Date.parse(at))));

/**
 * A target's down periods within [from, to) from its target.down / target.up events, oldest
 * first (a period that began before `from` starts at `from`; one that ended at `from` is left out).
 */
export function downPeriods(events: PeriodEvent[], from: number, to: number): DownPeriod[] {
  const out: DownPeriod[] = [];
  let open: string | null = null;
  for (const e of [...events].sort((a, b) => a.at.localeCompare(b.at))) {
    if (e.type === "target.down" && open === null) open = e.at;
    else if (e.type === "target.up" && open !== null) {
      out.push({ from: open, to: e.at });
      open = null;
    }
  }
  if (open !== null) out.push({ from: open, to: null });
  return out
    .filter((p) => Date.parse(p.from) < to && (p.to === null || Date.parse(p.to) > from))
    .map((p) => ({ from: clip(p.from, from, to), to: p.to === null ? null : clip(p.to, from, to) }));
}

/**
 * Who held a VIP group when, from its vip.moved and lease.expired events: each move starts a
 * holding and ends the one before; an expiry ends the holding without a successor. Holdings
 * that ended by `from` are left out.
 */
export function holdings(events: PeriodEvent[], from: number): Holding[] {
  const out: Holding[] = [];
  let current: Holding | null = null;
  let expired: string | null = null;
  for (const e of [...events].sort((a, b) => a.at.localeCompare(b.at))) {
    if (e.type === "lease.expired") {
      const node = String(e.details.node ?? "");
      if (current && current.node === node) {
        current.to = e.at;
        current.ended = "its lease expired: it stopped renewing";
        out.push(current);
        current = null;
      }
      expired = node;
    } else if (e.type === "vip.moved") {
      const to = String(e.details.to ?? "");
      const prior = e.details.from === null || e.details.from === undefined ? null : String(e.details.from);
      const reason = typeof e.details.reason === "string" ? e.details.reason : null;
      const why: string =
        reason ??
        (prior === null ? "first holder" : expired === prior ? `${prior}'s lease expired` : `${prior} gave it up`);
      if (current) {
        current.to = e.at;
        current.ended = `moved to ${to}`;
        out.push(current);
      }
      const epoch = typeof e.details.epoch === "number" ? e.details.epoch : null;
      current = { node: to, epoch, from: e.at, to: null, why, ended: null };
      expired = null;
    }
  }
  if (current) out.push(current);
  return out.filter((h) => h.to === null || Date.parse(h.to) > from);
}

/**
 * The share of each of `segments` equal slices of [from, to) that was not inside a down period,
 * as status pages draw uptime: 1 for a slice with no down time.
 */
export function uptime(down: DownPeriod[], from: number, to: number, segments: number, now = to): number[] {
  const width = (to - from) / segments;
  return Array.from({ length: segments }, (_, i) => {
    const a = from + i * width;
    const b = a + width;
    let downMs = 0;
    for (const p of down) {
      const start = Math.max(a, Date.parse(p.from));
      const end = Math.min(b, p.to === null ? now : Date.parse(p.to));
      downMs += Math.max(0, end - start);
    }
    return 1 - downMs / width;
  });
}
