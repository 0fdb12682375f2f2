// A scratch database for a benchmark: a fresh copy of the migrated template, dropped even when the run is
// interrupted (Ctrl-C), WITH (FORCE) from a connection of its own while the queries it cuts short fail quietly.
import pg from 'pg'
import { createTestDatabase, serverUrl, type TestDatabase } from '../test/helpers/db.js'

export async function scratchDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      console.error(`${signal}: dropping ${database.name}`)
      process.on('unhandledRejection', () => {})
      process.on('uncaughtException', () => {})
      database.db.$client.on('error', () => {})
      const admin = new pg.Client({ connectionString: serverUrl('postgres') })
      try {
        await admin.connect()
        await admin.query(`DROP DATABASE IF EXISTS "${database.name}" WITH (FORCE)`)
      } finally {
        await admin.end().catch(() => {})
        process.exit(130)
      }
    })
  }
  return database
}
