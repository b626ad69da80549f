/**
 * Notify hooks (keepalived's notify_master / notify_backup / notify_fault / notify_stop). Each
 * runs with fixed arguments appended: group, new state, epoch. Only absolute paths listed in
 * the agent's own configuration run: a coordinator cannot make a host run anything else.
 */
import type { LeaseUnitSpec } from "../../src/core/command.js";
import type { NotifyState } from "../../src/core/vocabulary.js";
import type { Runner } from "./runner.js";

export function hookArgv(
  exec: { path: string; args: string[] },
  group: string,
  state: NotifyState,
  epoch: number,
): string[] {
  return [exec.path, ...exec.args, group, state, String(epoch)];
}

/** Runs the hooks for `state` in order; a refused or failing hook is logged and the next one runs. */
export async function runHooks(
  runner: Runner,
  hooks: LeaseUnitSpec["notify"],
  state: NotifyState,
  group: string,
  epoch: number,
  allowed: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  for (const set of hooks) {
    const exec = set[state];
    if (!exec) continue;
    if (!allowed.includes(exec.path)) {
      log(`${group}: notify ${state} hook ${exec.path} refused: not listed in the agent config's "hooks"`);
      continue;
    }
    const result = await runner.run(hookArgv(exec, group, state, epoch));
    if (result.code !== 0)
      log(`${group}: notify ${state} hook ${exec.path} exited ${result.code}: ${result.stderr.trim()}`);
  }
}
