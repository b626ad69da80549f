/** The keepalived corpus: one directory per case, its directors' files lb1.conf, lb2.conf, ... */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { importKeepalived } from "../../cli/importers/keepalived.js";

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

/** Imports one director's keepalived.conf of `lines`, written to a scratch lb1.conf. */
export function importLines(lines: string[], cluster?: string): ReturnType<typeof importKeepalived> {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-ka-"));
  try {
    const file = path.join(dir, "lb1.conf");
    writeFileSync(file, lines.join("\n"));
    return importKeepalived([file], cluster ? { cluster } : {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
