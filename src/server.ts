import { loadConfig } from './config.js'
import { buildApp } from './app.js'
import { createDb } from './db/client.js'
import { resolveDatabase } from './db/database.js'
import { migrateDatabase, isEmptyDirectory } from './db/migrate.js'
import { loadDemoData } from './demo/seed.js'

async function main() {
  const config = loadConfig()
  const say = (msg: string) => console.error(`[setu] ${msg}`)
  const target = resolveDatabase(config, say)
  const db = createDb(target.url, { max: config.DATABASE_POOL_MAX, timeZone: config.TIME_ZONE })
  const shutdownDatabase = async () => {
    await db.$client.end().catch(() => {})
    if (target.cluster?.startedHere) target.cluster.stop()
  }

  try {
    await migrateDatabase(db)
    if (config.SEED_DEMO && (await isEmptyDirectory(db))) {
      say('empty database: loading the demo data set (SEED_DEMO=false to skip)')
      const counts = await loadDemoData(db)
      say(`loaded ${counts.areas} demo areas, ${counts.providers} demo providers, ${counts.mous} MOUs and ${counts.referral_links} referral links`)
    }
  } catch (err) {
    await shutdownDatabase()
    throw err
  }

  const app = await buildApp(config, { db })
  let closing = false
  const close = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    await app.close()
    await shutdownDatabase()
    process.exit(0)
  }
  process.on('SIGINT', () => void close('SIGINT'))
  process.on('SIGTERM', () => void close('SIGTERM'))

  const address = await app.listen({ host: config.HOST, port: config.PORT })
  say(`API on ${address}  docs on ${address}/docs`)
}

main().catch((err) => {
  console.error(`[setu] could not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
