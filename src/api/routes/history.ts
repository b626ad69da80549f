/**
 * History: a target's figures per observer over time (from the coordinator, src/core/history.ts)
 * with its down periods, and who held a VIP group when (from the events). Reads only.
 */
import * as z from "zod";
import { fieldIssue } from "../../core/errors.js";
import { DAY_MS, HISTORY_KEPT_DAYS } from "../../core/history.js";
import { DownPeriod, downPeriods, Holding, holdings } from "../../core/history-periods.js";
import { leaseUnits } from "../../core/lease-units.js";
import { targetsOf } from "../../core/targets.js";
import { listEvents } from "../../storage/events.js";
import { loadCluster } from "../cluster-ops.js";
import { param } from "../context.js";
import { ApiError } from "../errors.js";
import type { Router } from "../router.js";

const Time = z.iso.datetime({ error: "expected an ISO 8601 time like 2026-01-31T12:00:00Z" });

const HistoryQuery = z.strictObject({
  /** Default: 24 hours before `to`. */
  from: Time.optional(),
  /** Default: now. */
  to: Time.optional(),
  /** Seconds per point, a whole number of minutes; default 60 up to a day, 3600 beyond. */
  step: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .refine((s) => s % 60 === 0, { error: "expected a whole number of minutes in seconds (60, 300, 3600, ...)" })
    .optional(),
});

const Point = z.object({
  at: z.iso.datetime(),
  probes: z.number().int(),
  failures: z.number().int(),
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
});

export const TargetHistory = z
  .object({
    target: z.string(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    step: z.number().int(),
    observers: z.array(z.object({ observer: z.string(), points: z.array(Point) })),
    down: z.array(DownPeriod),
  })
  .meta({ id: "TargetHistory" });

export const GroupHistory = z
  .object({ group: z.string(), from: z.iso.datetime(), to: z.iso.datetime(), holders: z.array(Holding) })
  .meta({ id: "GroupHistory" });

/** The range a query asks for, checked: answers from, to (ms) and the step (s). */
function range(query: z.infer<typeof HistoryQuery>, now: number): { from: number; to: number; step: number } {
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - DAY_MS;
  if (from >= to) throw ApiError.fromIssues([fieldIssue("invalid_field", ["from"], "expected a time before to")]);
  if (to - from > HISTORY_KEPT_DAYS * DAY_MS)
    throw ApiError.fromIssues([
      fieldIssue("invalid_field", ["from"], `expected at most ${HISTORY_KEPT_DAYS} days before to`),
    ]);
  return { from, to, step: query.step ?? (to - from <= DAY_MS ? 60 : 3600) };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function registerHistory(router: Router): void {
  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/targets/:target/history",
      operationId: "targetHistory",
      summary: "A target's probes, failures and latency (p50, p95) per observer over time, and when it was down",
      tag: "health",
      role: "read",
      query: HistoryQuery,
      response: TargetHistory,
    },
    async (c, { query }) => {
      const cluster = param(c, "cluster");
      const target = param(c, "target");
      const { doc } = await loadCluster(c.get("db"), cluster);
      if (!targetsOf(doc).some((t) => t.id === target))
        throw new ApiError("not_found", `no target ${target} in cluster ${cluster} (a target is service/real-server)`);
      const { from, to, step } = range(query, Date.now());
      const [series, events] = await Promise.all([
        c.env.COORDINATOR.getByName(cluster).targetHistory(target, from, to, step * 1000),
        listEvents(c.get("db"), cluster, { subject: target, before: iso(to), limit: 500 }),
      ]);
      return c.json({
        target,
        from: iso(from),
        to: iso(to),
        step,
        observers: series.map((s) => ({
          observer: s.observer,
          points: s.points.map((p) => ({
            at: iso(p.t),
            probes: p.probes,
            failures: p.failures,
            p50Ms: p.p50,
            p95Ms: p.p95,
          })),
        })),
        down: downPeriods(events, from, to),
      });
    },
  );

  router.add(
    {
      method: "get",
      path: "/v1/clusters/:cluster/vip-groups/:name/history",
      operationId: "vipGroupHistory",
      summary: "Who held a VIP group (or sync group) from when to when, and why it moved",
      tag: "leases",
      role: "read",
      query: HistoryQuery.omit({ step: true }),
      response: GroupHistory,
    },
    async (c, { query }) => {
      const cluster = param(c, "cluster");
      const group = param(c, "name");
      const { doc } = await loadCluster(c.get("db"), cluster);
      if (!leaseUnits(doc).some((u) => u.name === group))
        throw new ApiError("not_found", `no VIP group or sync group named ${group} in cluster ${cluster}`);
      const { from, to } = range(query, Date.now());
      const events = await listEvents(c.get("db"), cluster, { subject: group, before: iso(to), limit: 500 });
      return c.json({ group, from: iso(from), to: iso(to), holders: holdings(events, from) });
    },
  );
}
