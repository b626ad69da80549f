/** The health report: targets x observers, as GET /v1/clusters/{id}/health returns it. */
import * as z from "zod";
import { VoteState } from "./vote.js";

export const ObserverHealth = z.object({
  observer: z.string(),
  /** `unknown` when this observer has not voted yet. */
  state: VoteState,
  /** Whether the vote counts (heard recently enough). */
  fresh: z.boolean(),
  since: z.string().nullable(),
  receivedAt: z.string().nullable(),
  latencyMs: z.number().nullable(),
  error: z.string().nullable(),
  probes: z.number().int(),
  failures: z.number().int(),
});

export const TargetHealth = z.object({
  target: z.string(),
  check: z.string(),
  address: z.string(),
  port: z.number().int(),
  verdict: z.object({
    state: VoteState,
    since: z.string(),
    fresh: z.number().int(),
    required: z.number().int(),
  }),
  observers: z.array(ObserverHealth),
});
export type TargetHealth = z.infer<typeof TargetHealth>;

export const HealthReport = z
  .object({ cluster: z.string(), at: z.string(), targets: z.array(TargetHealth) })
  .meta({ id: "HealthReport" });
export type HealthReport = z.infer<typeof HealthReport>;
