/**
 * The Coordinator's own SQLite tables, in one place. Durable Object storage is billed per row
 * written, so each table holds state, replaced when it changes (votes live in memory only):
 * verdicts, leases, command seqs, the event outbox; and history, a row per
 * cluster per minute and per target per day (src/coordinator/history.ts).
 */
export function createTables(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS verdicts (target TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL);
    -- The seq reserved for commands to each node (src/coordinator/channel.ts, a block at a time).
    CREATE TABLE IF NOT EXISTS command_seq (node TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS leases (unit TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS drained (node TEXT PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS backend_reports (node TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS service_floor (service TEXT PRIMARY KEY, below INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS history_minutes (minute INTEGER PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS history (target TEXT NOT NULL, day INTEGER NOT NULL, minutes TEXT, hours TEXT NOT NULL,
      PRIMARY KEY (target, day));
  `);
}
