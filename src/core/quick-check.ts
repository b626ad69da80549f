/**
 * A quick yes for the common case of a zod schema: `quickParse(schema, value)` answers
 * `{ success: true, data: value }` when the value is plainly valid, and otherwise what
 * `schema.safeParse(value)` answers, with zod naming what is wrong.
 *
 * Why: zod compiles its object checks only where code may be made from strings, which workerd
 * forbids, and its generic path was a third of the coordinator's time per vote batch and a
 * tenth of its time per agent frame. The quick check reads the schema's definition once and
 * covers the parts Vigil's messages are made of: strict objects, strings with lengths and
 * patterns (IPv4 addresses among them), finite and safe-integer numbers with bounds, booleans,
 * literals, enums, nullable, optional, arrays, string-keyed records, discriminated unions and
 * unions of plain values. Anything else in a schema
 * (refinements, defaults, transforms, other formats) makes its quick check always say no, so
 * zod decides. A value it passes is one zod accepts and returns unchanged: no key zod would
 * strip, no default it would fill in (test/core/quick-check.test.ts holds it to that).
 */
import type * as z from "zod";

type Check = (value: unknown) => boolean;

/** The parts of zod's internal definitions read here. */
interface Def {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, Schema>;
  catchall?: Schema;
  innerType?: Schema;
  element?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
  entries?: Record<string, unknown>;
  keyType?: Schema;
  valueType?: Schema;
  coerce?: boolean;
  format?: string;
  pattern?: RegExp;
}
interface CheckDef {
  check: string;
  minimum?: number;
  maximum?: number;
  length?: number;
  format?: string;
  pattern?: RegExp;
  value?: number;
  inclusive?: boolean;
}
interface Schema {
  _zod: { def: Def };
}

const compiled = new WeakMap<object, Check>();

export function quickParse<T extends z.ZodType>(schema: T, value: unknown): z.ZodSafeParseResult<z.output<T>> {
  return quickCheck(schema)(value) ? { success: true, data: value as z.output<T> } : schema.safeParse(value);
}

/** The schema's quick check, made once. */
export function quickCheck(schema: z.ZodType): Check {
  let check = compiled.get(schema);
  if (!check) {
    check = compile(schema as unknown as Schema) ?? (() => false);
    compiled.set(schema, check);
  }
  return check;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/** A check for one schema, or null when the schema has a part this does not cover. */
function compile(schema: Schema): Check | null {
  const def = schema._zod.def;
  if (def.coerce) return null;
  const checks = def.checks ?? [];
  switch (def.type) {
    case "string": {
      // A string format of its own (z.ipv4(), z.cidrv4()): only those that are a pattern and nothing more.
      const own = def.format === undefined ? [] : [patternCheck(def.format, def.pattern)];
      return all((v) => typeof v === "string", [...own, ...checks.map((c) => stringCheck(c._zod.def))]);
    }
    case "number": {
      const own = def.format === undefined ? [] : [numberCheck({ check: "number_format", format: def.format })];
      return all(
        (v) => typeof v === "number" && Number.isFinite(v),
        [...own, ...checks.map((c) => numberCheck(c._zod.def))],
      );
    }
    case "boolean":
      return checks.length === 0 ? (v) => typeof v === "boolean" : null;
    case "unknown":
    case "any":
      return checks.length === 0 ? () => true : null;
    case "literal": {
      const values = new Set(def.values);
      return (v) => values.has(v);
    }
    case "enum": {
      const values = new Set(Object.values(def.entries ?? {}));
      return (v) => values.has(v);
    }
    case "nullable": {
      const inner = def.innerType && compile(def.innerType);
      return inner ? (v) => v === null || inner(v) : null;
    }
    case "array":
      return arrayCheck(def, checks);
    case "object":
      return checks.length === 0 ? objectCheck(def) : null;
    case "record":
      return checks.length === 0 ? recordCheck(def) : null;
    case "union":
      return checks.length === 0 ? unionCheck(def) : null;
    default:
      return null;
  }
}

/** `first` and then every one of `rest`; null when any of them is not covered. */
function all(first: Check, rest: (Check | null)[]): Check | null {
  if (rest.some((c) => c === null)) return null;
  const checks = rest as Check[];
  return (v) => first(v) && checks.every((c) => c(v));
}

function lengthCheck(c: CheckDef): Check | null {
  const length = (v: unknown) => (v as { length: number }).length;
  if (c.check === "min_length") return (v) => length(v) >= (c.minimum as number);
  if (c.check === "max_length") return (v) => length(v) <= (c.maximum as number);
  if (c.check === "length_equals") return (v) => length(v) === c.length;
  return null;
}

/** String formats whose whole check in zod is their pattern (IPv6 ones are not: zod parses them further). */
const PATTERN_ONLY = new Set(["regex", "ipv4", "cidrv4"]);

function patternCheck(format: string, pattern: RegExp | undefined): Check | null {
  // A global or sticky pattern keeps state between tests: zod's business, not a quick yes.
  if (!PATTERN_ONLY.has(format) || !pattern || pattern.global || pattern.sticky) return null;
  return (v) => pattern.test(v as string);
}

function stringCheck(c: CheckDef): Check | null {
  if (c.check === "string_format") return patternCheck(c.format ?? "", c.pattern);
  return lengthCheck(c);
}

function numberCheck(c: CheckDef): Check | null {
  const bound = c.value as number;
  if (c.check === "number_format") return c.format === "safeint" ? (v) => Number.isSafeInteger(v) : null;
  if (c.check === "greater_than") return c.inclusive ? (v) => (v as number) >= bound : (v) => (v as number) > bound;
  if (c.check === "less_than") return c.inclusive ? (v) => (v as number) <= bound : (v) => (v as number) < bound;
  return null;
}

function arrayCheck(def: Def, checks: NonNullable<Def["checks"]>): Check | null {
  // An optional element would let a hole through as undefined.
  if (!def.element || def.element._zod.def.type === "optional") return null;
  const element = compile(def.element);
  const lengths = checks.map((c) => lengthCheck(c._zod.def));
  if (!element || lengths.some((c) => c === null)) return null;
  const elements: Check = (v) => {
    if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
    // By index, not every(): a hole is undefined to zod, not skipped.
    for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
    return true;
  };
  return all(elements, lengths);
}

/**
 * A plain object with no key the shape does not name (zod would refuse or strip it), every
 * required key there and every optional one absent or valid (present as undefined: zod's call).
 */
function objectCheck(def: Def): Check | null {
  const catchall = def.catchall?._zod.def.type;
  if (catchall !== undefined && catchall !== "never") return null;
  const fields: { key: string; optional: boolean; check: Check }[] = [];
  for (const [key, field] of Object.entries(def.shape ?? {})) {
    const fieldDef = field._zod.def;
    const optional = fieldDef.type === "optional";
    const check = compile(optional ? (fieldDef.innerType as Schema) : field);
    if (!check) return null;
    fields.push({ key, optional, check });
  }
  return (v) => {
    if (!isPlainObject(v)) return false;
    let present = 0;
    for (const { key, optional, check } of fields) {
      if (!(key in v)) {
        if (optional) continue;
        return false;
      }
      const value = v[key];
      if (value === undefined || !check(value)) return false;
      present += 1;
    }
    let keys = 0;
    for (const _ in v) keys += 1;
    return keys === present;
  };
}

function recordCheck(def: Def): Check | null {
  const key = def.keyType && compile(def.keyType);
  const value = def.valueType && compile(def.valueType);
  if (!key || !value || def.keyType?._zod.def.type !== "string") return null;
  return (v) => {
    if (!isPlainObject(v)) return false;
    for (const k in v) if (!key(k) || v[k] === undefined || !value(v[k])) return false;
    return true;
  };
}

/** Schemas whose output is their input itself: any option of a union of them that passes will do. */
const LEAVES = new Set(["string", "number", "boolean", "literal", "enum"]);

/**
 * A discriminated union: the option its discriminator's value names decides. A union of plain
 * values (an IPv4 or IPv6 address): any option that passes, the others left to zod.
 */
function unionCheck(def: Def): Check | null {
  const tag = def.discriminator;
  if (tag === undefined) {
    const options = def.options ?? [];
    if (!options.every((o) => LEAVES.has(o._zod.def.type))) return null;
    const covered = options.map(compile).filter((c) => c !== null);
    return covered.length === 0 ? null : (v) => covered.some((c) => c(v));
  }
  const byTag = new Map<unknown, Check>();
  for (const option of def.options ?? []) {
    const literal = option._zod.def.shape?.[tag]?._zod.def;
    if (literal?.type !== "literal") return null;
    // An option this does not cover is left to zod; the others still get their quick yes.
    const check = compile(option) ?? (() => false);
    for (const value of literal.values ?? []) {
      if (byTag.has(value)) return null;
      byTag.set(value, check);
    }
  }
  return (v) => isPlainObject(v) && (byTag.get(v[tag]) ?? (() => false))(v);
}
