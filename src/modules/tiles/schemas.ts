// The tile endpoints' contract: path parameters, the TileJSON document, and the fields of each vector layer.
import { z } from 'zod'

export const TILE_LAYERS = ['areas', 'providers'] as const
export const TileLayer = z
  .enum(TILE_LAYERS, { error: 'layer must be areas or providers' })
  .meta({ id: 'TileLayer', description: 'areas: administrative areas (polygons, and a label point each); providers: the directory (points)', example: 'areas' })
export type TileLayer = z.infer<typeof TileLayer>

/** The deepest zoom a tile is served at. Past 16 a tile holds a few metres: clients overzoom TILEJSON_MAX_ZOOM. */
export const MAX_ZOOM = 22
/** The zoom TileJSON announces as maxzoom: beyond it clients scale the zoom-16 tiles (ST_AsMVTGeom's 4096 units are 15 cm there). */
export const TILEJSON_MAX_ZOOM = 16
/**
 * Providers are served from this zoom on. Below it one tile covers more than a third of a degree and, over a city,
 * holds thousands of providers, each of whose shown point is worked out for the caller: with the real Bangladesh
 * boundaries and 100,000 providers (bench/tiles.ts), the zoom-10 tile over Dhaka holds 4,400 of them (400 kB) and took
 * 3-4 times as long as the zoom-11 one (1,900, 170 kB), which is already more than a phone on a poor connection
 * should load for a map. Lower zooms answer 204; TileJSON says minzoom.
 */
export const PROVIDERS_MIN_ZOOM = 11

/** A tile coordinate: digits only (no sign, exponent or blank, which z.coerce would take), at most 7 of them. */
const TileIndex = (name: string, description: string, example: string) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,6})$/, `${name} must be a whole number`)
    .transform(Number)
    .meta({ description, example })

export const TileParams = z
  .strictObject({
    layer: TileLayer,
    z: TileIndex('z', `Zoom level, 0 to ${MAX_ZOOM}`, '12'),
    x: TileIndex('x', 'Column, 0 to 2^z − 1, counted from 180° W', '3076'),
    y: TileIndex('y', 'Row, 0 to 2^z − 1, counted from the north (XYZ scheme, not TMS)', '1753'),
  })
  .superRefine((p, ctx) => {
    if (p.z > MAX_ZOOM) {
      ctx.addIssue({ code: 'custom', path: ['z'], message: `z must be between 0 and ${MAX_ZOOM}` })
      return
    }
    const last = 2 ** p.z - 1
    for (const axis of ['x', 'y'] as const) {
      if (p[axis] > last) ctx.addIssue({ code: 'custom', path: [axis], message: `${axis} must be between 0 and ${last} at zoom ${p.z}` })
    }
  })
export type TileParams = z.infer<typeof TileParams>

export const TileJsonParams = z.strictObject({ layer: TileLayer })

/** The binary body, as OpenAPI 3.1 describes one. */
export const MvtBody = z.string().meta({
  id: 'MapboxVectorTile',
  description: 'A Mapbox Vector Tile 2.1 (protocol buffers), extent 4096',
  contentMediaType: 'application/vnd.mapbox-vector-tile',
  format: 'binary',
  example: '(binary)',
})
export const MVT_MEDIA_TYPE = 'application/vnd.mapbox-vector-tile'

/** The fields of an area, in its outline and in its label point alike. */
const AREA_FIELDS = {
  pcode: 'Area code (OCHA P-code)',
  name_en: 'English name',
  name_local: 'Name in Bangla or Khmer (absent when unknown)',
  country: 'BGD or KHM',
  admin_level: '1 = division/province … 4 = union',
  level_name: 'division, district, upazila, union, province or commune',
  parent_pcode: 'The parent area’s code (absent for level 1)',
}

/** The fields of each vector layer and their types, as TileJSON's vector_layers state them. */
export const VECTOR_LAYERS: Record<TileLayer, Array<{ id: string; description: string; fields: Record<string, string> }>> = {
  areas: [
    {
      id: 'areas',
      description:
        'Administrative area outlines, generalised to the zoom: level 1 (division, province) to zoom 5, level 2 (district) at ' +
        '6–7, level 3 (upazila, commune) at 8–9, level 4 (union) from 10; where no deeper level is loaded, the deepest that is',
      fields: AREA_FIELDS,
    },
    {
      id: 'area_labels',
      description: 'One point per area of the areas layer, inside it (its representative point): where to put its name',
      fields: AREA_FIELDS,
    },
  ],
  providers: [
    {
      id: 'providers',
      description:
        'Providers at the point shown to the caller: an approximate location at its area’s representative point, a hidden one ' +
        'not at all (unless the caller sees exact locations)',
      fields: {
        id: 'Provider id (UUID), as in /v1/providers/{id}',
        name: 'Name',
        categories: 'Categories, joined by commas (health,legal,counselling,shelter,livelihood)',
        kind: 'government, ngo, community_group, survivor_group, private, international or focal_point',
        status: 'active, suspended or closed',
        location_visibility: 'exact, approximate or hidden',
        location_masked: 'true when the point is not the real location (call before visiting)',
      },
    },
  ],
}
const VectorLayer = z.object({
  id: z.string(),
  description: z.string(),
  minzoom: z.number().int(),
  maxzoom: z.number().int(),
  fields: z.record(z.string(), z.string()).meta({ description: 'Field name → description (TileJSON 3.0.0 §3.3)' }),
})

export const TileJson = z
  .object({
    tilejson: z.literal('3.0.0'),
    name: z.string(),
    description: z.string(),
    version: z.string(),
    attribution: z.string(),
    scheme: z.literal('xyz'),
    tiles: z.array(z.string()).min(1).meta({ description: 'URL template of the tiles, absolute' }),
    minzoom: z.number().int().min(0).max(30),
    maxzoom: z.number().int().min(0).max(30),
    bounds: z.array(z.number()).length(4).meta({ description: 'West, south, east, north (WGS 84) of the administrative areas loaded' }),
    center: z.array(z.number()).length(3).meta({ description: 'Longitude, latitude and zoom to open at' }),
    vector_layers: z.array(VectorLayer),
  })
  .meta({
    id: 'TileJson',
    description: 'A TileJSON 3.0.0 document (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0)',
    example: {
      tilejson: '3.0.0',
      name: 'setu providers',
      description: 'Service providers of the setu directory',
      version: '0.1.0',
      attribution: 'setu',
      scheme: 'xyz',
      tiles: ['https://setu.example.org/v1/tiles/providers/{z}/{x}/{y}.mvt'],
      minzoom: 10,
      maxzoom: 16,
      bounds: [88.01, 20.74, 107.63, 26.63],
      center: [97.82, 23.69, 10],
      vector_layers: [{ id: 'providers', description: 'Providers', minzoom: 10, maxzoom: 16, fields: { id: 'Provider id' } }],
    },
  })
export type TileJson = z.infer<typeof TileJson>
