// Per-file test databases: each test file gets a fresh copy of a migrated template database,
// so tests run in parallel without seeing each other's rows.
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { createDb, type Db } from '../../src/db/client.js'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { ensureLocalCluster } from '../../src/db/local-cluster.js'
import { MIGRATIONS_DIR, migrateDatabase } from '../../src/db/migrate.js'

let baseUrl: string | undefined

/** A connection string for database `name` on the test server (DATABASE_URL's server, or the private cluster). */
export function serverUrl(name: string): string {
  // The cluster is made sure of once per process; the test run's teardown stops it after every file.
  baseUrl ??= process.env.DATABASE_URL ?? ensureLocalCluster(PROJECT_ROOT, (m) => console.error(`# ${m}`)).url()
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return url.toString()
}

function migrationsHash() {
  const h = createHash('sha256')
  for (const f of readdirSync(MIGRATIONS_DIR).sort()) {
    if (f.endsWith('.sql')) h.update(f).update(readFileSync(path.join(MIGRATIONS_DIR, f)))
  }
  h.update(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json')))
  return h.digest('hex').slice(0, 12)
}

const TEMPLATE_LOCK = 7_312_003

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl('postgres') })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Creates (once per set of migrations) the migrated template every test database is copied from. */
export async function ensureTemplate(): Promise<string> {
  const name = `setu_tpl_${migrationsHash()}`
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK])
    try {
      const { rows } = await admin.query('SELECT datname FROM pg_database WHERE datname LIKE $1', ['setu_tpl_%'])
      if (rows.some((r) => r.datname === name)) return
      // Older templates (from earlier migrations) must lose their template flag before they can be dropped.
      for (const r of rows) {
        await admin.query(`ALTER DATABASE "${r.datname}" WITH is_template false`)
        await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`)
      }
      await admin.query(`CREATE DATABASE "${name}"`)
      const db = createDb(serverUrl(name), { max: 2 })
      try {
        await migrateDatabase(db)
      } catch (err) {
        await closePool(db)
        await admin.query(`DROP DATABASE IF EXISTS "${name}"`)
        throw err
      }
      await closePool(db)
      await admin.query(`ALTER DATABASE "${name}" WITH is_template true`)
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK])
    }
  })
  return name
}

/** Drops test databases left behind by test processes that no longer run. */
export async function dropOrphanDatabases() {
  await withAdmin(async (admin) => {
    const { rows } = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'setu_t\\_%'")
    for (const { datname } of rows) {
      const pid = Number(String(datname).split('_')[2])
      let alive = false
      try {
        process.kill(pid, 0)
        alive = true
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM'
      }
      if (!alive) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
    }
  })
}

/**
 * Ends a pool and waits until every connection has really closed. pool.end() resolves earlier, and a
 * DROP DATABASE … WITH (FORCE) right after it kills connections still closing, which pg raises as an
 * uncaught 57P01 error.
 */
export async function closePool(db: Db | undefined) {
  if (!db) return
  const pool = db.$client
  let open = pool.totalCount
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve()
    pool.on('remove', () => {
      if (--open === 0) resolve()
    })
  })
  await pool.end()
  await closed
}

export interface TestDatabase {
  name: string
  url: string
  db: Db
  drop(): Promise<void>
}

export interface TestDatabaseOptions {
  /**
   * The day setu_today() reads on every connection (YYYY-MM-DD). Defaults to SETU_TEST_TODAY, so that
   * `SETU_TEST_TODAY=2027-11-30 npm test` runs the whole suite's date logic on that day; unset, the real date.
   */
  today?: string
}

const testToday = (options: TestDatabaseOptions = {}) => options.today ?? (process.env.SETU_TEST_TODAY || undefined)

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const template = await ensureTemplate()
  const name = `setu_t_${process.pid}_${randomBytes(4).toString('hex')}`
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`))
  const url = serverUrl(name)
  const db = createDb(url, { max: 5, today: testToday(options) })
  return {
    name,
    url,
    db,
    async drop() {
      await closePool(db)
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
    },
  }
}
