import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { problemResponses } from '../../lib/problem.js'

const Health = z
  .object({
    status: z.enum(['ok']),
    database: z.object({ postgis: z.string(), latency_ms: z.number() }),
  })
  .meta({ id: 'Health', example: { status: 'ok', database: { postgis: '3.3', latency_ms: 0.6 } } })

export const systemRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['system'],
        summary: 'Service health',
        description: 'Answers 200 when the API can reach its database and PostGIS is installed there.',
        response: { 200: Health, ...problemResponses(500) },
      },
    },
    async () => {
      const started = performance.now()
      const { rows } = await db.$client.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'postgis'")
      return { status: 'ok' as const, database: { postgis: rows[0]?.v ?? 'missing', latency_ms: Math.round((performance.now() - started) * 100) / 100 } }
    },
  )

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
