// The SQL of the map tiles: one statement per tile, ST_AsMVT over rows that the GiST indexes find inside the tile.
// Where a provider is shown, and whether it lies in a tile, is decided by lib/location-visibility.ts.
import { sql, type SQL } from 'drizzle-orm'
import { locationMasked, mayBeInsideShownEnvelope, shownPoint, type Viewer } from '../../lib/location-visibility.js'

/**
 * Settings for the transaction a tile's statement runs in: no JIT compilation and no parallel workers. PostgreSQL
 * costs the masked providers query (a subplan per approximate row) high enough to compile it (15-20 ms on every tile,
 * saving nothing on a few thousand rows) and to start a worker for it (the zoom-12 tile over Dhaka took 45 ms with
 * one, 9 ms without).
 */
export const tileStatementSettings = sql`SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`

/** Tile units per side, and the margin (in those units) each tile carries beyond its edge. */
export const EXTENT = 4096
export const BUFFER = 64

export interface TileAddress {
  z: number
  x: number
  y: number
}

/**
 * The administrative level a tile at zoom z shows: divisions and provinces on a country map, districts at a
 * region's scale, upazilas and Cambodian communes at a district's, unions from about a town's. An area of a
 * shallower level is shown instead where nothing deeper is loaded under it (Cambodia has no level 4; the demo data
 * has unions for a few districts only).
 */
export const areaLevelFor = (z: number) => (z <= 5 ? 1 : z <= 7 ? 2 : z <= 9 ? 3 : 4)

/** The generalised band (migrations/0006_tiles.sql) a tile at zoom z reads, or null for the stored polygons. */
export const generalisedBand = (z: number): number | null => (z >= 14 ? null : Math.min(12, z - (z % 2)))

const int = (n: number) => {
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${n}`)
  return sql.raw(String(n))
}

/**
 * The tile in Web Mercator, and the same tile with its margin in WGS 84 for the index filters. Web Mercator maps
 * meridians and parallels to straight lines, so the transformed envelope is exactly the tile's lon/lat box (unlike
 * a projection where the edges would bend and a box filter would cut features off). Used as a NOT MATERIALIZED CTE:
 * inlined, the envelopes are constants to the planner, so the masking subquery over areas runs once per statement
 * (an InitPlan), not once per provider as it did when the CTE, referenced twice, was materialised.
 */
const envelopes = (t: TileAddress) => sql`
  SELECT ST_TileEnvelope(${t.z}::int, ${t.x}::int, ${t.y}::int) AS e3857,
         ST_Transform(ST_TileEnvelope(${t.z}::int, ${t.x}::int, ${t.y}::int, margin => ${BUFFER / EXTENT}::float8), 4326) AS e4326`

const mvtGeom = (geom3857: SQL) => sql`ST_AsMVTGeom(${geom3857}, tile.e3857, ${int(EXTENT)}, ${int(BUFFER)}, true)`

/** The areas of the level a zoom shows (see areaLevelFor), over alias a. Leaves through the areas_parent index. */
const shownLevel = (z: number) => {
  const level = int(areaLevelFor(z))
  return sql`(a.admin_level = ${level}
    OR (a.admin_level < ${level} AND NOT EXISTS (SELECT 1 FROM areas child WHERE child.parent_pcode = a.pcode)))`
}

const AREA_FIELDS = sql`a.pcode, a.name_en, a.name_local, a.country::text AS country, a.admin_level::int AS admin_level,
  a.level_name, a.parent_pcode`

/**
 * The areas tile: layer `areas` (the outlines, generalised for the zoom, clipped to the tile and its margin) and
 * layer `area_labels` (each of those areas' representative point inside the tile). Polygons are cut to the
 * margin in WGS 84 first, so that only the part near the tile is projected. Both layers in one bytea (a tile is a
 * sequence of layers); empty when the tile holds nothing. ST_AsMVT leaves out a row whose geometry is NULL (an
 * outline that ST_AsMVTGeom reduced to nothing), so no filter computes it a second time.
 */
export function areasTileSql(t: TileAddress): SQL {
  const band = generalisedBand(t.z)
  const outlines =
    band === null
      ? sql`SELECT ${AREA_FIELDS}, ${mvtGeom(sql`ST_Transform(ST_ClipByBox2D(a.geom, tile.e4326), 3857)`)} AS geom
            FROM areas a, tile WHERE a.geom && tile.e4326 AND ${shownLevel(t.z)}`
      : sql`SELECT ${AREA_FIELDS}, ${mvtGeom(sql`ST_Transform(ST_ClipByBox2D(g.geom, tile.e4326), 3857)`)} AS geom
            FROM area_generalised g JOIN areas a ON a.pcode = g.pcode, tile
            WHERE g.zoom = ${int(band)} AND g.geom && tile.e4326 AND ${shownLevel(t.z)}`
  const labels = sql`SELECT ${AREA_FIELDS}, ${mvtGeom(sql`ST_Transform(a.rep_point, 3857)`)} AS geom
    FROM areas a, tile WHERE a.rep_point && tile.e4326 AND ${shownLevel(t.z)}`
  return sql`
    WITH tile AS NOT MATERIALIZED (${envelopes(t)}),
    outlines AS (${outlines}),
    labels AS (${labels})
    SELECT coalesce((SELECT ST_AsMVT(o, 'areas', ${int(EXTENT)}, 'geom') FROM outlines o), ''::bytea)
        || coalesce((SELECT ST_AsMVT(l, 'area_labels', ${int(EXTENT)}, 'geom') FROM labels l), ''::bytea) AS tile`
}

/**
 * The providers tile: every provider the caller is shown inside the tile and its margin, at the point shown
 * (location-visibility.ts). The box filter is the caller's: the index finds the candidates (mayBeInsideShownEnvelope),
 * then each one's shown point, worked out once (MATERIALIZED keeps PostgreSQL from working it out again for the
 * output), must lie in the tile. A masked provider is so in a tile by its approximate point only, and tiles cannot be
 * used to narrow down its real one. ST_AsMVT leaves out a row whose geometry is NULL.
 */
export function providersTileSql(t: TileAddress, viewer: Viewer): SQL {
  return sql`
    WITH tile AS NOT MATERIALIZED (${envelopes(t)}),
    candidates AS MATERIALIZED (
      SELECT p.id::text AS id, p.name, array_to_string(p.categories, ',') AS categories, p.kind, p.status,
             p.location_visibility, ${locationMasked('p', viewer)} AS location_masked, ${shownPoint('p', viewer)} AS shown
      FROM providers p, tile
      WHERE ${mayBeInsideShownEnvelope('p', viewer, sql`tile.e4326`)}
    ),
    shown AS (
      SELECT c.id, c.name, c.categories, c.kind, c.status, c.location_visibility, c.location_masked,
             ${mvtGeom(sql`ST_Transform(c.shown, 3857)`)} AS geom
      FROM candidates c, tile
      WHERE ST_Intersects(c.shown, tile.e4326)
    )
    SELECT coalesce((SELECT ST_AsMVT(s, 'providers', ${int(EXTENT)}, 'geom') FROM shown s), ''::bytea) AS tile`
}

/**
 * West, south, east and north of the areas loaded (level 1 covers the rest): what TileJSON announces as the data's
 * bounds for both layers. Not the providers' own extent, which a masked provider at the edge of the map would give away.
 */
export const areaBoundsSql = sql`
  SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north
  FROM (SELECT ST_Extent(geom)::geometry AS e FROM areas WHERE admin_level = 1) x`
