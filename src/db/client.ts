import { createHash } from 'node:crypto'
import pg from 'pg'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import * as schema from './schema.js'

// DATE columns come back as 'YYYY-MM-DD' strings, not midnight-local Date objects.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v)
// bigint counts (count(*)) fit comfortably in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool }

export interface DbOptions {
  /** Pool size. */
  max?: number
  /** Session time zone: setu_today(), and so every "today" in SQL, follows this calendar (TIME_ZONE). */
  timeZone?: string
  /** A fixed "today" (YYYY-MM-DD) for setu_today() on every connection: tests run the date logic on another day. */
  today?: string
}

export function createDb(connectionString: string, { max = 10, timeZone = 'UTC', today }: DbOptions = {}): Db {
  // Checked here because it is written into the startup options, where a space would start another option.
  if (today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`today must be YYYY-MM-DD, not ${today}`)
  const options = `-c TimeZone=${timeZone}${today ? ` -c setu.today=${today}` : ''}`
  const pool = new pg.Pool({ connectionString, max, application_name: 'setu', options })
  return drizzle(pool, { schema }) as Db
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
