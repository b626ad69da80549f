#!/usr/bin/env node
/**
 * bench/history: a week of minute history for 1,000 targets x 3 observers through the
 * coordinator's history keeper on workerd's SQLite. Reports the rows written (and what a month
 * of them costs at $1 per million rows, the price of D1 and Durable Object SQLite alike), the
 * storage used, and the time to read a 24 h chart. Per-cluster rows (one a minute) do not grow
 * with targets: the monthly figure is for this many targets in one cluster, scaled to 1,000. Usage: node bench/history/run.mjs [targets] [days].
 * Writes bench/results/history.json.
 */
import { report, runWorkload } from "../workerd-run.mjs";

const [targets = 1000, days = 7] = process.argv.slice(2).map(Number);
const began = Date.now();
const r = await runWorkload("bench/history/workload.bench-test.ts", { targets, days });
const seconds = (Date.now() - began) / 1000;
const perMonth = (r.rows * 30) / days;
const dollars = perMonth / 1e6;
/** The budget is per 1,000 targets: judged at 1,000 or more, where one cluster's minute rows are a small share. */
const judged = targets >= 1000;
report(
  "history",
  [
    [`rows written, ${days} days of ${targets} targets x 3 observers`, r.rows],
    ...Object.entries(r.written).map(([kind, n]) => [`  ${kind}`, n]),
    ["rows written per month", perMonth],
    [
      `cost of those rows per month ($1 per million), ${targets} targets ($)`,
      dollars,
      judged ? `< ${targets / 1000}` : "-",
      judged ? dollars < targets / 1000 : null,
    ],
    ["storage used (MB)", r.bytes / 1e6],
    [`24 h chart at 1 min through the API, median (ms; ${r.day.points} points)`, r.day.ms],
    [`7 day chart at 1 h through the API, median (ms; ${r.week.points} points)`, r.week.ms],
    ["the whole run, workerd start and feeding included (s)", seconds],
  ],
  { raw: r },
);
if (judged && !(dollars < targets / 1000)) process.exitCode = 1;
