import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemResponses } from '../../lib/problem.js'
import { viewerOf } from '../access/roles.js'
import { PathwaysQuery, PathwaysResult } from './schemas.js'
import { PATHWAYS_STATEMENT_TIMEOUT_MS, type PathwaysService } from './service.js'

export const pathwayRoutes: FastifyPluginAsyncZod<{ pathways: PathwaysService }> = async (app, { pathways }) => {
  app.get(
    '/',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['pathways'],
        summary: 'Referral pathways to a service',
        description:
          'The shortest chains of active, healthy (ok or at_risk, never broken) referral links from a provider (`from`) — ' +
          'or from the active focal point nearest to `lat`/`lon` — to active providers offering `category`. A chain is a ' +
          'path with no provider twice, of at most max_hops (≤ 5) links, whose last link carries the category; earlier ' +
          'links may carry any category. Ordered by hops, then total geodesic distance; at most `limit` (≤ 20) chains. ' +
          'Unknown `from`, or no active focal point: 404. Chains are found and ranked on the real locations; what you are ' +
          'shown is masked like everywhere else: confidential providers (unless you are an admin, an analyst or an editor ' +
          'of their organisation) appear at their approximate point or none, and a chain through any of them reports ' +
          '`distance_m` rounded to whole kilometres (as does `start_distance_m` from a masked focal point), so that ' +
          'distances from many starts cannot locate them. The search for chains may take at most ' +
          `${PATHWAYS_STATEMENT_TIMEOUT_MS / 1000} s in the database: past it, and while the database is unreachable, 503.`,
        querystring: PathwaysQuery,
        response: { 200: PathwaysResult, ...problemResponses(400, 404, 503) },
      },
    },
    (req) => pathways.findPathways(req.query, viewerOf(req.caller)),
  )
}
