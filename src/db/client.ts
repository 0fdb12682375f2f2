import { createHash } from 'node:crypto'
import pg from 'pg'
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'

// DATE columns come back as 'YYYY-MM-DD' strings, not midnight-local Date objects.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v)
// bigint counts (count(*)) fit comfortably in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = NodePgDatabase & { $client: pg.Pool }
/** What a query needs: the pool-backed Db or a transaction. */
export type Executor = Pick<Db, 'execute'>

export interface DbOptions {
  /** Pool size. */
  max?: number
  /** Session time zone: setu_today(), and so every "today" in SQL, follows this calendar (TIME_ZONE). */
  timeZone?: string
  /**
   * How long a query may wait for a connection, whether a new one is being opened or every pooled one is
   * busy (DATABASE_CONNECT_TIMEOUT_MS). Past it the query fails, and the API answers 503 instead of hanging.
   */
  connectTimeoutMs?: number
  /**
   * The longest one statement may run, server side, on every connection (STATEMENT_TIMEOUT_MS); 0 for none.
   * Off by default because scripts (migrations, boundary imports) legitimately run long statements; the
   * server turns it on from its configuration.
   */
  statementTimeoutMs?: number
  /** Where pool errors are reported; they are never fatal. */
  onError?: (err: Error) => void
  /** A fixed "today" (YYYY-MM-DD) for setu_today() on every connection: tests run the date logic on another day. */
  today?: string
}

export function createDb(
  connectionString: string,
  { max = 10, timeZone = 'UTC', connectTimeoutMs = 5000, statementTimeoutMs = 0, onError = () => {}, today }: DbOptions = {},
): Db {
  // Checked here because it is written into the startup options, where a space would start another option.
  if (today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`today must be YYYY-MM-DD, not ${today}`)
  const options = [
    `-c TimeZone=${timeZone}`,
    ...(statementTimeoutMs > 0 ? [`-c statement_timeout=${statementTimeoutMs}`] : []),
    ...(today ? [`-c setu.today=${today}`] : []),
  ]
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: 'setu',
    options: options.join(' '),
    connectionTimeoutMillis: connectTimeoutMs,
    // Notices a peer that vanished without closing the socket (a crashed host, a dropped NAT entry).
    keepAlive: true,
  })
  // When the server goes away (restart, failover, pg_terminate_backend), every open connection emits
  // 'error', and an 'error' with no listener throws and ends the process. pg-pool listens on idle clients
  // only, and re-emits their errors on the pool; a checked-out client (inside a transaction, between two
  // statements) has no listener at all. The query that was running has already been rejected with the
  // same error and the pool drops broken clients on release, so reporting is all that is left to do:
  // once, from the client's own listener, which every connection gets.
  pool.on('connect', (client) => client.on('error', onError))
  pool.on('error', () => {})
  return drizzle(pool) as Db
}

/**
 * Runs fn in a read-only transaction whose statements may each take at most `ms`, and never longer than the
 * connection's own statement_timeout: for requests whose cost grows with the data (pathways, area networks),
 * so that they give their connection back well before the general bound. set_config(…, true) is SET LOCAL
 * with a bound parameter; it ends with the transaction, so the pooled connection keeps its own setting.
 */
export function withStatementTimeout<T>(db: Db, ms: number, fn: (tx: Executor) => Promise<T>): Promise<T> {
  return db.transaction(
    async (tx) => {
      await tx.execute(sql`
        SELECT set_config('statement_timeout', least(${ms}::int, coalesce(nullif(
          (extract(epoch FROM current_setting('statement_timeout')::interval) * 1000)::int, 0), ${ms}::int))::text, true)`)
      return fn(tx)
    },
    { accessMode: 'read only' },
  )
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
