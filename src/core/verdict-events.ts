/**
 * Which events a change of verdict records. Losing quorum and regaining it are events of
 * their own; a target's first verdict is recorded only when it is not `up`, so a new cluster
 * does not announce every healthy server.
 */
import type { EventType, Severity } from "./vocabulary.js";
import type { VoteState } from "./vote.js";

export interface EventDraft {
  type: EventType;
  severity: Severity;
  subject: string;
  details: Record<string, unknown>;
}

type Known = Exclude<VoteState, "unknown">;

const TARGET_EVENT: Record<Known, { type: EventType; severity: Severity }> = {
  up: { type: "target.up", severity: "info" },
  down: { type: "target.down", severity: "critical" },
  degraded: { type: "target.degraded", severity: "warning" },
};

/**
 * @param lastKnown the target's last verdict other than `unknown`, or null if it never had one
 */
export function verdictEvents(
  target: string,
  from: VoteState,
  to: VoteState,
  lastKnown: Known | null,
  details: Record<string, unknown>,
): EventDraft[] {
  if (from === to) return [];
  if (to === "unknown") {
    return [{ type: "quorum.lost", severity: "warning", subject: target, details: { ...details, was: from } }];
  }
  const out: EventDraft[] = [];
  if (from === "unknown" && lastKnown !== null) {
    out.push({ type: "quorum.regained", severity: "info", subject: target, details });
  }
  const firstVerdict = lastKnown === null;
  if ((firstVerdict && to !== "up") || (!firstVerdict && to !== lastKnown)) {
    out.push({ ...TARGET_EVENT[to], subject: target, details: { ...details, from: lastKnown ?? "unknown", to } });
  }
  return out;
}
