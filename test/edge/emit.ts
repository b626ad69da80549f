/** Events as the coordinator records them (a D1 row), queued for the subscriptions. */
import { env } from "cloudflare:workers";
import type { EventType, Severity } from "../../src/core/vocabulary.js";

export async function emit(
  cluster: string,
  type: EventType,
  subject: string,
  severity: Severity = "critical",
  details: Record<string, unknown> = { from: "up", to: "down" },
): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(id, cluster, type, severity, subject, JSON.stringify(details), new Date().toISOString())
    .run();
  await env.WEBHOOKS.send({ kind: "events", ids: [id] });
  return id;
}
