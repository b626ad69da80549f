/**
 * The layer rules of ../shared DESIGN ("imports point one way"), checked by reading every
 * source file's imports with TypeScript's own pre-processor (so an import-shaped line inside
 * a template string is not taken for one). Type-only imports count: a cycle of types is
 * still a cycle for a reader. `npm test` runs it (test/core/layers.test.ts), which prints
 * every broken rule with the file and the import.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** Where an import points: a file of the tree (relative to the root) or a package / builtin. */
export type Target = { file: string } | { pkg: string };

export interface Rule {
  /** Short name, shown with each violation. */
  name: string;
  /** The files the rule is about. */
  applies: (file: string) => boolean;
  /** Null when the import is allowed, else why not. */
  refuses: (target: Target, file: string) => string | null;
}

const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);
const isFile = (t: Target): t is { file: string } => "file" in t;
const pkgName = (t: Target) => (isFile(t) ? null : t.pkg);

/** Files that are the Worker's entry points or Durable Object shells: they alone see the whole Env. */
const ENV_USERS = ["src/index.ts", "src/coordinator/coordinator.ts", "src/prober/prober.ts"];

export const RULES: Rule[] = [
  {
    name: "core is pure",
    applies: under("src/core"),
    refuses: (t) => {
      if (isFile(t)) return under("src/core")(t.file) ? null : "src/core imports nothing outside src/core";
      return t.pkg === "zod" ? null : "src/core imports no package but zod";
    },
  },
  {
    name: "edge holds transports",
    applies: under("edge"),
    refuses: (t) => {
      if (isFile(t))
        return under("edge")(t.file) || under("src/core")(t.file) ? null : "edge/ imports only edge/ and src/core";
      return t.pkg === "cloudflare:sockets" ? null : "edge/ imports no package but cloudflare:sockets";
    },
  },
  {
    name: "the agent stands alone",
    applies: under("host-agent/src"),
    refuses: (t) => {
      if (isFile(t))
        return under("host-agent/src")(t.file) || under("src/core")(t.file)
          ? null
          : "host-agent/ imports only host-agent/ and src/core";
      const name = t.pkg;
      return /^(cloudflare:|hono|drizzle-orm)/.test(name) ? `host-agent/ does not use ${name}` : null;
    },
  },
  {
    name: "the CLI stands alone",
    applies: under("cli"),
    refuses: (t) => {
      if (isFile(t))
        return under("cli")(t.file) || under("src/core")(t.file) ? null : "cli/ imports only cli/ and src/core";
      const name = t.pkg;
      return /^(cloudflare:|hono|drizzle-orm)/.test(name) ? `cli/ does not use ${name}` : null;
    },
  },
  {
    name: "the Worker does not reach into programs",
    applies: (f) => under("src")(f) && !under("src/core")(f),
    refuses: (t) =>
      isFile(t) && (under("host-agent")(t.file) || under("cli")(t.file))
        ? "the Worker does not import the agent or the CLI"
        : null,
  },
  {
    name: "one storage layer",
    applies: (f) => !under("src/storage")(f),
    refuses: (t) => {
      if (isFile(t) && t.file === "src/storage/schema.ts") return "only src/storage/ uses the drizzle schema";
      const name = pkgName(t);
      return name?.startsWith("drizzle-orm") ? "only src/storage/ uses drizzle-orm" : null;
    },
  },
  {
    name: "helpers take bindings, not Env",
    applies: (f) => under("src")(f) && !ENV_USERS.includes(f) && !under("src/api")(f) && !under("src/ui")(f),
    refuses: (t) =>
      isFile(t) && t.file === "src/env.ts"
        ? "only entry points (src/index.ts, src/api/, src/ui/, Durable Object shells) take the whole Env; pass the binding"
        : null,
  },
];

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const SKIP = new Set(["node_modules", "dist", ".wrangler", "test", "bench", "migrations", "examples", ".git"]);

/** Source files under `dirs` of `root`, relative to it. */
export function sourceFiles(root: string, dirs = ["src", "edge", "host-agent/src", "cli"]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    let entries: string[];
    try {
      entries = readdirSync(abs);
    } catch {
      return;
    }
    for (const name of entries) {
      if (SKIP.has(name)) continue;
      const child = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(root, child)).isDirectory()) walk(child);
      else if (SOURCE.test(name) && !name.endsWith(".d.ts")) out.push(child);
    }
  };
  for (const dir of dirs) walk(dir);
  return out.sort();
}

/** What a file imports, resolved: relative imports to files of the tree, the rest to packages. */
export function importsOf(root: string, file: string, files: ReadonlySet<string>): Target[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map(({ fileName }) => {
    if (!fileName.startsWith(".")) return { pkg: fileName };
    const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
    const stem = joined.replace(/\.(js|mjs|jsx)$/, "");
    for (const candidate of [joined, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.mjs`, `${stem}/index.ts`]) {
      if (files.has(candidate)) return { file: candidate };
    }
    return { file: joined };
  });
}

export interface Violation {
  rule: string;
  file: string;
  imports: string;
  why: string;
}

export interface LayerReport {
  violations: Violation[];
  /** Each import cycle once, as the files around it. */
  cycles: string[][];
  files: number;
}

export function checkLayers(root: string, rules = RULES, dirs?: string[]): LayerReport {
  const list = sourceFiles(root, dirs);
  const files = new Set(list);
  const graph = new Map<string, string[]>();
  const violations: Violation[] = [];
  for (const file of list) {
    const targets = importsOf(root, file, files);
    graph.set(
      file,
      targets.filter(isFile).map((t) => t.file),
    );
    for (const rule of rules) {
      if (!rule.applies(file)) continue;
      for (const target of targets) {
        const why = rule.refuses(target, file);
        if (why) violations.push({ rule: rule.name, file, imports: isFile(target) ? target.file : target.pkg, why });
      }
    }
  }
  return { violations, cycles: cycles(graph), files: list.length };
}

/** Strongly connected components of more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indices.get(w) as number));
    }
    if (low.get(v) !== indices.get(v)) return;
    const component: string[] = [];
    for (;;) {
      const w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || graph.get(v)?.includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return out;
}

/** One line per broken rule and per cycle, for a test's failure message. */
export function describe(report: LayerReport): string {
  return [
    ...report.violations.map((v) => `${v.file} imports ${v.imports}: ${v.why} [${v.rule}]`),
    ...report.cycles.map((c) => `import cycle: ${c.join(" -> ")}`),
  ].join("\n");
}
