/**
 * Notify hooks (keepalived's notify_master / notify_backup / notify_fault / notify_stop). Each
 * runs with fixed arguments appended: group, new state, epoch. Only programs the agent's own
 * allowlist names run (checked against the arguments the control plane gave): a coordinator
 * cannot make a host run anything else.
 */
import type { LeaseUnitSpec } from "../../src/core/command.js";
import type { NotifyState } from "../../src/core/vocabulary.js";
import type { ProgramGate } from "./allowlist.js";
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
  gate: ProgramGate,
  log: (line: string) => void,
): Promise<void> {
  for (const set of hooks) {
    const exec = set[state];
    if (!exec) continue;
    if (gate.refusal("hook", group, state, exec) !== null) continue;
    const result = await runner.run(hookArgv(exec, group, state, epoch));
    if (result.code !== 0)
      log(`${group}: notify ${state} hook ${exec.path} exited ${result.code}: ${result.stderr.trim()}`);
  }
}
