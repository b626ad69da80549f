/** Events: recorded state changes, newest first when listed. */
import * as z from "zod";
import { EVENT_TYPES, SEVERITIES } from "./vocabulary.js";

export const Event = z
  .object({
    id: z.string(),
    cluster: z.string(),
    type: z.enum(EVENT_TYPES),
    severity: z.enum(SEVERITIES),
    /** What the event is about: a target, VIP group or node name. */
    subject: z.string(),
    details: z.record(z.string(), z.unknown()),
    at: z.string(),
  })
  .meta({ id: "Event" });
export type Event = z.infer<typeof Event>;

export const EventQuery = z.strictObject({
  type: z.enum(EVENT_TYPES).optional(),
  subject: z.string().max(200).optional(),
  /** Same as subject: the target, VIP group or node the event is about. */
  target: z.string().max(200).optional(),
  /** Only events at or after this ISO time. */
  after: z.iso.datetime({ error: "expected an ISO 8601 time like 2026-01-31T12:00:00Z" }).optional(),
  /** Only events strictly before this ISO time, for paging back. */
  before: z.iso.datetime({ error: "expected an ISO 8601 time like 2026-01-31T12:00:00Z" }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type EventQuery = z.infer<typeof EventQuery>;
