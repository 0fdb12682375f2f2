// npm run migrate: apply migrations/ to DATABASE_URL, or to the private cluster when it is unset.
import { loadConfig } from '../src/config.js'
import { createDb } from '../src/db/client.js'
import { resolveDatabase } from '../src/db/database.js'
import { migrateDatabase } from '../src/db/migrate.js'

const config = loadConfig()
const target = resolveDatabase(config, (m) => console.error(`[setu] ${m}`))
const db = createDb(target.url, { max: 1 })
try {
  await migrateDatabase(db)
  console.log('migrations applied')
} finally {
  await db.$client.end()
  if (target.cluster?.startedHere) target.cluster.stop()
}
