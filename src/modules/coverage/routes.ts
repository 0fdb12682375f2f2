import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { FeatureCollection, GEOJSON_MEDIA_TYPE } from '../../lib/geojson.js'
import { problemResponses } from '../../lib/problem.js'
import { viewerOf } from '../access/roles.js'
import type { CoverageService } from './service.js'
import { Coverage, CoverageCsv, CoverageQuery, CSV_MEDIA_TYPE, type CoverageFormat } from './schemas.js'

/** format wins; else an Accept header that names CSV or GeoJSON; else JSON. */
function formatOf(request: FastifyRequest, format?: CoverageFormat): CoverageFormat {
  if (format) return format
  const accept = request.headers.accept ?? ''
  if (accept.includes(CSV_MEDIA_TYPE)) return 'csv'
  if (accept.includes(GEOJSON_MEDIA_TYPE)) return 'geojson'
  return 'json'
}

/** coverage-BGD-level4[-BD40][-health].csv: the parts that are not fixed are reduced to safe characters. */
function fileName(q: CoverageQuery, extension: string): string {
  const parts = ['coverage', q.country, `level${q.admin_level}`, q.parent, q.category].filter(Boolean) as string[]
  return `${parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '_')).join('-')}.${extension}`
}

export const coverageRoutes: FastifyPluginAsyncZod<{ coverage: CoverageService }> = async (app, { coverage }) => {
  app.get(
    '',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Service coverage and gaps by area',
        description:
          'One row per area of admin_level in the country (all of them, also those without any provider; only those ' +
          'under parent when given), with for each category: the active providers inside the area, how many of them ' +
          'have a signed MOU covering the category, how many are stale (never verified, not verified for ' +
          'VERIFICATION_STALE_MONTHS months, or funding ended), the distance from the area’s representative point to ' +
          'the nearest active provider of the category anywhere, and whether that is beyond gap_km. Confidential ' +
          'providers are counted but never located: no provider point appears, and a distance to a provider whose ' +
          'location the caller may not see is in whole km. ' +
          'Formats: JSON (default); CSV with format=csv or Accept: text/csv (UTF-8 with a byte-order mark, one column ' +
          'per category metric: health_active, health_with_mou, health_stale, health_nearest_km, health_gap, …); ' +
          'GeoJSON with format=geojson or Accept: application/geo+json (the area polygons, simplified by simplify ' +
          'metres with shared borders kept shared, the same columns as properties). CSV and GeoJSON come as downloads ' +
          '(Content-Disposition). Answers are cached per server process until providers, MOUs or areas change.',
        querystring: CoverageQuery,
        response: {
          200: {
            description: 'The coverage of every selected area',
            content: {
              'application/json': { schema: Coverage },
              [CSV_MEDIA_TYPE]: { schema: CoverageCsv },
              [GEOJSON_MEDIA_TYPE]: { schema: FeatureCollection },
            },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const q = request.query
      const viewer = viewerOf(request.caller)
      const format = formatOf(request, q.format)
      // The answer comes as text, kept with the cached answer: serializing 25,000 metrics again for every request
      // would cost more than serving them from the cache.
      const body = await coverage.coverageText(q, viewer, format)
      if (format === 'json') return reply.type('application/json; charset=utf-8').send(body)
      if (format === 'csv') {
        return reply
          .type(`${CSV_MEDIA_TYPE}; charset=utf-8; header=present`)
          .header('content-disposition', `attachment; filename="${fileName(q, 'csv')}"`)
          .send(body)
      }
      return reply
        .type(GEOJSON_MEDIA_TYPE)
        .header('content-disposition', `attachment; filename="${fileName(q, 'geojson')}"`)
        .send(body)
    },
  )
}
