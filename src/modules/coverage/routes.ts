import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { stringify } from 'csv-stringify/sync'
import { FeatureCollection, GEOJSON_MEDIA_TYPE } from '../../lib/geojson.js'
import { problemResponses } from '../../lib/problem.js'
import { viewerOf } from '../access/roles.js'
import type { CoverageService } from './service.js'
import { Coverage, CoverageCsv, CoverageQuery, CSV_MEDIA_TYPE, flatColumns, METRICS, type CoverageFormat } from './schemas.js'

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

/** One flat record per area: the CSV row and the GeoJSON properties. */
function flatRecords(coverage: Coverage): Record<string, string | number | boolean | null>[] {
  return coverage.items.map((a) => {
    const record: Record<string, string | number | boolean | null> = {
      pcode: a.pcode,
      name_en: a.name_en,
      name_local: a.name_local,
      parent_pcode: a.parent_pcode,
      admin_level: a.admin_level,
    }
    for (const c of coverage.categories) for (const m of METRICS) record[`${c}_${m}`] = a.categories[c]?.[m] ?? null
    return record
  })
}

export function coverageCsv(coverage: Coverage): string {
  return stringify(flatRecords(coverage), {
    bom: true,
    header: true,
    columns: flatColumns(coverage.categories),
    record_delimiter: 'windows',
    cast: { boolean: (v) => (v ? 'true' : 'false') },
  })
}

/** The FeatureCollection as text: the polygons arrive from PostGIS as GeoJSON text and are not parsed again. */
export function coverageGeoJson(coverage: Coverage, geometries: Map<string, string>): string {
  const records = flatRecords(coverage)
  const features = records.map(
    (r) => `{"type":"Feature","id":${JSON.stringify(r.pcode)},"geometry":${geometries.get(String(r.pcode)) ?? 'null'},"properties":${JSON.stringify(r)}}`,
  )
  return `{"type":"FeatureCollection","features":[${features.join(',')}],"numberReturned":${features.length}}`
}

export const coverageRoutes: FastifyPluginAsyncZod<{ coverage: CoverageService }> = async (app, { coverage }) => {
  app.get(
    '',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['coverage'],
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
      if (format === 'json') return coverage.coverage(q, viewer)
      if (format === 'csv') {
        const body = coverageCsv(await coverage.coverage(q, viewer))
        return reply
          .type(`${CSV_MEDIA_TYPE}; charset=utf-8; header=present`)
          .header('content-disposition', `attachment; filename="${fileName(q, 'csv')}"`)
          .send(body)
      }
      const { coverage: answer, geometries } = await coverage.coverageWithGeometry(q, viewer)
      return reply
        .type(GEOJSON_MEDIA_TYPE)
        .header('content-disposition', `attachment; filename="${fileName(q, 'geojson')}"`)
        .send(coverageGeoJson(answer, geometries))
    },
  )
}
