import path from 'node:path'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type { Db } from './client.js'
import { PROJECT_ROOT } from './database.js'

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations')

export class PostgisMissingError extends Error {}

// The extensions migrations/0000_foundation.sql creates.
const REQUIRED_EXTENSIONS = ['postgis', 'pg_trgm']

interface ExtensionState {
  name: string
  installed: boolean
  available: boolean
  /** Trusted extensions need only the CREATE privilege on the database, not a superuser. */
  trusted: boolean
  /** Whether the current role may run CREATE EXTENSION for it in this database. */
  creatable: boolean
}

/**
 * Fails fast, with a message a person can act on, when the database cannot hold setu's data:
 * before any migration runs, so nothing is written to a database that cannot be completed.
 */
export async function assertPostgisAvailable(db: Db) {
  const { rows: [where] } = await db.$client.query<{ database: string; role: string; major: number }>(
    `SELECT current_database() AS database, current_user AS role,
            current_setting('server_version_num')::int / 10000 AS major`,
  )
  // PostgreSQL's own rule for CREATE EXTENSION: a superuser may create any extension; another role
  // only a trusted one (pg_trgm since PostgreSQL 13, never PostGIS), and only with CREATE on the
  // database (which its owner has). An extension marked superuser = false needs no special right.
  const { rows } = await db.$client.query<ExtensionState>(
    `SELECT e.name,
            EXISTS (SELECT 1 FROM pg_extension WHERE extname = e.name) AS installed,
            a.name IS NOT NULL AS available,
            coalesce(v.trusted, false) AS trusted,
            coalesce(r.rolsuper OR NOT v.superuser
                     OR (v.trusted AND has_database_privilege(current_database(), 'CREATE')), false) AS creatable
       FROM unnest($1::text[]) WITH ORDINALITY AS e(name, n)
       LEFT JOIN pg_available_extensions a ON a.name = e.name
       LEFT JOIN pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version
       JOIN pg_roles r ON r.rolname = current_user
      ORDER BY e.n`,
    [REQUIRED_EXTENSIONS],
  )
  const missing = rows.filter((e) => !e.installed)
  const unavailable = missing.filter((e) => !e.available).map((e) => e.name)
  if (unavailable.includes('postgis')) {
    throw new PostgisMissingError(
      `PostGIS is not available on the PostgreSQL ${where.major} server of database "${where.database}" (DATABASE_URL). ` +
        `Install it on that server (Debian: apt-get install postgresql-${where.major}-postgis-3) ` +
        'or unset DATABASE_URL to let setu run its own database.',
    )
  }
  if (unavailable.length > 0) {
    throw new PostgisMissingError(
      `The PostgreSQL server of database "${where.database}" lacks the extension ${unavailable.join(', ')} ` +
        "(part of PostgreSQL's contrib modules). Install it on that server or unset DATABASE_URL.",
    )
  }
  const forbidden = missing.filter((e) => !e.creatable)
  if (forbidden.length > 0) {
    const names = forbidden.map((e) => e.name)
    const why = forbidden.map((e) =>
      e.trusted ? `${e.name} needs the CREATE privilege on the database` : `only a superuser may create ${e.name}`,
    )
    throw new PostgisMissingError(
      `Database "${where.database}" lacks the extension${names.length > 1 ? 's' : ''} ${names.join(' and ')}, ` +
        `and role "${where.role}" may not create ${names.length > 1 ? 'them' : 'it'} (${why.join('; ')}).\n` +
        `Ask an administrator to run, connected to database "${where.database}":\n` +
        `  ${names.map((name) => `CREATE EXTENSION ${name};`).join(' ')}\n` +
        'then start setu again.',
    )
  }
}

// Arbitrary but fixed: serialises concurrent migrators (server and scripts started together).
const MIGRATION_LOCK = 7_312_002

export async function migrateDatabase(db: Db) {
  await assertPostgisAvailable(db)
  const client = await db.$client.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    // Migrate on the connection that holds the lock, so a one-connection pool cannot deadlock.
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR })
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    client.release()
  }
}

export async function isEmptyDirectory(db: Db) {
  const { rows } = await db.$client.query<{ n: number }>(
    'SELECT (SELECT count(*) FROM areas) + (SELECT count(*) FROM providers) AS n',
  )
  return rows[0].n === 0
}

