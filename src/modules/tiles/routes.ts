// Map tiles (Mapbox Vector Tiles) of the administrative areas and the directory, and a TileJSON document per layer,
// for MapLibre, QGIS and other clients: issue 10.
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { SQL } from 'drizzle-orm'
import { z } from 'zod'
import pkg from '../../../package.json' with { type: 'json' }
import type { Db } from '../../db/client.js'
import { problemResponses } from '../../lib/problem.js'
import { viewerOf } from '../access/roles.js'
import {
  MAX_ZOOM,
  MVT_MEDIA_TYPE,
  MvtBody,
  PROVIDERS_MIN_ZOOM,
  TILEJSON_MAX_ZOOM,
  TileJson,
  TileJsonParams,
  TileParams,
  VECTOR_LAYERS,
  type TileLayer,
} from './schemas.js'
import { areaBoundsSql, areasTileSql, providersTileSql, tileStatementSettings } from './spatial.js'

const tags = ['tiles']

// Areas change when boundaries are imported, providers with every edit; masking depends on the key, and the
// access hook adds Vary: Authorization to every answer. A tile for a key is private to it; an anonymous one may be
// kept by shared caches.
const MAX_AGE_S: Record<TileLayer, number> = { areas: 3600, providers: 60 }
const cacheControl = (layer: TileLayer, request: FastifyRequest) =>
  `${layer === 'providers' && request.caller.kind === 'key' ? 'private' : 'public'}, max-age=${MAX_AGE_S[layer]}`

const MIN_ZOOM: Record<TileLayer, number> = { areas: 0, providers: PROVIDERS_MIN_ZOOM }

/** A strong ETag: a hash of the bytes sent, so equal tiles validate whatever produced them. */
const etagOf = (body: Buffer) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`

/** If-None-Match (RFC 9110 §13.1.2): `*` or a list of entity tags, compared weakly. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  if (ifNoneMatch.trim() === '*') return true
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

/** A tile's bytes: its statement run in a transaction of its own settings (tileStatementSettings). */
async function tileBytes(db: Db, statement: SQL): Promise<Buffer> {
  return db.transaction(async (tx) => {
    await tx.execute(tileStatementSettings)
    const { rows } = await tx.execute<{ tile: Buffer | null }>(statement)
    return rows[0]?.tile ?? Buffer.alloc(0)
  })
}

const TILE_DESCRIPTION =
  'A Mapbox Vector Tile (application/vnd.mapbox-vector-tile, extent 4096, XYZ scheme as in OpenStreetMap and ' +
  'MapLibre, z 0 to ' + MAX_ZOOM + ') built by PostGIS (ST_AsMVT) from the spatial indexes.\n\n' +
  '**areas**: layer `areas`, the outlines of the administrative areas of the level the zoom shows (1: division or ' +
  'province up to zoom 5; 2: district at 6–7; 3: upazila or commune at 8–9; 4: union from 10; where a branch has ' +
  'no deeper level loaded, its deepest area), generalised to about a screen pixel, with pcode, name_en, name_local, ' +
  'country, admin_level, level_name and parent_pcode; and layer `area_labels`, the same areas\' representative ' +
  'points (inside each area) with the same fields, to place their names.\n\n' +
  '**providers**: layer `providers`, one point per provider (any status) with id, name, categories (joined by ' +
  'commas), kind, status, location_visibility and location_masked, from zoom ' + PROVIDERS_MIN_ZOOM + ' (lower ' +
  'zooms answer 204). Confidential locations: unless you are an admin, an analyst or an editor of the owning ' +
  'organisation, a provider whose location_visibility is approximate is at the representative point of the ' +
  'smallest known area containing it (and in the tiles containing that point only), one that is hidden is in no ' +
  'tile; location_masked says so.\n\n' +
  'Each tile carries its margin (64 units) so symbols and outlines continue across tile edges. An empty tile ' +
  'answers 204. ETag is a hash of the tile: send it back as If-None-Match for a 304. Cache-Control: areas an ' +
  'hour, providers a minute (private with an API key, since masking depends on it).'

export const tileRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/:layer/:z/:x/:y.mvt',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'A vector tile of the areas or the providers',
        description: TILE_DESCRIPTION,
        params: TileParams,
        response: {
          200: { description: 'The tile', content: { [MVT_MEDIA_TYPE]: { schema: MvtBody } } },
          204: z.null().meta({ description: 'The tile holds nothing (also: providers below their minzoom)' }),
          304: z.null().meta({ description: 'Not Modified: If-None-Match names the tile’s current ETag' }),
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { layer, ...t } = request.params
      reply.header('cache-control', cacheControl(layer, request))
      if (t.z < MIN_ZOOM[layer]) return reply.status(204).send(null)
      const statement = layer === 'areas' ? areasTileSql(t) : providersTileSql(t, viewerOf(request.caller))
      const body = await tileBytes(db, statement)
      if (body.length === 0) return reply.status(204).send(null)
      const etag = etagOf(body)
      reply.header('etag', etag)
      if (matches(request.headers['if-none-match'], etag)) return reply.status(304).send(null)
      return reply.type(MVT_MEDIA_TYPE).send(body as never)
    },
  )

  app.get(
    '/:layer.json',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'TileJSON of a tile layer',
        description:
          'A TileJSON 3.0.0 document for the areas or providers tiles: the absolute URL template of the tiles (from ' +
          'the host and protocol of this request, X-Forwarded-Host and -Proto when TRUST_PROXY trusts the proxy), ' +
          'minzoom and maxzoom (clients scale the maxzoom tiles beyond it), the bounds of the administrative areas ' +
          'loaded, and the vector layers with their fields. Give its URL to MapLibre (a vector source\'s url) or ' +
          'QGIS (a Vector Tiles connection).',
        params: TileJsonParams,
        response: { 200: TileJson, ...problemResponses(400) },
      },
    },
    async (request, reply) => {
      const { layer } = request.params
      const { rows } = await db.execute<{ west: number | null; south: number | null; east: number | null; north: number | null }>(areaBoundsSql)
      const b = rows[0]
      const bounds =
        b && b.west !== null ? [b.west, b.south!, b.east!, b.north!].map((v) => Math.round(Number(v) * 1e6) / 1e6) : [-180, -85.051129, 180, 85.051129]
      const minzoom = MIN_ZOOM[layer]
      reply.header('cache-control', 'public, max-age=300')
      return {
        tilejson: '3.0.0' as const,
        name: `setu ${layer}`,
        description: layer === 'areas' ? 'Administrative areas of Bangladesh and Cambodia (setu)' : 'Service providers of the setu directory',
        version: pkg.version,
        attribution: 'setu',
        scheme: 'xyz' as const,
        tiles: [`${request.protocol}://${request.host}/v1/tiles/${layer}/{z}/{x}/{y}.mvt`],
        minzoom,
        maxzoom: TILEJSON_MAX_ZOOM,
        bounds,
        center: [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, Math.max(minzoom, 6)],
        vector_layers: VECTOR_LAYERS[layer].map((l) => ({ ...l, minzoom, maxzoom: TILEJSON_MAX_ZOOM })),
      }
    },
  )
}
