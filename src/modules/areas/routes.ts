import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { Feature, FeatureCollection, featureCollection, GEOJSON_MEDIA_TYPE, wantsGeoJson } from '../../lib/geojson.js'
import { decodeCursor, toPage } from '../../lib/pagination.js'
import { notFound, problemResponses } from '../../lib/problem.js'
import { Pcode } from '../../lib/vocabulary.js'
import { areaExists, areasContaining, findArea, listAreas, parentsOf, type AreaRow } from './repo.js'
import { AreaListQuery, AreaPage, AreaParams, AreaQuery, Area, LocateQuery, LocateResult } from './schemas.js'

const propertiesOf = ({ rep_point: _rep, geometry: _geom, ...properties }: AreaRow & { parents?: unknown }) => properties
const repPointGeometry = (a: AreaRow) => ({ type: 'Point' as const, coordinates: [a.rep_point.lon, a.rep_point.lat] })

const PcodeCursor = z.tuple([Pcode])

export const areaRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '',
    {
      config: { access: 'public' },
      schema: {
        tags: ['areas'],
        summary: 'List administrative areas',
        description:
          'Areas of both countries ordered by pcode, filtered by country, admin_level, parent (the children of one area; ' +
          'an unknown parent is a 404) and q (case-insensitive substring of the English or local name). ' +
          'Paged with cursor/next_cursor. With Accept: application/geo+json or format=geojson the page is a ' +
          'FeatureCollection whose geometries are the representative points, or the full polygons with geometry=true ' +
          '(JSON items never carry polygons).',
        querystring: AreaListQuery,
        response: {
          200: {
            description: 'A page of areas',
            content: { 'application/json': { schema: AreaPage }, [GEOJSON_MEDIA_TYPE]: { schema: FeatureCollection } },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { cursor, parent, limit, geometry, format, ...filter } = request.query
      const after = cursor ? decodeCursor(cursor, PcodeCursor)[0] : undefined
      if (parent && !(await areaExists(db, parent))) throw notFound('Area', parent)
      const asGeoJson = wantsGeoJson(request, format)
      const rows = await listAreas(db, { ...filter, parent, after, limit: limit + 1, withGeometry: asGeoJson && geometry === true })
      const page = toPage(rows, limit, (a) => [a.pcode])
      if (!asGeoJson) return page
      reply.type(GEOJSON_MEDIA_TYPE)
      return featureCollection(
        page.items.map((a) => ({ ...a, id: a.pcode })),
        (a) => a.geometry ?? repPointGeometry(a),
        ({ id: _id, ...a }) => propertiesOf(a),
        page.next_cursor,
      )
    },
  )

  app.get(
    '/locate',
    {
      config: { access: 'public' },
      schema: {
        tags: ['areas'],
        summary: 'Areas containing a point',
        description:
          'Every area (of any level and country) whose polygon contains the point, deepest level first: ' +
          'union, upazila, district, division in Bangladesh; commune, district, province in Cambodia. ' +
          'A point on a shared boundary belongs to both neighbours. Never paged: next_cursor is always null.',
        querystring: LocateQuery,
        response: { 200: LocateResult, ...problemResponses(400) },
      },
    },
    async (request) => ({ items: await areasContaining(db, request.query.lat, request.query.lon), next_cursor: null }),
  )

  app.get(
    '/:pcode',
    {
      config: { access: 'public' },
      schema: {
        tags: ['areas'],
        summary: 'One administrative area',
        description:
          'The area with its chain of parents from the top level down. The MultiPolygon is included only with ' +
          'geometry=true; with Accept: application/geo+json or format=geojson the answer is a GeoJSON Feature ' +
          'with the polygon as geometry and the rest as properties. An unknown pcode is a 404.',
        params: AreaParams,
        querystring: AreaQuery,
        response: {
          200: {
            description: 'The area',
            content: { 'application/json': { schema: Area }, [GEOJSON_MEDIA_TYPE]: { schema: Feature } },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { pcode } = request.params
      const asGeoJson = wantsGeoJson(request, request.query.format)
      const area = await findArea(db, pcode, asGeoJson || request.query.geometry === true)
      if (!area) throw notFound('Area', pcode)
      const parents = await parentsOf(db, pcode)
      if (!asGeoJson) return { ...area, parents }
      reply.type(GEOJSON_MEDIA_TYPE)
      return { type: 'Feature' as const, id: area.pcode, geometry: area.geometry ?? null, properties: { ...propertiesOf(area), parents } }
    },
  )
}
