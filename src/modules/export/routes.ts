import { sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../../db/client.js'
import { FeatureCollection, GEOJSON_MEDIA_TYPE } from '../../lib/geojson.js'
import { problemResponses } from '../../lib/problem.js'
import { today } from '../../lib/today.js'
import { CSV_COLUMNS, CsvBody, ExportQuery, GEOJSON_PROPERTIES, HsdsServiceList, type ExportFormat } from './schemas.js'
import { exportService, EXPORT_STATEMENT_TIMEOUT_MS } from './service.js'
import { SETU_TERMS, TERM_IDS } from '../hsds/export.js'

const MEDIA_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  geojson: GEOJSON_MEDIA_TYPE,
  hsds: 'application/json; charset=utf-8',
}
const EXTENSIONS: Record<ExportFormat, string> = { csv: 'csv', geojson: 'geojson', hsds: 'hsds.json' }

const DESCRIPTION =
  'The directory, or the part of it the filters select, as a file: the same filters as GET /v1/providers (no ' +
  'paging: every matching provider, ordered by name and id), streamed from the database as it is read. ' +
  'Content-Disposition names a dated file, e.g. setu-providers-2026-01-31.csv.\n\n' +
  '**format=csv** (default): RFC 4180, UTF-8 with a byte-order mark (LibreOffice and Excel show Bangla and Khmer), ' +
  'CRLF line ends, a header row, one row per provider. Lists are joined with ";"; empty cells are absent values. A ' +
  'cell a spreadsheet would run as a formula (starting with =, @, or + or - not followed by a digit) gets a leading ' +
  `apostrophe. Columns, in this order (new ones are only ever added at the end): ${CSV_COLUMNS.map(([c, d]) => `\`${c}\` (${d})`).join(', ')}.\n\n` +
  '**format=geojson**: an RFC 7946 FeatureCollection, one Point feature per provider (id: the provider id; geometry ' +
  `null when the location is hidden from you) with the properties ${GEOJSON_PROPERTIES.map((p) => `\`${p}\``).join(', ')}, ` +
  'as in GET /v1/providers.\n\n' +
  '**format=hsds**: a JSON array (not an HSDS page object) of Open Referral HSDS 3.0 service records, each valid ' +
  'against the specification’s schema/compiled/service.json: one service per provider (its id is the provider id; ' +
  'the ids of its organization, location, service_at_location, phones, languages, schedules and service_areas are ' +
  'derived from the provider id and the record’s role, the same in every export), status active, temporarily closed ' +
  '(suspended) or defunct (closed). The organization is the provider itself; setu’s own facts travel as attributes ' +
  '(link_entity service) of a taxonomy "setu", one term per fact, named by link_type and by taxonomy_term_id (fixed ' +
  `per term), the fact in value: ${(Object.keys(SETU_TERMS) as Array<keyof typeof SETU_TERMS>).map((t) => `\`${t}\` (${TERM_IDS[t]}: ${SETU_TERMS[t]})`).join(', ')}. The service ` +
  'areas are the known areas containing the provider (extent_type pcode).\n\n' +
  'Confidential locations: admins and analysts export every provider with its exact location; an editor exports ' +
  'only its own organisation’s providers, which it sees exact; the fields location_visibility and location_masked ' +
  'say what is shown, and a masked location would be shown as in GET /v1/providers (approximate point or none, no ' +
  `address). The database gives an export up to ${EXPORT_STATEMENT_TIMEOUT_MS / 60_000} minutes.\n\n` +
  'Access: API key with role admin, analyst or editor (its own organisation’s providers only); a viewer key is ' +
  'refused with 403.'

export const exportRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  const exports = exportService(db)

  app.get(
    '/export',
    {
      // Any key passes the route's check; the service refuses viewers and narrows editors (exportScope).
      config: { access: 'reader' },
      schema: {
        tags: ['providers'],
        summary: 'Export the directory as CSV, GeoJSON or Open Referral HSDS',
        description: DESCRIPTION,
        querystring: ExportQuery,
        response: {
          200: {
            description: 'The file, streamed',
            content: {
              'text/csv': { schema: CsvBody },
              [GEOJSON_MEDIA_TYPE]: { schema: FeatureCollection },
              'application/json': { schema: HsdsServiceList },
            },
          },
          ...problemResponses(400, 403, 404),
        },
      },
    },
    async (request, reply) => {
      // Before the stream takes its connection: an export never waits for a second one while holding the first.
      const { rows } = await db.execute<{ day: string }>(sql`SELECT ${today}::text AS day`)
      const body = await exports.stream(request.query, request.caller, (err) =>
        request.log.error({ err }, 'the export stream failed after it had started'),
      )
      const format = request.query.format
      reply
        .type(MEDIA_TYPES[format])
        .header('content-disposition', `attachment; filename="setu-providers-${rows[0].day}.${EXTENSIONS[format]}"`)
      return reply.send(body as never)
    },
  )
}
