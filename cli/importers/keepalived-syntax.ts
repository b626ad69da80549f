/**
 * keepalived.conf syntax: words and "quoted strings", blocks in braces, comments from `#` or
 * `!` to the end of the line, and `include` with globs (relative to the including file).
 * Every statement keeps the file, line and column it came from; a syntax error names them.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface Where {
  file: string;
  line: number;
  col: number;
}

export interface Stmt {
  key: string;
  args: string[];
  at: Where;
  /** Present when the statement opens a block. */
  block?: Stmt[];
}

export class ConfigSyntaxError extends Error {
  constructor(
    readonly where: Where,
    message: string,
  ) {
    super(`${where.file}:${where.line}:${where.col}: ${message}`);
  }
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "is a directory",
};

/** A file that could not be read at all: `cannot read FILE: no such file`. */
export class ConfigReadError extends Error {
  constructor(file: string, err: NodeJS.ErrnoException) {
    super(`cannot read ${file}: ${READ_ERRORS[err.code ?? ""] ?? err.code ?? err.message}`);
  }
}

type Token = { kind: "word" | "{" | "}" | "\n"; value: string; at: Where };

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const at = (): Where => ({ file, line, col });
  const advance = (n = 1) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === "\n") {
        line += 1;
        col = 1;
      } else col += 1;
      i += 1;
    }
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\n") {
      out.push({ kind: "\n", value: "\n", at: at() });
      advance();
    } else if (c === " " || c === "\t" || c === "\r") advance();
    else if (c === "#" || c === "!") {
      while (i < text.length && text[i] !== "\n") advance();
    } else if (c === "{" || c === "}") {
      out.push({ kind: c, value: c, at: at() });
      advance();
    } else if (c === '"') {
      const start = at();
      const end = text.indexOf('"', i + 1);
      const newline = text.indexOf("\n", i + 1);
      if (end < 0 || (newline >= 0 && newline < end)) throw new ConfigSyntaxError(start, "this quote is never closed");
      out.push({ kind: "word", value: text.slice(i + 1, end), at: start });
      advance(end - i + 1);
    } else {
      const start = at();
      let j = i;
      while (j < text.length && !/[\s{}"]/.test(text[j] as string)) j += 1;
      out.push({ kind: "word", value: text.slice(i, j), at: start });
      advance(j - i);
    }
  }
  return out;
}

/** Parses one file's text into statements (includes are not followed here). */
export function parseText(text: string, file: string): Stmt[] {
  const tokens = tokenize(text, file);
  let i = 0;
  const block = (opener: Token | null): Stmt[] => {
    const stmts: Stmt[] = [];
    let current: Stmt | null = null;
    while (i < tokens.length) {
      const t = tokens[i] as Token;
      i += 1;
      if (t.kind === "\n") {
        current = null;
      } else if (t.kind === "word") {
        if (current) current.args.push(t.value);
        else {
          current = { key: t.value, args: [], at: t.at };
          stmts.push(current);
        }
      } else if (t.kind === "{") {
        // `{` opens a block for the statement on its line, or the one just before it.
        const owner = current ?? stmts[stmts.length - 1];
        if (!owner || owner.block) throw new ConfigSyntaxError(t.at, "a block must follow a keyword");
        owner.block = block(t);
        current = null;
      } else {
        if (!opener) throw new ConfigSyntaxError(t.at, "this } closes nothing");
        return stmts;
      }
    }
    if (opener) throw new ConfigSyntaxError(opener.at, "this { is never closed");
    return stmts;
  };
  return block(null);
}

/** Glob to RegExp for one path segment: `*`, `?` and `[...]`. */
function segment(pattern: string): RegExp {
  let re = "";
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", k + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${pattern
          .slice(k + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        k = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The files a glob names, sorted, as keepalived's glob(3) would give them. */
export function expandGlob(pattern: string): string[] {
  const absolute = path.isAbsolute(pattern);
  const parts = pattern.split("/").filter((p) => p !== "");
  let paths = [absolute ? "/" : "."];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?[]/.test(part)) {
        next.push(path.join(dir, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        names = [];
      }
      const re = segment(part);
      for (const name of names.sort()) if (re.test(name) && !name.startsWith(".")) next.push(path.join(dir, name));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** Parses a file and every file it includes, in place of the include statements. */
export function parseFile(file: string, seen: string[] = []): Stmt[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigReadError(file, err as NodeJS.ErrnoException);
  }
  const expand = (stmts: Stmt[]): Stmt[] =>
    stmts.flatMap((s) => {
      if (s.key !== "include") return [{ ...s, ...(s.block ? { block: expand(s.block) } : {}) }];
      const [pattern] = s.args;
      if (!pattern) throw new ConfigSyntaxError(s.at, "include needs a file or a glob");
      const resolved = path.isAbsolute(pattern) ? pattern : path.join(path.dirname(file), pattern);
      const files = expandGlob(resolved);
      return files.flatMap((f) => {
        if (seen.includes(path.resolve(f)) || path.resolve(f) === path.resolve(file))
          throw new ConfigSyntaxError(s.at, `include loops back to ${f}`);
        return parseFile(f, [...seen, path.resolve(file)]);
      });
    });
  return expand(parseText(text, file));
}
