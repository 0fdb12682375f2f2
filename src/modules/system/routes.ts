import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { MIGRATIONS_DIR } from '../../db/migrate.js'
import { DATABASE_PROBLEM_TYPES, databaseFailure, RETRY_AFTER_S } from '../../lib/database-errors.js'
import { Problem, ProblemSchema } from '../../lib/problem.js'

const Health = z
  .object({ status: z.enum(['ok']) })
  .meta({ id: 'Health', example: { status: 'ok' } })

const Readiness = z
  .object({
    status: z.enum(['ready']),
    database: z.object({
      postgis: z.string().meta({ description: 'The PostGIS version installed in the database' }),
      latency_ms: z.number().meta({ description: 'How long the readiness query took, connecting included' }),
    }),
    migrations: z.object({
      applied: z.number().int().meta({ description: 'Migrations recorded in the database' }),
      latest: z.string().meta({ description: "The newest migration this server's code expects" }),
    }),
  })
  .meta({
    id: 'Readiness',
    example: { status: 'ready', database: { postgis: '3.3.2', latency_ms: 0.8 }, migrations: { applied: 2, latest: '0001_referrals_mous' } },
  })

export const NOT_READY = 'urn:setu:problem:not-ready'

interface JournalEntry {
  tag: string
  when: number
}

/** The migrations this code expects, as drizzle's migrator knows them: it records each one by its `when`. */
function readJournal(): JournalEntry[] {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }
  return journal.entries.map(({ tag, when }) => ({ tag, when }))
}

const notReady = (detail: string) =>
  new Problem(503, 'Service Unavailable', detail, { type: NOT_READY, headers: { 'retry-after': String(RETRY_AFTER_S) } })

// Both probes answer whatever the rate limit says: a load balancer or orchestrator polls them from one address.
const probe = { rateLimit: false as const, access: 'public' as const }

export const systemRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  const journal = readJournal()

  app.get(
    '/healthz',
    {
      config: probe,
      schema: {
        tags: ['system'],
        summary: 'Liveness',
        description:
          'Answers 200 whenever the process answers requests, whether or not its database is reachable: it asks the ' +
          'database nothing. An orchestrator restarts the process only when this fails; use /readyz to decide whether ' +
          'to send it traffic.',
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      config: probe,
      schema: {
        tags: ['system'],
        summary: 'Readiness',
        description:
          'Answers 200 when the database is reachable, has PostGIS, and has every migration this server expects ' +
          '(migrations/meta/_journal.json against drizzle.__drizzle_migrations). Otherwise 503 with a Retry-After header: ' +
          `type ${DATABASE_PROBLEM_TYPES.unavailable} when the database cannot be reached in time, ${NOT_READY} when it ` +
          'answers but is not ready (migrations pending, PostGIS missing).',
        response: {
          200: Readiness,
          503: {
            description: 'Not ready: the database is unreachable, or lacks migrations or PostGIS',
            content: { 'application/problem+json': { schema: ProblemSchema } },
          },
        },
      },
    },
    async (request) => {
      const started = performance.now()
      let postgis: string | null
      let applied: number[]
      try {
        const { rows } = await db.$client.query<{ postgis: string | null; applied: number[] | null; migrated: boolean }>(
          `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS postgis,
                  to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS migrated`,
        )
        postgis = rows[0].postgis
        applied = []
        if (rows[0].migrated) {
          const recorded = await db.$client.query<{ created_at: number }>('SELECT created_at FROM drizzle.__drizzle_migrations')
          applied = recorded.rows.map((r) => Number(r.created_at))
        }
      } catch (err) {
        if (databaseFailure(err)) throw err
        // Reachable but unable to answer (permissions, a broken catalogue): not ready either, and worth a look.
        request.log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'readiness check failed')
        throw notReady('The database answered the readiness check with an error; see the server log.')
      }
      const pending = journal.filter((m) => !applied.includes(m.when)).map((m) => m.tag)
      if (pending.length) throw notReady(`Migrations not applied yet: ${pending.join(', ')}.`)
      if (!postgis) throw notReady('PostGIS is not installed in the database.')
      return {
        status: 'ready' as const,
        database: { postgis, latency_ms: Math.round((performance.now() - started) * 100) / 100 },
        migrations: { applied: applied.length, latest: journal.at(-1)?.tag ?? '' },
      }
    },
  )

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger())
}
