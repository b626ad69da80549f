/**
 * What the keepalived importer says about what it did: notes with file:line, the first
 * director's word on each thing the cluster has once (to compare the others with), and the
 * reasons a merge is refused.
 */
import type { Where } from "./keepalived-syntax.js";

export interface Note {
  at: Where;
  message: string;
}

export const where = (at: Where) => `${at.file}:${at.line}`;

/** Two directors' files that cannot become one cluster; each reason names both places. */
export class ImportRefused extends Error {
  constructor(readonly reasons: Note[]) {
    super(reasons.map((r) => `${where(r.at)}: ${r.message}`).join("\n"));
  }
}

export class Notebook {
  readonly notes: Note[] = [];
  readonly refusals: Note[] = [];
  /** What the first director to say it said, and where: `what` -> value. */
  private readonly said = new Map<string, { value: string; at: Where }>();

  /** A note; the same one twice (a file both directors include) is said once. */
  note(at: Where, message: string): void {
    const same = (n: Note) => n.message === message && n.at.file === at.file && n.at.line === at.line;
    if (!this.notes.some(same)) this.notes.push({ at, message });
  }

  /** Records the first director's word without comparing (it was read before it could be). */
  first(what: string, value: string, at: Where): void {
    this.said.set(what, { value, at });
  }

  /**
   * The first director's word on something the cluster has once. A later director that says
   * otherwise gets a note naming both places, or, with `refuse`, the merge is refused.
   */
  agree(what: string, value: string, at: Where, refuse?: string): void {
    const first = this.said.get(what);
    if (!first) {
      this.said.set(what, { value, at });
      return;
    }
    if (first.value === value) return;
    const both = `${what} is ${value} here but ${first.value} at ${where(first.at)}`;
    if (refuse) this.refusals.push({ at, message: `${both}: ${refuse}` });
    else this.note(at, `${both}; Vigil has one for the cluster: ${first.value} kept`);
  }
}
