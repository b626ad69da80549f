/**
 * The object's SQLite, counting the rows its statements write and read: Durable Object storage
 * is billed per row written and per row read, and the counts are how tests and benches hold the
 * coordinator to writing state changes, not observations, and how bench/fleet prices it.
 */
export interface RowCount {
  rowsWritten: number;
  rowsRead: number;
}

export function countedSql(sql: SqlStorage, count: RowCount): SqlStorage {
  // A cursor's rows read are known once it is consumed; every caller here consumes its cursor
  // before the next statement, so each is counted when the next one runs.
  let last: SqlStorageCursor<Record<string, SqlStorageValue>> | null = null;
  const settle = () => {
    if (last) count.rowsRead += last.rowsRead;
    last = null;
  };
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "exec")
        return (query: string, ...bindings: unknown[]) => {
          settle();
          const cursor = target.exec(query, ...bindings);
          count.rowsWritten += cursor.rowsWritten;
          last = cursor;
          return cursor;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
