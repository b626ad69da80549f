/**
 * The programs this host lets the control plane start: script checks, notify hooks and fault
 * hooks. The list lives in the agent's own config, so an admin token on the control plane is
 * not a root shell on every director; whatever is not listed is refused here, on the host,
 * with a reason the coordinator records as a `program.refused` event.
 *
 * An entry is a path (any arguments), or a path with the exact arguments, or with one
 * pattern per argument (each matched whole).
 */
import * as z from "zod";
import type { ProgramRefused } from "../../src/core/command.js";
import { Argument, type Exec, ExecPath } from "../../src/core/primitives.js";

const ArgPattern = z
  .string()
  .max(512)
  .refine(
    (source) => {
      try {
        new RegExp(anchored(source), "u");
        return true;
      } catch {
        return false;
      }
    },
    { error: "expected a regular expression" },
  );

export const AllowEntry = z.union([
  ExecPath,
  z
    .strictObject({
      path: ExecPath,
      /** Exactly these arguments. */
      args: z.array(Argument).max(32).optional(),
      /** One regular expression per argument, each matched against the whole argument. */
      argsPattern: z.array(ArgPattern).max(32).optional(),
    })
    .refine((e) => e.args === undefined || e.argsPattern === undefined, {
      error: "give args or argsPattern, not both",
    }),
]);
export type AllowEntry = z.infer<typeof AllowEntry>;

interface Rule {
  path: string;
  test(args: readonly string[]): boolean;
  describe: string;
}

export class Allowlist {
  private readonly rules: Rule[];

  constructor(entries: readonly AllowEntry[]) {
    this.rules = entries.map(ruleOf);
  }

  /** Null when `exec` may run; otherwise why not, in words an operator can act on. */
  refusal(exec: Exec): string | null {
    const rules = this.rules.filter((r) => r.path === exec.path);
    if (rules.length === 0) return `${exec.path} is not in the agent's allowlist`;
    if (rules.some((r) => r.test(exec.args))) return null;
    return `${exec.path} is in the agent's allowlist, but not with the arguments ${JSON.stringify(exec.args)}`;
  }

  /** One line per entry, for `vigil-agent check-config`. */
  describe(): string[] {
    return this.rules.map((r) => r.describe);
  }
}

function ruleOf(entry: AllowEntry): Rule {
  if (typeof entry === "string") return { path: entry, test: () => true, describe: `${entry} (any arguments)` };
  const { path, args, argsPattern } = entry;
  if (args !== undefined)
    return {
      path,
      test: (given) => given.length === args.length && given.every((a, i) => a === args[i]),
      describe: `${path} with exactly ${JSON.stringify(args)}`,
    };
  if (argsPattern !== undefined) {
    const patterns = argsPattern.map((p) => new RegExp(anchored(p), "u"));
    return {
      path,
      test: (given) => given.length === patterns.length && given.every((a, i) => patterns[i]?.test(a)),
      describe: `${path} with arguments matching ${JSON.stringify(argsPattern)}`,
    };
  }
  return { path, test: () => true, describe: `${path} (any arguments)` };
}

function anchored(source: string): string {
  return `^(?:${source})$`;
}

/** What the agent tells the coordinator about a refusal. */
export type Refusal = Omit<ProgramRefused, "type">;

/**
 * The allowlist in use: answers whether a program may run and reports each refusal to the
 * coordinator once (per subject and program, while the agent runs), so a check refused on
 * every interval still makes one event.
 */
export class ProgramGate {
  private readonly reported = new Set<string>();

  constructor(
    readonly allowlist: Allowlist,
    private readonly report: (refused: ProgramRefused) => Promise<string | null>,
    private readonly log: (line: string) => void,
  ) {}

  /** Null when the program may run; otherwise the reason, which has been logged and reported. */
  refusal(kind: Refusal["kind"], subject: string, state: Refusal["state"], program: Exec): string | null {
    const reason = this.allowlist.refusal(program);
    if (reason === null) return null;
    const refused: ProgramRefused = { type: "program.refused", kind, subject, state, program, reason };
    const key = JSON.stringify(refused);
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.log(`${subject}: refused to run ${program.path}: ${reason}`);
      this.report(refused).then(
        (id) => {
          // Not connected: report it again at the next refusal.
          if (id === null) this.reported.delete(key);
        },
        () => this.reported.delete(key),
      );
    }
    return reason;
  }
}
