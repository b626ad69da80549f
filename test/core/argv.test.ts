/** Binding an option's value to it, as getopt does, before node:util parseArgs reads the words. */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bindOptionValues } from "../../src/core/argv.js";

const OPTIONS = {
  "release-key": { type: "string" },
  out: { type: "string", short: "o" },
  group: { type: "string", multiple: true },
  json: { type: "boolean" },
} as const;

const parse = (args: string[]) =>
  parseArgs({ args: bindOptionValues(args, OPTIONS), options: OPTIONS, allowPositionals: true, strict: true });

const KEY = "-Xv3kq0mT9c2Gm1p_8rP4s5uVw6xYz7A-bCdEfGhIj0";

describe("bindOptionValues", () => {
  it.each([
    [["--release-key", KEY], [`--release-key=${KEY}`]],
    [
      ["-o", "-out.yaml", "a"],
      ["-o-out.yaml", "a"],
    ],
    [
      ["--group", "--json", "--json"],
      ["--group=--json", "--json"],
    ],
    [
      ["--release-key=x", "-y"],
      ["--release-key=x", "-y"],
    ],
    [
      ["--json", "-z"],
      ["--json", "-z"],
    ],
    [["--release-key"], ["--release-key"]],
    [
      ["a", "--", "--release-key", "-k"],
      ["a", "--", "--release-key", "-k"],
    ],
    [
      ["--unknown", "-v"],
      ["--unknown", "-v"],
    ],
  ])("%j becomes %j", (args, bound) => {
    expect(bindOptionValues(args, OPTIONS)).toEqual(bound);
  });

  it("lets parseArgs read a base64url key that starts with a dash, which it refuses on its own", () => {
    const words = ["--release-key", KEY, "--json"];
    expect(() => parseArgs({ args: words, options: OPTIONS, strict: true })).toThrow(/ambiguous/);
    expect(parse(words).values).toEqual({ "release-key": KEY, json: true });
  });

  it("still has parseArgs name an option given no value", () => {
    expect(() => parse(["--json", "--release-key"])).toThrow(/--release-key/);
  });

  it("gives back every value as written, whatever its first character, for random words", () => {
    const value = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    fc.assert(
      fc.property(value, fc.array(value, { maxLength: 4 }), fc.boolean(), (key, groups, json) => {
        const args = ["--release-key", key, ...groups.flatMap((g) => ["--group", g]), ...(json ? ["--json"] : [])];
        const { values } = parse(args);
        expect(values["release-key"]).toBe(key);
        expect(values.group ?? []).toEqual(groups);
        expect(values.json).toBe(json ? true : undefined);
      }),
      { numRuns: 2000 },
    );
  });
});
