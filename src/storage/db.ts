/** The drizzle handle over D1 that every storage function takes. */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as t from "./schema.js";

export type Db = DrizzleD1Database<typeof t> & { $client: D1Database };

export function openDb(d1: D1Database): Db {
  return drizzle(d1, { schema: t });
}
