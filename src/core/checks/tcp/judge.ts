/** What a TCP check's banner exchange means. */
import type { ProbeResult } from "../../rise-fall.js";
import { down, truncate } from "../judging.js";

/** A TCP check's optional banner exchange: the reply must start with `expect`. */
export function judgeTcpReply(expect: string | undefined, reply: string, latencyMs: number): ProbeResult {
  if (expect !== undefined && !reply.startsWith(expect)) {
    return down(`reply "${truncate(reply, 40)}" does not start with "${truncate(expect, 40)}"`, latencyMs);
  }
  return { state: "up", reason: null, latencyMs };
}
