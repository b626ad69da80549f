/** SMTP replies read as keepalived's SMTP_CHECK reads them. */
import { truncate } from "../judging.js";

/**
 * One SMTP reply from the text read so far: its code once the last line (`250 ok`, not
 * `250-more`) has arrived, or null while it is incomplete.
 */
export function smtpReply(text: string): { code: number; line: string } | null {
  const lines = text.split("\r\n");
  for (const line of lines.slice(0, -1)) {
    const match = line.match(/^(\d{3})( |$)/);
    if (match) return { code: Number(match[1]), line };
  }
  return null;
}

/** The expected code for each SMTP step, as keepalived's SMTP_CHECK expects them. */
export const SMTP_STEPS = [
  { step: "banner", expect: 220 },
  { step: "EHLO", expect: 250 },
  { step: "QUIT", expect: 221 },
] as const;

export function judgeSmtpStep(step: (typeof SMTP_STEPS)[number], reply: { code: number; line: string }): string | null {
  return reply.code === step.expect ? null : `${step.step} answered ${truncate(reply.line, 80)}`;
}
