// The only place area geometry SQL is written.
import { sql, type SQL } from 'drizzle-orm'
import { pointSql } from '../../lib/point.js'

/**
 * Degrees. Where ST_Subdivide cuts an edge of a polygon it computes the new vertex, which is rounded, so the pieces
 * in area_parts miss or exceed the polygon by slivers along their edges. On the real Bangladesh boundaries such a
 * vertex lies up to 3.6e-15° off the original edge, and at 1,391 of the 4,494 vertices the subdivision added (2,069
 * of 9,076 with Cambodia's: test/areas/shared-boundaries.test.ts), ST_Covers on the pieces alone disagreed with
 * ST_Covers on the polygon. A point this close to a piece's boundary (1 cm; the source files carry 1e-6°) is decided
 * by the whole polygon, every other point by the piece alone: the answer is exactly ST_Covers(areas.geom, point), so
 * a point on an edge or a vertex is covered.
 */
const PIECE_EDGE_TOLERANCE = sql.raw('1e-7')

/**
 * pcodes of the areas covering `point` (a geometry SQL expression), as a subquery for IN: each area once, though a
 * point on a cut between two of its pieces lies on both. The GiST index on area_parts finds the pieces whose
 * bounding box is near the point; the polygon itself is read only for a point on or next to a piece's edge.
 */
const coveringPcodes = (point: SQL, onlyPcodes?: string[]) => sql`
  SELECT ap.pcode FROM area_parts ap
  WHERE ap.geom && ST_Expand(${point}, ${PIECE_EDGE_TOLERANCE})
    ${onlyPcodes ? sql`AND ap.pcode = ANY(${sql.param(onlyPcodes)}::text[])` : sql``}
    AND CASE WHEN ST_DWithin(ST_Boundary(ap.geom), ${point}, ${PIECE_EDGE_TOLERANCE})
             THEN ST_Covers((SELECT whole.geom FROM areas whole WHERE whole.pcode = ap.pcode), ${point})
             ELSE ST_Covers(ap.geom, ${point}) END`

/** pcodes of every area whose polygon covers `point` (a geometry SQL expression), shallowest level first. */
export const pcodesCovering = (point: SQL) =>
  sql`ARRAY(SELECT a.pcode FROM areas a WHERE a.pcode IN (${coveringPcodes(point)}) ORDER BY a.admin_level, a.pcode)`

/**
 * Recomputes providers.area_pcodes for providers whose location is covered by any area in `pcodes`
 * (or for every provider when pcodes is omitted). Run after areas change, in the same transaction,
 * so the stored area codes never disagree with the map.
 */
// sql.param binds the array as one text[] parameter; a bare array would expand to a row of parameters.
export const refreshProviderAreas = (pcodes?: string[]) =>
  pcodes
    ? sql`UPDATE providers p SET area_pcodes = ${pcodesCovering(sql`p.location`)}
          WHERE EXISTS (${coveringPcodes(sql`p.location`, pcodes)})
             OR p.area_pcodes && ${sql.param(pcodes)}::text[]`
    : sql`UPDATE providers p SET area_pcodes = ${pcodesCovering(sql`p.location`)}`


/** The stored representative point as {lat, lon}; `alias` is a whitelisted table alias. */
export const repPointJson = (alias: 'a') =>
  sql`json_build_object('lat', ST_Y(${sql.raw(alias)}.rep_point), 'lon', ST_X(${sql.raw(alias)}.rep_point))`

// 6 decimals is ~0.1 m, the precision the source files carry; more only inflates responses.
export const geometryJson = (alias: 'a') => sql`ST_AsGeoJSON(${sql.raw(alias)}.geom, 6)::json`

/** A GeoJSON geometry text (bound parameter) as a 2D geometry in SRID 4326, unrepaired (a Z
 * coordinate would not fit the MultiPolygon column). */
export const geometryFromGeoJson = (geojson: string) => sql`ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON(${geojson})), 4326)`

/**
 * Turns each staged raw geometry into a valid MultiPolygon: ST_MakeValid repairs self-intersections
 * (a bow-tie becomes two triangles) and ST_CollectionExtract drops the lines and points MakeValid can
 * leave behind. Valid input skips MakeValid, which would only cost time. Returns how many were repaired.
 */
export const repairStagedGeometries = sql`
  WITH fixed AS (
    UPDATE import_staging SET
      repaired = NOT ST_IsValid(raw),
      geom = CASE WHEN ST_IsValid(raw) THEN ST_Multi(raw) ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(raw), 3)) END
    RETURNING repaired)
  SELECT count(*) FILTER (WHERE repaired) AS repaired FROM fixed`

/**
 * For each staged child without a parent, the area of `parentLevel` in `country` it overlaps most.
 * The bbox operator narrows candidates through the GiST index. A child whose bbox meets a single
 * candidate that holds the child's interior point needs no polygon overlay (a point test, not
 * ST_Intersects, so a neighbour that merely shares an edge does not count); every other child pays
 * for ST_Intersection areas, and an overlap of zero area (touching only) is no parent. Planar degrees
 * are fine for ranking the overlaps of one child: the scale distortion is the same for every candidate
 * within a few kilometres.
 */
export const assignParentsByLargestOverlap = (country: string, parentLevel: number) => sql`
  WITH candidates AS (
    SELECT s.idx, p.pcode, p.geom AS parent_geom, s.geom AS child_geom,
           count(*) OVER (PARTITION BY s.idx) AS n
    FROM import_staging s
    JOIN areas p ON p.country = ${country} AND p.admin_level = ${parentLevel} AND p.geom && s.geom
    WHERE s.parent_pcode IS NULL
  ), scored AS (
    SELECT idx, pcode,
           CASE WHEN n = 1 AND ST_Intersects(parent_geom, ST_PointOnSurface(child_geom)) THEN 1
                WHEN NOT ST_Intersects(parent_geom, child_geom) THEN 0
                ELSE ST_Area(ST_Intersection(parent_geom, child_geom)) END AS overlap
    FROM candidates
  ), best AS (
    SELECT DISTINCT ON (idx) idx, pcode, overlap FROM scored ORDER BY idx, overlap DESC, pcode
  )
  UPDATE import_staging s SET parent_pcode = best.pcode
  FROM best WHERE best.idx = s.idx AND best.overlap > 0
  RETURNING s.idx`

/** Staged rows whose geometry repair left nothing polygonal. */
export const emptyStagedGeometries = sql`DELETE FROM import_staging WHERE geom IS NULL OR ST_IsEmpty(geom) RETURNING idx`

/** Whether the area of alias `a` contains the point; ST_Covers semantics (boundary points are inside). */
export const coversPoint = (lat: number, lon: number) => sql`a.pcode IN (${coveringPcodes(pointSql({ lat, lon }))})`
