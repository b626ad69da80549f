/**
 * The layers hold: every rule of test/layers/layers.ts on the real tree, no import cycle; and
 * the check does catch each kind of break, shown on a small tree written for the purpose.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, describe as group, it } from "vitest";
import { checkLayers, describe } from "../layers/layers.js";

const root = path.join(import.meta.dirname, "../..");

group("layers", () => {
  it("the tree breaks no layer rule and has no import cycle", () => {
    const report = checkLayers(root);
    expect(report.files).toBeGreaterThan(100);
    expect(describe(report)).toBe("");
  });

  const bad = mkdtempSync(path.join(tmpdir(), "vigil-layers-"));
  afterAll(() => rmSync(bad, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(bad, file)), { recursive: true });
    writeFileSync(path.join(bad, file), text);
  };
  write(
    "src/core/quorum.ts",
    'import * as z from "zod";\nimport { Hono } from "hono";\nimport { x } from "../storage/rows.js";\n',
  );
  write("src/storage/rows.ts", 'import { eq } from "drizzle-orm";\nexport const x = 1;\n');
  write("src/storage/schema.ts", "export const t = 1;\n");
  write("src/env.ts", "export interface Env {}\n");
  write(
    "src/webhooks/deliver.ts",
    'import type { Env } from "../env.js";\nimport { t } from "../storage/schema.js";\n',
  );
  write("edge/probes.ts", 'import { connect } from "cloudflare:sockets";\nimport type { Env } from "../src/env.js";\n');
  write(
    "host-agent/src/main.ts",
    'import { probe } from "../../edge/probes.js";\nconst s = `\nimport { a } from "../../src/api/app.js";\n`;\n',
  );
  write("src/api/auth.ts", 'import type { AppEnv } from "./context.js";\n');
  write("src/api/context.ts", 'import type { Principal } from "./auth.js";\n');

  it("catches each kind of break in a tree written to break them", () => {
    const report = checkLayers(bad);
    const found = report.violations.map((v) => `${v.file} -> ${v.imports} [${v.rule}]`);
    expect(found.sort()).toEqual(
      [
        "src/core/quorum.ts -> hono [core is pure]",
        "src/core/quorum.ts -> src/storage/rows.ts [core is pure]",
        "edge/probes.ts -> src/env.ts [edge holds transports]",
        "host-agent/src/main.ts -> edge/probes.ts [the agent stands alone]",
        "src/webhooks/deliver.ts -> src/env.ts [helpers take bindings, not Env]",
        "src/webhooks/deliver.ts -> src/storage/schema.ts [one storage layer]",
      ].sort(),
    );
    // The import inside a template string is text, not an import.
    expect(found.some((f) => f.includes("src/api/app.ts"))).toBe(false);
    expect(report.cycles).toEqual([["src/api/auth.ts", "src/api/context.ts"]]);
    expect(describe(report)).toContain("import cycle: src/api/auth.ts -> src/api/context.ts");
  });
});
