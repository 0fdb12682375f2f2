// npm run seed: reload the demo data set (seeds/) into DATABASE_URL, or into the private cluster when it is unset.
// Upserts the demo areas; removes the previous demo referral links and MOUs (notes "DEMO DATA", demo ends) and
// the demo providers (external id scheme setu-demo) that nothing else references; inserts the demo providers,
// then the demo MOUs and links. Rows that did not come from the demo set are never touched.
import { createDb } from '../src/db/client.js'
import { migrateDatabase } from '../src/db/migrate.js'
import { loadDemoAreas, loadDemoNetwork, loadDemoProviders, removeDemoNetwork } from '../src/demo/seed.js'
import { configOrExit, databaseOrExit, say } from './cli.js'

const config = configOrExit()
const target = databaseOrExit(config)
const db = createDb(target.url, { max: 2, timeZone: config.TIME_ZONE })
try {
  await migrateDatabase(db)
  const areas = await loadDemoAreas(db)
  for (const country of areas.skippedCountries) {
    say(`${country}: areas from another source are loaded, so the demo areas were not written over them`)
  }
  console.log(`areas: ${areas.inserted} inserted, ${areas.updated} updated, ${areas.unchanged} unchanged`)
  const removed = await removeDemoNetwork(db)
  const providers = await loadDemoProviders(db)
  console.log(
    `demo providers: ${providers.deleted} removed, ${providers.created} inserted` +
      (providers.kept ? `, ${providers.kept} kept because other rows reference them` : ''),
  )
  const network = await loadDemoNetwork(db)
  console.log(
    `demo MOUs: ${removed.mous} removed, ${network.mous} inserted; ` +
      `demo referral links: ${removed.referral_links} removed, ${network.referral_links} inserted`,
  )
  for (const s of network.skipped) say(`skipped ${s.row}: ${s.reason}`)
} catch (err) {
  process.exitCode = 1
  say(`seeding failed: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  await db.$client.end()
  if (target.cluster?.startedHere) target.cluster.stop()
}
