// Coverage's nearest-provider SQL: for every selected area and category, the geodesic distance from the area's
// representative point to the nearest active provider of the category, anywhere. 25,800 lookups for the unions of
// Bangladesh, so each must be cheap: a planar KNN on a per-country, per-category SP-GiST index over projected
// points (migration 0005_coverage_knn.sql, which must write the same expressions as this file) picks a few
// candidates, the spheroid distance re-ranks them, and a test on those distances proves the answer exact; when it
// cannot (ties, a provider farther than the projection is trusted, an area outside its country's box), the lookup
// falls back to the geography KNN on providers_nearest_<category> (migration 0000).
//
// Why it is exact. Each country has a box R (lon/lat) and a UTM zone; a provider inside R is in the country's
// index. Two facts about a transverse Mercator projection with central scale k0 (0.9996), where the point scale
// factor k (planar length / length on the ellipsoid, the same in every direction: the projection is conformal)
// is at least k0 everywhere and at most kMax over R (PROJECTIONS; test/coverage/knn.test.ts measures k over R):
//   (a) for any two points, planar ≥ k0 · geodesic: the straight planar segment maps back to a curve on the
//       ellipsoid of length ∫ dl / k ≤ planar / k0, and the geodesic is no longer than that curve;
//   (b) if the geodesic between two points lies inside R, planar ≤ kMax · geodesic: the geodesic's image has
//       length ∫ k ds ≤ kMax · geodesic, and the straight segment is no longer than that image.
// Let `here` lie in the box B (R shrunk by G_MAX_M on every side: every point within G_MAX_M of a point of B is in
// R, see fastPathBox), c_1..c_n the n ≤ K planar-nearest providers in the index, `best` the smallest geodesic
// distance among them and `far` the largest. Suppose some active provider q of the category had geodesic(q) <
// best ≤ G_MAX_M. Its geodesic from `here` stays within G_MAX_M of `here`, so inside R: q is in the index, and by
// (b) planar(q) ≤ kMax · geodesic(q) < kMax · best. Every candidate c has planar(c) ≥ k0 · geodesic(c) by (a),
// so the planar-farthest candidate is at least k0 · far away. If k0 · far ≥ kMax · best, q is planar-nearer than
// that candidate, hence a candidate itself, and best ≤ geodesic(q): a contradiction. The same if n < K (every
// provider in the index is a candidate). So when best ≤ G_MAX_M and (n < K or k0 · far ≥ kMax · best), `best`
// is the geodesic distance to the nearest active provider of the category, exactly (ST_Distance on the spheroid).
import { sql, type SQL } from 'drizzle-orm'
import { shownDistance, type Viewer } from '../../lib/location-visibility.js'
import { CATEGORIES, type Category } from '../../lib/vocabulary.js'

export type Country = 'BGD' | 'KHM'

/** [minLon, minLat, maxLon, maxLat], degrees. */
export type LonLatBox = readonly [number, number, number, number]

export interface Projection {
  /** A UTM zone over the country (metres): 46N for Bangladesh, 48N for Cambodia. */
  srid: number
  /** R: providers inside it are in the country's coverage indexes (a box well inside the zone's domain). */
  region: LonLatBox
  /** An upper bound of the UTM point scale factor over `region` (measured ≤ 1.01105 and ≤ 1.00506). */
  kMax: number
}

/**
 * Per country. Bangladesh spans 88.0–92.7 °E, 20.6–26.7 °N, Cambodia 102.3–107.7 °E, 10.3–14.7 °N (the boundary
 * files in ../shared/data); R is that plus G_MAX_M and some room. Changing a region or SRID means a migration
 * that recreates the indexes (their predicates and expressions are these numbers).
 */
export const PROJECTIONS: Record<Country, Projection> = {
  BGD: { srid: 32646, region: [84, 17, 97, 30], kMax: 1.0115 },
  KHM: { srid: 32648, region: [99, 7, 111, 18], kMax: 1.0055 },
}

/** UTM's scale factor on its central meridian, the smallest anywhere in the projection. */
export const K0 = 0.9996

/**
 * The farthest a fast-path answer may be. Larger widens R (so kMax, and more near ties fall back); smaller sends
 * sparse categories to the fallback. A directory with a handful of shelters for all of Bangladesh still has one
 * within 300 km of most unions. With the benchmark's 100,000 providers about 1 % of the lookups fall back (ties).
 */
export const G_MAX_M = 300_000

/** Candidates read off the planar index per lookup. */
export const K = 3

/**
 * Candidates of the fallback. `geography <-> geography` (what the GiST index orders by) measures on a sphere,
 * nearest_km on the spheroid; the two differ by under 0.6 % and may swap near ties, so a few candidates are
 * re-ranked by the spheroid distance.
 */
const SLOW_CANDIDATES = 4

/** WGS 84: semi-major axis and the smallest meridional radius of curvature, a (1 − e²), in metres. */
const WGS84_A = 6_378_137
const WGS84_M_MIN = 6_335_439.327

const degrees = (radians: number) => (radians * 180) / Math.PI

/**
 * B: the points whose every point within G_MAX_M lies in R. Along any curve of length s on the ellipsoid the
 * latitude changes by at most s / M_min (M, the meridional radius, is at least a (1 − e²)) and the longitude by at
 * most s / (N cos φ) ≤ s / (a cos φmax) (N ≥ a; φmax the largest latitude the curve can reach).
 */
export function fastPathBox(country: Country): LonLatBox {
  const [x0, y0, x1, y1] = PROJECTIONS[country].region
  const dLat = degrees(G_MAX_M / WGS84_M_MIN)
  const reach = Math.max(Math.abs(y0), Math.abs(y1)) // R's own edge bounds the latitudes a point of B can reach
  const dLon = degrees(G_MAX_M / (WGS84_A * Math.cos((reach * Math.PI) / 180)))
  return [x0 + dLon, y0 + dLat, x1 - dLon, y1 - dLat]
}

/** Numbers written into the SQL text (never input): the index predicates and expressions must match literally. */
const num = (x: number) => {
  if (!Number.isFinite(x)) throw new Error(`not a number: ${x}`)
  return sql.raw(String(x))
}

/** A category written into the SQL text (whitelisted), so the planner matches the per-category partial indexes. */
export function categoryLiteral(c: Category): SQL {
  if (!CATEGORIES.includes(c)) throw new Error(`not a category: ${c}`)
  return sql.raw(`'${c}'`)
}

/** The country's index expression: the provider's point in the country's UTM zone, as a built-in point. */
export const projected = (country: Country, location: SQL) => sql`(ST_Transform(${location}, ${num(PROJECTIONS[country].srid)})::point)`

/** The country's index predicate on location: inside R (also keeps ST_Transform inside its domain). */
export const inRegion = (country: Country, location: SQL) => {
  const [x0, y0, x1, y1] = PROJECTIONS[country].region
  return sql`${location} && ST_MakeEnvelope(${num(x0)}, ${num(y0)}, ${num(x1)}, ${num(y1)}, 4326)`
}

/**
 * Columns of an area `alias` (with rep_point) that the lookups read: `here`, the point as geography, and `xy`, the
 * point projected for the fast path, NULL outside B (no fast path, and no ST_Transform outside its domain).
 */
export function lookupPoint(country: Country, alias: string): SQL {
  const rep = sql`${sql.identifier(alias)}.rep_point`
  const [x0, y0, x1, y1] = fastPathBox(country)
  return sql`(${rep}::geography) AS here,
    CASE WHEN ST_X(${rep}) BETWEEN ${num(x0)} AND ${num(x1)} AND ST_Y(${rep}) BETWEEN ${num(y0)} AND ${num(y1)}
         THEN ${projected(country, rep)} END AS xy`
}

/**
 * Run inside the transaction before a statement of many lookups (coverage, stats): their estimated cost (millions,
 * from 25,800 KNN lookups) makes PostgreSQL compile the statement with JIT, which took 0.8 s of a 3.9 s coverage
 * answer for every union of Bangladesh (bench:coverage --explain) and saves nothing back. For the transaction only.
 */
export const lookupsWithoutJit = sql`SELECT set_config('jit', 'off', true)`

/**
 * One row per row of `sel` (columns pcode, here, xy: lookupPoint) for category `c`: the distance shown to `viewer`
 * (location-visibility.ts rounds it when the nearest provider is masked for them) and the gap decided on it (a gap
 * decided on the exact distance would let a caller who may not see it find it by bisecting gap_km).
 *
 * `fast` reads K candidates off providers_coverage_<country>_<c> (the predicate, written literally, lets the
 * planner prove the partial index applies) and says whether its best is provably the nearest (the module comment);
 * `slow`, the geography KNN of providers_nearest_<c> with its candidates re-ranked on the spheroid, runs only when
 * it is not: its condition names only outer columns, so PostgreSQL tests it once per area before touching the index.
 */
export function nearestFor(country: Country, c: Category, viewer: Viewer, gapM: SQL): SQL {
  const literal = categoryLiteral(c)
  const array = sql.raw(`'{${c}}'`)
  const { kMax } = PROJECTIONS[country]
  const shown = shownDistance('nn', viewer, sql`nn.d`)
  return sql`
    SELECT sel.pcode, ${literal}::text AS category, ${shown} AS nearest_m,
           (nn.d IS NULL OR ${shown} > ${gapM}) AS gap
    FROM sel
    LEFT JOIN LATERAL (
      SELECT cand.location_visibility, cand.organisation_id, cand.d,
             (cand.d <= ${num(G_MAX_M)}
              AND (count(*) OVER () < ${num(K)} OR max(cand.d) OVER () * ${num(K0)} >= cand.d * ${num(kMax)})) AS exact
      FROM (
        SELECT p.location_visibility, p.organisation_id, ST_Distance((p.location::geography), sel.here) AS d
        FROM providers p
        WHERE sel.xy IS NOT NULL
          AND p.status = 'active' AND p.categories @> ${array}::text[] AND ${inRegion(country, sql`p.location`)}
        ORDER BY ${projected(country, sql`p.location`)} <-> sel.xy
        LIMIT ${num(K)}
      ) cand
      ORDER BY cand.d
      LIMIT 1
    ) fast ON true
    LEFT JOIN LATERAL (
      SELECT cand.location_visibility, cand.organisation_id, ST_Distance(cand.geog, sel.here) AS d
      FROM (
        SELECT p.location_visibility, p.organisation_id, (p.location::geography) AS geog
        FROM providers p
        WHERE fast.exact IS NOT TRUE
          AND p.status = 'active' AND p.categories @> ${array}::text[]
        ORDER BY (p.location::geography) <-> sel.here
        LIMIT ${num(SLOW_CANDIDATES)}
      ) cand
      ORDER BY d
      LIMIT 1
    ) slow ON true
    CROSS JOIN LATERAL (
      SELECT CASE WHEN fast.exact THEN fast.location_visibility ELSE slow.location_visibility END AS location_visibility,
             CASE WHEN fast.exact THEN fast.organisation_id ELSE slow.organisation_id END AS organisation_id,
             CASE WHEN fast.exact THEN fast.d ELSE slow.d END AS d
    ) nn`
}
