/**
 * bench/failover's LVS rows: a director dies under a client's long-lived TCP connection, with
 * IPVS connection sync on and off, in the qemu guest (test/ipvs/lvs-failover.mjs): Vigil (the
 * built agent, lease TTL 1 s: the guest runs under software emulation, where each ipvsadm call
 * takes a few hundred ms) and keepalived (advert_int 1, lvs_sync_daemon), in the same guest
 * set-up. Each system gets one guest, and `runs` rounds with sync on and as many with it off,
 * alternating.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { lvsFailover } from "../../test/ipvs/lvs-failover.mjs";
import { median } from "../../test/lab/measure.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function measureLvs(systems, runs) {
  execFileSync("node", [path.join(root, "host-agent/build.mjs")]);
  const rows = [];
  for (const system of systems) {
    const plan = Array.from({ length: 2 * runs }, (_, i) => i % 2 === 0);
    const { rounds } = await lvsFailover(system, plan, { leaseTtl: 1 });
    for (const sync of [true, false]) {
      const mine = rounds.filter((r) => r.sync === sync);
      rows.push({
        system,
        sync,
        failoverMs: mine.map((r) => r.claimMs),
        gapMs: mine.map((r) => r.gapMs),
        kept: mine.filter((r) => r.survived).length,
        reset: mine.filter((r) => r.error === "ECONNRESET").length,
        sameTable: mine.filter((r) => r.sameTable).length,
        runs: mine.length,
      });
    }
    console.log(`  ${system} / LVS: done`);
  }
  return rows;
}

const fmt = (values) =>
  `${Math.round(median(values))} (${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))})`;

/** Prints the rows and answers the targets Vigil missed. */
export function printLvs(rows) {
  console.log(
    "\nLVS, a director dies under a client's TCP connection (qemu guest, software-emulated; direct routing;\n" +
      "daemon SIGKILL and link down; Vigil lease TTL 1 s, keepalived advert_int 1); ms as median (min-max)\n",
  );
  console.log(
    `${"connection sync".padEnd(18)}${"system".padEnd(12)}${"failover ms".padEnd(20)}${"client gap ms".padEnd(20)}${"kept".padEnd(8)}${"reset".padEnd(8)}same table`,
  );
  for (const sync of [true, false])
    for (const r of rows.filter((x) => x.sync === sync))
      console.log(
        `${(sync ? "on" : "off").padEnd(18)}${r.system.padEnd(12)}${fmt(r.failoverMs).padEnd(20)}${fmt(r.gapMs).padEnd(20)}${`${r.kept}/${r.runs}`.padEnd(8)}${`${r.reset}/${r.runs}`.padEnd(8)}${r.sameTable}/${r.runs}`,
      );
  const missed = [];
  for (const r of rows.filter((x) => x.system === "vigil")) {
    const ok = r.sync ? r.kept === r.runs && r.sameTable === r.runs : r.reset === r.runs && r.sameTable === r.runs;
    const what = r.sync
      ? `LVS sync on: connection kept ${r.kept}/${r.runs}, same table ${r.sameTable}/${r.runs} (target: every run)`
      : `LVS sync off: reset ${r.reset}/${r.runs}, same table ${r.sameTable}/${r.runs} (as without sync: every run)`;
    console.log(`${ok ? "ok  " : "MISS"} ${what}`);
    if (!ok) missed.push(`LVS sync ${r.sync ? "on" : "off"}`);
  }
  return missed;
}
