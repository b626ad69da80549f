/**
 * The coordinator's lease reducer on a simulated network (lease-sim.ts): never two holders, an
 * epoch that only grows, and after the faults stop, the holder the reducer wants. The same runs
 * against mutants of src/core/lease.ts, made here from its source, must fail: a model that
 * cannot tell a broken reducer from the real one proves nothing.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LeaseConfig } from "../../src/core/lease.js";
import * as lease from "../../src/core/lease.js";
import { majorityConfig } from "../../src/core/majority.js";
import { seeds, underMutation } from "../shared/seeds.js";
import { type LeaseModule, type LeaseSimResult, simulateLease } from "./lease-sim.js";

const config: LeaseConfig = { ...majorityConfig(1000), preempt: true, preemptDelayMs: 0 };
const SEEDS = seeds(1000);

function runs(module: LeaseModule, seeds = SEEDS, cfg = config) {
  const totals: LeaseSimResult["counts"] = {
    handovers: 0,
    grants: 0,
    revokes: 0,
    releases: 0,
    offers: 0,
    crashes: 0,
    restarts: 0,
    switchovers: 0,
  };
  for (let seed = 1; seed <= seeds; seed++) {
    const r = simulateLease({
      seed,
      members: 2 + (seed % 3),
      lease: module,
      config: { ...cfg, preempt: seed % 4 !== 0 },
    });
    if (r.violation) return { seed, violation: r.violation, totals };
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.counts[k];
  }
  return { seed: null, violation: null, totals };
}

/** src/core copied aside with one change to one file, and lease.ts imported from the copy. */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function mutant(file: string, from: string, to: string): Promise<LeaseModule> {
  const core = path.join(import.meta.dirname, "../../src/core");
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-lease-mutant-"));
  dirs.push(dir);
  cpSync(core, dir, { recursive: true });
  const source = readFileSync(path.join(core, file), "utf8");
  expect(source.split(from).length - 1, `the mutated line is in ${file} once: ${from}`).toBe(1);
  writeFileSync(path.join(dir, file), source.replace(from, to));
  return (await import(path.join(dir, "lease.ts"))) as LeaseModule;
}

describe("the lease reducer on a simulated network", () => {
  it("keeps one holder through loss, delay, duplication, reordering, crashes, restarts, switchovers and drifting clocks, and settles", () => {
    const out = runs(lease);
    expect(out.violation, `seed ${out.seed}`).toBeNull();
    // Every path ran, many times over.
    for (const k of Object.keys(out.totals) as (keyof typeof out.totals)[])
      expect(out.totals[k], k).toBeGreaterThan(seeds(100));
  }, 120_000);

  const mutations: [string, string, string, string][] = [
    [
      "accepting a release whatever its epoch",
      "lease.ts",
      "released(s.voter, { candidate: input.node, epoch: input.epoch })",
      "released(s.voter, { candidate: input.node, epoch: s.voter.epoch })",
    ],
    [
      "letting any release clear the holder",
      "lease.ts",
      "released(s.voter, { candidate: input.node, epoch: input.epoch })",
      "{ ...s.voter, to: null }",
    ],
    [
      "promising the unit anew with no grace",
      "majority.ts",
      "s.to === null || now >= s.until + config.graceMs",
      "s.to === null || now >= s.until",
    ],
  ];
  // The mutation run's sandbox holds instrumented sources, not the lines these mutants change:
  // there (only there) they do not run; `npm test` always runs them.
  for (const [name, file, from, to] of mutations) {
    it.skipIf(underMutation)(
      `catches ${name}`,
      async () => {
        // Stops at the first violation: the seeds are not cut under the mutation run.
        const out = runs(await mutant(file, from, to), 1000);
        expect(out.violation).toMatch(/^two holders/);
      },
      120_000,
    );
  }
});
