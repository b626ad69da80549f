/**
 * Statements that write or delete many rows of one table at once, whatever their number: the
 * rows travel as one JSON parameter per slice, unpacked by SQLite's `json_each`. A deployed
 * Worker invocation may run at most 1,000 D1 queries (50 on the free plan), a statement may
 * bind at most 100 parameters, and a string may be at most 2 MB, so a cluster of 10,000 real
 * servers is a few statements of two parameters each rather than 10,000 of eight.
 */
import { getTableColumns, type Query, type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteColumn, type SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./db.js";

const dialect = new SQLiteAsyncDialect();

/** Something drizzle can render: a builder (insert, update, delete) or a query written with `sql`. */
export type Statement = SQL | { toSQL(): Query };

/**
 * Runs `statements` as one D1 batch (one transaction). Drizzle's own batch cannot take a `sql`
 * query with parameters, so each is rendered here and prepared on the D1 binding.
 */
export async function runBatch(db: Db, statements: readonly Statement[]): Promise<void> {
  const d1 = db.$client;
  const prepared = statements.map((s) => {
    const { sql: text, params } = "toSQL" in s ? s.toSQL() : dialect.sqlToQuery(s);
    return d1.prepare(text).bind(...params);
  });
  if (prepared.length > 0) await d1.batch(prepared);
}

/** Bytes of JSON per statement: well under D1's 2 MB for one string, and its 100 KB of SQL text is not touched. */
export const SLICE_BYTES = 512 * 1024;

/** `items` as JSON arrays of at most `limit` bytes each (one item longer than that is a slice of its own). */
export function jsonSlices(items: readonly unknown[], limit = SLICE_BYTES): string[] {
  const encoder = new TextEncoder();
  const slices: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const part = JSON.stringify(item);
    const size = encoder.encode(part).length + 1;
    if (parts.length > 0 && bytes + size > limit) {
      slices.push(`[${parts.join(",")}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(part);
    bytes += size;
  }
  if (parts.length > 0) slices.push(`[${parts.join(",")}]`);
  return slices;
}

const list = (items: (SQL | ReturnType<typeof sql.identifier>)[]) => sql.join(items, sql`, `);
/** The i-th element of json_each's current array, as SQLite stores it. */
const element = (i: number) => sql.raw(`value ->> ${i}`);

/**
 * Inserts `rows` (objects keyed by the table's property names, as drizzle's insert takes
 * them), or on a clash of `key` updates every other column given. Values go through each
 * column's own mapping (JSON columns become text, booleans integers), as drizzle's insert does.
 */
export function upsertMany(
  table: SQLiteTable,
  key: readonly SQLiteColumn[],
  rows: readonly Record<string, unknown>[],
): SQL[] {
  const first = rows[0];
  if (!first) return [];
  const columns = Object.entries(getTableColumns(table)).filter(([property]) => property in first);
  const values = rows.map((row) =>
    columns.map(([property, column]) => {
      const value = row[property];
      return value === undefined || value === null ? null : column.mapToDriverValue(value);
    }),
  );
  const names = list(columns.map(([, c]) => sql.identifier(c.name)));
  const keyNames = new Set(key.map((c) => c.name));
  const updates = columns
    .filter(([, c]) => !keyNames.has(c.name))
    .map(([, c]) => sql`${sql.identifier(c.name)} = excluded.${sql.identifier(c.name)}`);
  const onConflict = updates.length > 0 ? sql`do update set ${list(updates)}` : sql`do nothing`;
  return jsonSlices(values).map(
    (slice) =>
      // `where true` tells SQLite's parser the upsert clause is not part of the select.
      sql`insert into ${table} (${names}) select ${list(columns.map((_, i) => element(i)))} from json_each(${slice}) where true on conflict (${list(key.map((c) => sql.identifier(c.name)))}) ${onConflict}`,
  );
}

/** Deletes the rows of `table` in `scope` whose `key` columns equal one of `keys` (each a tuple in the order of `key`). */
export function deleteMany(
  table: SQLiteTable,
  scope: SQL,
  key: readonly SQLiteColumn[],
  keys: readonly (readonly (string | number)[])[],
): SQL[] {
  const names = list(key.map((c) => sql.identifier(c.name)));
  const elements = list(key.map((_, i) => element(i)));
  return jsonSlices(keys).map(
    (slice) => sql`delete from ${table} where ${scope} and (${names}) in (select ${elements} from json_each(${slice}))`,
  );
}
