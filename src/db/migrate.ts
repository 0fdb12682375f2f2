import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type { Db } from './client.js'

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations')

export class PostgisMissingError extends Error {}

/** Fails fast, with a message a person can act on, when the database cannot hold setu's data. */
export async function assertPostgisAvailable(db: Db) {
  const { rows } = await db.$client.query<{ installed: string | null; available: boolean }>(
    `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis') AS available`,
  )
  if (!rows[0].installed && !rows[0].available) {
    throw new PostgisMissingError(
      'PostGIS is not available in the database at DATABASE_URL. Install it on that server ' +
        '(Debian: apt-get install postgresql-15-postgis-3) or unset DATABASE_URL to let setu run its own database.',
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

