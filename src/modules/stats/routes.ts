import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../../db/client.js'
import { problemResponses } from '../../lib/problem.js'
import { viewerOf } from '../access/roles.js'
import { statsRepo } from './repo.js'
import { Stats, StatsQuery } from './schemas.js'

export const statsRoutes: FastifyPluginAsyncZod<{ db: Db; staleMonths: number }> = async (app, { db, staleMonths }) => {
  const repo = statsRepo(db)
  app.get(
    '/',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'The directory of a country in numbers',
        description:
          'Providers located in the country’s areas: totals by status, kind and category; of the active ones, by ' +
          'category, by MOU status per category, and how many are stale (never verified, last verified more than ' +
          'stale_months (VERIFICATION_STALE_MONTHS) ago, or funded_until passed, judged on as_of); and for each admin ' +
          'level, how many areas have no active provider of each category within gap_km (default 25) of their ' +
          'representative point, measured on the WGS 84 spheroid to providers anywhere. Confidential shelters are ' +
          'counted; no location is shown.',
        querystring: StatsQuery,
        response: { 200: Stats, ...problemResponses(400) },
      },
    },
    (request) => repo.stats(request.query, staleMonths, viewerOf(request.caller)),
  )
}
