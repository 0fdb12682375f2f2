// npm run migrate: apply migrations/ to DATABASE_URL, or to the private cluster when it is unset.
import { createDb } from '../src/db/client.js'
import { migrateDatabase } from '../src/db/migrate.js'
import { configOrExit, databaseOrExit, say } from './cli.js'

const config = configOrExit()
const target = databaseOrExit(config)
const db = createDb(target.url, { max: 1 })
try {
  await migrateDatabase(db)
  console.log('migrations applied')
} catch (err) {
  process.exitCode = 1
  say(`migration failed: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  await db.$client.end()
  if (target.cluster?.startedHere) target.cluster.stop()
}
