// npm run seed: reload the demo data set (seeds/) into DATABASE_URL, or into the private cluster when it is unset.
// Removes the previous demo providers (external id scheme setu-demo) that nothing references, upserts the
// demo areas, inserts the demo providers. Rows that did not come from the demo set are never touched.
import { loadConfig } from '../src/config.js'
import { createDb } from '../src/db/client.js'
import { resolveDatabase } from '../src/db/database.js'
import { migrateDatabase } from '../src/db/migrate.js'
import { loadDemoAreas, loadDemoProviders } from '../src/db/seed.js'

const say = (msg: string) => console.error(`[setu] ${msg}`)
const config = loadConfig()
const target = resolveDatabase(config, say)
const db = createDb(target.url, 2)
try {
  await migrateDatabase(db)
  const areas = await loadDemoAreas(db)
  for (const country of areas.skippedCountries) {
    say(`${country}: areas from another source are loaded, so the demo areas were not written over them`)
  }
  console.log(`areas: ${areas.inserted} inserted, ${areas.updated} updated, ${areas.unchanged} unchanged`)
  const providers = await loadDemoProviders(db)
  console.log(
    `demo providers: ${providers.deleted} removed, ${providers.created} inserted` +
      (providers.kept ? `, ${providers.kept} kept because other rows reference them` : ''),
  )
} catch (err) {
  process.exitCode = 1
  say(`seeding failed: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  await db.$client.end()
  if (target.cluster?.startedHere) target.cluster.stop()
}
