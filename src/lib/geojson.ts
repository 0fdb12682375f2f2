import type { FastifyRequest } from 'fastify'
import { z } from 'zod'

export const GEOJSON_MEDIA_TYPE = 'application/geo+json'

/** The client asked for GeoJSON, by `format=geojson` or by an Accept header that prefers it. */
export function wantsGeoJson(request: FastifyRequest, format?: string): boolean {
  if (format) return format === 'geojson'
  const accept = request.headers.accept ?? ''
  return accept.includes(GEOJSON_MEDIA_TYPE)
}

export const FormatParam = z
  .enum(['json', 'geojson'])
  .meta({ description: 'Response format; geojson is the same as Accept: application/geo+json' })

const Position = z.array(z.number()).min(2)
export const GeoJsonGeometry = z
  .object({
    type: z.enum(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon']),
    coordinates: z.union([Position, z.array(Position), z.array(z.array(Position)), z.array(z.array(z.array(Position)))]),
  })
  .meta({ id: 'GeoJsonGeometry', description: 'An RFC 7946 geometry (WGS 84, lon/lat order)' })

export const Feature = z
  .object({
    type: z.literal('Feature'),
    id: z.union([z.string(), z.number()]).optional(),
    geometry: GeoJsonGeometry.nullable(),
    properties: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'Feature' })

export const FeatureCollection = z
  .object({
    type: z.literal('FeatureCollection'),
    features: z.array(Feature),
    numberReturned: z.number().int().optional(),
    next_cursor: z.string().nullable().optional(),
    links: z.array(z.object({ href: z.string(), rel: z.string(), type: z.string().optional() })).optional(),
  })
  .meta({ id: 'FeatureCollection', description: 'An RFC 7946 FeatureCollection' })
export type FeatureCollection = z.infer<typeof FeatureCollection>

export function featureCollection<T extends { id?: string | number }>(
  items: T[],
  geometryOf: (item: T) => z.infer<typeof GeoJsonGeometry> | null,
  propertiesOf: (item: T) => Record<string, unknown>,
  next_cursor?: string | null,
): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: items.map((item) => ({
      type: 'Feature' as const,
      ...(item.id !== undefined ? { id: item.id } : {}),
      geometry: geometryOf(item),
      properties: propertiesOf(item),
    })),
    numberReturned: items.length,
    ...(next_cursor !== undefined ? { next_cursor } : {}),
  }
}
