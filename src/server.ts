import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from './config.js'
import { buildApp } from './app.js'
import { createDb, type Db } from './db/client.js'
import { resolveDatabase, type DatabaseTarget } from './db/database.js'
import { migrateDatabase, isEmptyDirectory } from './db/migrate.js'
import { loadDemoData } from './demo/seed.js'
import { createLogger, type LogLevel } from './logging.js'

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
// The environment is validated inside main(); until then, and to report that it is invalid, LOG_LEVEL is
// used only when it is a valid level.
const log = createLogger(LEVELS.find((l) => l === process.env.LOG_LEVEL) ?? 'info')

let config: Config | undefined
let target: DatabaseTarget | undefined
let db: Db | undefined
let app: FastifyInstance | undefined
let closing = false

/** Stops the private cluster if this process started it; synchronous, so it also runs on the way out. */
function stopOwnCluster() {
  if (target?.cluster?.startedHere) target.cluster.stop()
}

async function main() {
  config = loadConfig()
  log.level = config.LOG_LEVEL
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))

  target = resolveDatabase(config, (msg) => log.info(msg))
  // Migrations and the demo load run on a pool of their own, without the statement bound meant for requests:
  // a migration that rewrites a large table may legitimately take longer.
  const setup = createDb(target.url, { max: 2, timeZone: config.TIME_ZONE })
  try {
    await migrateDatabase(setup)
    if (config.SEED_DEMO && (await isEmptyDirectory(setup))) {
      log.info('empty database: loading the demo data set (SEED_DEMO=false to skip)')
      const counts = await loadDemoData(setup)
      log.info(
        `loaded ${counts.areas} demo areas, ${counts.providers} demo providers, ${counts.mous} MOUs and ${counts.referral_links} referral links`,
      )
    }
  } finally {
    await setup.$client.end()
  }
  db = createDb(target.url, {
    max: config.DATABASE_POOL_MAX,
    timeZone: config.TIME_ZONE,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    onError: (err) => log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'lost a database connection'),
  })

  app = await buildApp(config, { db, logger: log })
  const address = await app.listen({ host: config.HOST, port: config.PORT })
  log.info(`API on ${address}  docs on ${address}/docs`)
}

/**
 * Stops accepting connections, lets the requests in flight finish, closes the pool and the private cluster
 * this process started. A request that does not finish within SHUTDOWN_TIMEOUT_MS (a client that never reads,
 * a query stuck on a lock) must not keep the process alive: an orchestrator sends SIGKILL next, which would
 * leave the private cluster running.
 */
async function shutdown(signal: string) {
  if (closing) {
    log.warn({ signal }, 'second signal: exiting now')
    stopOwnCluster()
    process.exit(1)
  }
  closing = true
  const timeoutMs = config?.SHUTDOWN_TIMEOUT_MS ?? 10_000
  if (!app) {
    // Still starting: migrations and the demo load run in transactions, so stopping here loses nothing.
    log.info({ signal }, 'stopping before the start finished')
    stopOwnCluster()
    process.exit(1)
  }
  log.info({ signal, timeout_ms: timeoutMs }, 'shutting down: finishing the requests in flight')
  const deadline = setTimeout(() => {
    log.error({ timeout_ms: timeoutMs }, 'requests still running at the shutdown deadline: exiting anyway')
    stopOwnCluster()
    process.exit(1)
  }, timeoutMs)
  deadline.unref()
  // Closing reaps only the connections idle at that moment: a keep-alive connection whose request was in flight
  // would hold the server open (up to its keep-alive timeout) after that request got its answer.
  const server = app.server
  const reaper = setInterval(() => server.closeIdleConnections(), 100)
  reaper.unref()
  try {
    await app.close()
    await db?.$client.end()
  } catch (err) {
    log.error({ err }, 'error while shutting down')
  }
  stopOwnCluster()
  log.info('stopped')
  await exitAfterLogs(0)
}

/**
 * pino writes asynchronously; at process.exit it writes what is still queued synchronously, which can land before
 * a line whose write was already under way. Waiting for the queue keeps the last lines in order (bounded: a
 * blocked stdout must not hold the process).
 */
async function exitAfterLogs(code: number): Promise<never> {
  await Promise.race([new Promise<void>((resolve) => log.flush(() => resolve())), new Promise((r) => setTimeout(r, 1000))])
  process.exit(code)
}

main().catch(async (err: unknown) => {
  const e = err instanceof Error ? (err as Error & { code?: unknown }) : undefined
  // drizzle wraps a failed migration statement as "Failed query: <SQL> params: …"; PostgreSQL's reason is the cause.
  const reason = e?.cause instanceof Error && e.message.startsWith('Failed query') ? e.cause : e
  const code = (reason as { code?: unknown } | undefined)?.code
  // The message is what a person acts on (what to install, which setting is wrong); the stack only at debug.
  log.fatal({ code: typeof code === 'string' ? code : undefined }, `could not start: ${reason?.message ?? String(err)}`)
  log.debug({ err }, 'could not start')
  await db?.$client.end().catch(() => {})
  stopOwnCluster()
  await exitAfterLogs(1)
})
