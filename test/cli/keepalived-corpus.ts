/** The keepalived corpus: one directory per case, its directors' files lb1.conf, lb2.conf, ... */
import { readdirSync } from "node:fs";
import path from "node:path";

export const corpus = path.join(import.meta.dirname, "keepalived");

/** Every case but `broken` (files that must fail). */
export const cases = readdirSync(corpus).filter((d) => d !== "broken");

/** A case's directory and its directors' files, in order. */
export function caseFiles(name: string): { dir: string; files: string[] } {
  const dir = path.join(corpus, name);
  const files = readdirSync(dir)
    .filter((f) => /^lb\d+\.conf$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  return { dir, files };
}
