/**
 * migrations/ is what drizzle-kit generates from src/storage/schema.ts, nothing more, nothing
 * less: generating again into a copy must find no change.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

const root = path.join(import.meta.dirname, "../..");

it("the schema and the committed migrations agree", () => {
  mkdirSync(path.join(root, ".wrangler"), { recursive: true });
  const copy = mkdtempSync(path.join(root, ".wrangler", "migrations-check-"));
  try {
    cpSync(path.join(root, "migrations"), copy, { recursive: true });
    const output = execFileSync(
      path.join(root, "node_modules/.bin/drizzle-kit"),
      [
        "generate",
        "--dialect",
        "sqlite",
        "--schema",
        "./src/storage/schema.ts",
        "--out",
        `./${path.relative(root, copy)}`,
      ],
      { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(output).toContain("No schema changes");
    expect(readdirSync(copy).sort()).toEqual(readdirSync(path.join(root, "migrations")).sort());
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
