/**
 * An event in words, as an operator would say it: "web/web1 down: 3 of 3 observers saw
 * status 503", "VI_1 moved lb1 -> lb2 in 1.4 s: lb1's lease expired". The dashboard's timeline shows
 * this with the raw details one click away.
 */

export interface WordedEvent {
  type: string;
  subject: string;
  details: Record<string, unknown>;
}

const num = (v: unknown) => (typeof v === "number" ? v : null);
const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);

export function eventWords(e: WordedEvent): string {
  const d = e.details;
  switch (e.type) {
    case "target.down":
    case "target.degraded": {
      const state = e.type === "target.down" ? "down" : "degraded";
      const seen =
        num(d.down) !== null && num(d.fresh) !== null ? `: ${d.down} of ${d.fresh} observers saw it ${state}` : "";
      const why = text(d.error) ? ` (${text(d.error)})` : "";
      return `${e.subject} ${state}${seen}${why}`;
    }
    case "target.up":
      return `${e.subject} up${num(d.healthy) !== null && num(d.fresh) !== null ? `: ${d.healthy} of ${d.fresh} observers see it up` : ""}`;
    case "quorum.lost":
      return `${e.subject}: too few fresh votes to decide (${d.fresh ?? 0} of ${d.required ?? "?"} needed)`;
    case "quorum.regained":
      return `${e.subject}: enough observers vote again`;
    case "vip.moved": {
      const to = text(d.to) ?? "?";
      const after = num(d.afterMs) === null ? "" : ` in ${((d.afterMs as number) / 1000).toFixed(1)} s`;
      const move = text(d.from) ? `${e.subject} moved ${d.from} -> ${to}${after}` : `${e.subject} held by ${to}`;
      return `${move}${text(d.reason) ? `: ${d.reason}` : ""}`;
    }
    case "lease.expired":
      return `${e.subject}: ${text(d.node) ?? "the holder"}'s lease expired (it stopped renewing)`;
    case "agent.online":
      return `${e.subject}'s agent connected`;
    case "agent.offline":
      return `${e.subject}'s agent went away`;
    case "command.failed":
      return `${e.subject}: a command failed${text(d.error) ? `: ${d.error}` : ""}`;
    case "program.refused":
      return `${text(d.node) ?? "an agent"} refused to run ${text(d.program) ?? "a program"} for ${e.subject}${text(d.reason) ? `: ${d.reason}` : ""}`;
    case "service.below_minimum":
      return `${e.subject}: fewer healthy real servers than its minimum`;
    case "service.restored":
      return `${e.subject}: enough healthy real servers again`;
    case "webhook.failing":
      return `webhook ${e.subject} keeps failing`;
    default:
      return `${e.type} ${e.subject}`;
  }
}
