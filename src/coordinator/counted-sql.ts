/**
 * The object's SQLite, counting the rows its statements write: Durable Object storage is billed
 * per row written, and the count is how tests and benches hold the coordinator to writing
 * state changes, not observations.
 */
export interface RowCount {
  rowsWritten: number;
}

export function countedSql(sql: SqlStorage, count: RowCount): SqlStorage {
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "exec")
        return (query: string, ...bindings: unknown[]) => {
          const cursor = target.exec(query, ...bindings);
          count.rowsWritten += cursor.rowsWritten;
          return cursor;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
