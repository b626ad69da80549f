/** What one attempt of a delivery came to, whatever carried it. */
import type { AttemptOutcome } from "../core/webhook-retry.js";

export interface Sent {
  /** The HTTP status, or the relay's last SMTP reply code; null when there was no answer. */
  status: number | null;
  /** What went wrong, for the attempt log; null when nothing did. */
  error: string | null;
  outcome: AttemptOutcome;
}
