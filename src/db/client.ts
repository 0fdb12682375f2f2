import { createHash } from 'node:crypto'
import pg from 'pg'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'

// DATE columns come back as 'YYYY-MM-DD' strings, not midnight-local Date objects.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v)
// bigint counts (count(*)) fit comfortably in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = NodePgDatabase & { $client: pg.Pool }

export interface DbOptions {
  /** Pool size. */
  max?: number
  /** Session time zone: current_date, and so every "today" in SQL, follows this calendar (TIME_ZONE). */
  timeZone?: string
}

export function createDb(connectionString: string, { max = 10, timeZone = 'UTC' }: DbOptions = {}): Db {
  const pool = new pg.Pool({ connectionString, max, application_name: 'setu', options: `-c TimeZone=${timeZone}` })
  return drizzle(pool) as Db
}

const dialect = new PgDialect()

/**
 * Runs a query as a named prepared statement, so each pooled connection parses and plans its text once.
 * For hot read paths whose SQL text takes few shapes (values are always bound, never inlined).
 */
export async function queryPrepared<T>(db: Db, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query)
  const name = `q_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
  const { rows } = await db.$client.query({ name, text, values: params })
  return rows as T[]
}
