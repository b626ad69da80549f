/**
 * A D1 binding that passes every call to the real one and counts what a deployed Worker
 * invocation is limited in: queries run (a batch runs one per statement), bound parameters
 * per statement, the length of each statement's SQL and of each string it binds.
 */
export interface D1Use {
  queries: number;
  /** The most parameters any one statement bound. */
  params: number;
  /** The longest SQL text, in bytes. */
  sqlBytes: number;
  /** The longest bound string, in bytes. */
  stringBytes: number;
}

export const noUse = (): D1Use => ({ queries: 0, params: 0, sqlBytes: 0, stringBytes: 0 });

const bytes = (s: string) => new TextEncoder().encode(s).length;

export function countedD1(d1: D1Database, use: D1Use): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const ran = (sql: string, values: unknown[]) => {
    use.queries += 1;
    use.params = Math.max(use.params, values.length);
    use.sqlBytes = Math.max(use.sqlBytes, bytes(sql));
    for (const v of values) if (typeof v === "string") use.stringBytes = Math.max(use.stringBytes, bytes(v));
  };
  const wrap = (statement: D1PreparedStatement, sql: string, values: unknown[]): D1PreparedStatement => {
    const counted = {
      bind: (...next: unknown[]) => wrap(statement.bind(...next), sql, next),
      first: (column?: string) => {
        ran(sql, values);
        return column === undefined ? statement.first() : statement.first(column);
      },
      run: () => {
        ran(sql, values);
        return statement.run();
      },
      all: () => {
        ran(sql, values);
        return statement.all();
      },
      raw: (options?: { columnNames?: boolean }) => {
        ran(sql, values);
        return statement.raw(options as { columnNames: true });
      },
      sql,
      values,
    };
    real.set(counted, statement);
    return counted as unknown as D1PreparedStatement;
  };
  return {
    prepare: (sql: string) => wrap(d1.prepare(sql), sql, []),
    batch: (statements: D1PreparedStatement[]) => {
      for (const s of statements) {
        const { sql, values } = s as unknown as { sql: string; values: unknown[] };
        ran(sql, values);
      }
      return d1.batch(statements.map((s) => real.get(s) ?? s));
    },
    exec: (sql: string) => {
      ran(sql, []);
      return d1.exec(sql);
    },
    dump: () => d1.dump(),
    withSession: () => {
      throw new Error("countedD1 does not count sessions");
    },
  } as unknown as D1Database;
}
