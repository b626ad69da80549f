/** CPU time of process trees, read from /proc (Linux). */
import { readdirSync, readFileSync } from "node:fs";

/** CPU seconds used so far by `pid` and all its descendants. */
export function treeCpuSeconds(pid) {
  const stats = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  const inTree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of stats) {
      if (!inTree.has(p) && inTree.has(s.ppid)) {
        inTree.add(p);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const p of inTree) ticks += stats.get(p)?.ticks ?? 0;
  return ticks / 100;
}
