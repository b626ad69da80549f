/** What the qemu guest scripts share (guest.ts, methods-guest.ts, failover-guest.ts): commands, HTTP from a namespace, tallies. */
import { execFileSync } from "node:child_process";

export const sh = (...argv: string[]) => execFileSync(argv[0] ?? "", argv.slice(1), { encoding: "utf8" });
/** A command in network namespace `ns`. */
export const inNs = (ns: string, ...argv: string[]) => sh("ip", "netns", "exec", ns, ...argv);
/** Lines of a bash script, stopping at the first that fails. */
export const bash = (lines: string[]) => sh("bash", "-ec", lines.join("\n"));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `n` HTTP GETs of `url` from namespace `ns`, one after the other: each answer's body, or "ERR". */
export function http(ns: string, url: string, n = 1): string[] {
  return Array.from({ length: n }, () => {
    try {
      return sh("ip", "netns", "exec", ns, "timeout", "5", "wget", "-q", "-O", "-", url).trim();
    } catch {
      return "ERR";
    }
  });
}

/** How many times each answer came. */
export function tally(answers: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[a] = (out[a] ?? 0) + 1;
  return out;
}
