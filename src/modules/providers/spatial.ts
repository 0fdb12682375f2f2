// The only place provider geometry SQL is written. What a caller is shown of a provider's point is decided in
// lib/location-visibility.ts; the ranking here uses the real point, the radius and box filters what the caller
// is shown (else narrowing them step by step would find a masked provider's real point).
import { sql, type SQL } from 'drizzle-orm'
import type { BBox } from '../../lib/geo.js'
import { insideShownEnvelope, withinShownDistance, type Viewer } from '../../lib/location-visibility.js'
import { pointSql, type Bound, type BoundPoint } from '../../lib/point.js'
import { mouStatusFilter } from '../mous/repo.js'
import { CATEGORIES, ProviderKind, Requirement, type NearestQuery, type ProviderStatus } from './schemas.js'

const REQUIREMENTS = Requirement.options

// The nearest query and the bulk insert read the shared point builder under this name.
export const point = pointSql

/** Geography of the query point: metres on the WGS 84 spheroid. */
const geog = (p: BoundPoint) => sql`${point(p)}::geography`

// `(p.location::geography)` is written exactly as the expression indexes define it, or the planner cannot use them.
const locationGeog = sql`(p.location::geography)`

/** Within `metres` of p, as `viewer` sees the provider (a masked one by its rounded distance: location-visibility.ts). */
export const withinM = (p: BoundPoint, metres: Bound, viewer: Viewer) =>
  withinShownDistance('p', viewer, locationGeog, geog(p), sql`${metres}::float8`)

// Transform the constant, not the column: the envelope is built in 4326 so the GiST index on location applies.
/** Inside the box, as `viewer` sees the provider (a masked one by its approximate point: location-visibility.ts). */
export const intersectsBBox = (b: BBox, viewer: Viewer) =>
  insideShownEnvelope(
    'p',
    viewer,
    sql`ST_MakeEnvelope(${b.minLon}::float8, ${b.minLat}::float8, ${b.maxLon}::float8, ${b.maxLat}::float8, 4326)`,
  )

/** Whitelisted literals: written into the SQL text so the planner can match a partial index's predicate. */
const categoryLiteral = (c: string) => {
  if (!CATEGORIES.includes(c as (typeof CATEGORIES)[number])) throw new Error(`not a category: ${c}`)
  return sql.raw(`'{${c}}'::text[]`)
}
/** Values of an enum as a text[] literal, each checked against it: a filter's values are part of the query shape anyway. */
const enumArrayLiteral = (values: readonly string[], allowed: readonly string[]) => {
  for (const v of values) if (!allowed.includes(v)) throw new Error(`not one of ${allowed.join(', ')}: ${v}`)
  return sql.raw(`'{${values.join(',')}}'::text[]`)
}
const statusLiteral = (s: ProviderStatus) => {
  if (!['active', 'suspended', 'closed'].includes(s)) throw new Error(`not a status: ${s}`)
  return sql.raw(`'${s}'`)
}

/**
 * Extra KNN candidates fetched before re-ranking. `geography <-> geography` (the operator the GiST index can
 * order by) measures on a sphere, while distance_m is on the WGS 84 spheroid; the two differ by under 0.6 % and
 * can swap providers that are nearly tied, so the inner query reads a margin of candidates past `limit` and the
 * outer query re-ranks them by the spheroid distance. A provider outside the top limit + margin on the sphere
 * would have to be > 0.6 % closer on the spheroid than limit + margin others, which the margin makes implausible.
 */
export const knnMargin = (limit: number) => Math.max(10, limit)

/**
 * How many KNN candidates the inner query reads: limit + knnMargin(limit) rounded up to one of a few sizes, written
 * into the SQL text. With the LIMIT as a bound parameter PostgreSQL costs a generic plan as if a tenth of the
 * table were wanted, never settles on it, and plans every execution of the prepared statement afresh (about half
 * of the query's CPU time); with a literal it plans each statement once. A few sizes keep the statements few (one
 * per shape and size, not per limit); reading a few more candidates only widens the margin.
 */
const CANDIDATE_SIZES = [15, 20, 40, 80, 120, 200]
export const knnCandidates = (limit: number) => {
  const wanted = limit + knnMargin(limit)
  const size = CANDIDATE_SIZES.find((s) => s >= wanted) ?? wanted
  if (!Number.isInteger(size)) throw new Error(`not a row count: ${size}`)
  return sql.raw(String(size))
}

/**
 * The values of a nearest query that change from request to request and reach the SQL only as bound parameters
 * (whether each is given is part of the query's shape): with placeholders in their place, nearestSql builds a
 * statement that serves every request of its shape (nearest-json.ts). NEAREST_BOUND_FIELDS are the NearestQuery
 * fields behind them; a value whose field is absent is never bound.
 */
export type NearestBound = BoundPoint & { age: Bound; max_m: Bound }
export const NEAREST_BOUND_FIELDS = ['lat', 'lon', 'age', 'max_km'] as const
export const nearestBound = (q: NearestQuery): NearestBound => ({
  lat: q.lat,
  lon: q.lon,
  age: q.age ?? 0,
  max_m: (q.max_km ?? 0) * 1000,
})

/**
 * The nearest-providers query. The inner query is index-driven (KNN `<->` on the geography GiST index: the
 * per-category partial index when a category is given and status is active, else providers_location_geog_gist);
 * the outer query computes the spheroid distance for those candidates only and re-ranks them.
 * `select` is the column list the outer query returns over alias p, through the mask of lib/location-visibility.ts
 * (nearest-json.ts's JSON text of each field; the tests pass repo's providerSelect); distance_m is the real distance,
 * which ranks, and which the caller masks around this query. `bound` holds the values to bind, or placeholders.
 */
export function nearestSql(q: NearestQuery, select: SQL, viewer: Viewer, bound: NearestBound = nearestBound(q)): SQL {
  const here = geog(bound)
  const filters: SQL[] = [sql`p.status = ${statusLiteral(q.status)}`]
  if (q.category) filters.push(sql`p.categories @> ${categoryLiteral(q.category)}`)
  if (q.max_km !== undefined) filters.push(withinM(bound, bound.max_m, viewer))
  if (q.gender) filters.push(sql`(p.eligible_genders = '{}' OR ${q.gender}::text = ANY(p.eligible_genders))`)
  if (q.age !== undefined) {
    filters.push(sql`(p.min_age IS NULL OR p.min_age <= ${bound.age}::int) AND (p.max_age IS NULL OR ${bound.age}::int <= p.max_age)`)
  }
  if (q.cost) filters.push(sql`p.cost = ${q.cost}::text`)
  // A post-filter on the KNN scan like gender and age: none of the requirements the survivor cannot meet.
  if (q.not_requiring?.length) filters.push(sql`NOT (p.requires && ${enumArrayLiteral(q.not_requiring, REQUIREMENTS)})`)
  if (q.kind) filters.push(sql`p.kind = ${q.kind}::text`)
  if (q.not_kind?.length) filters.push(sql`p.kind <> ALL (${enumArrayLiteral(q.not_kind, ProviderKind.options)})`)
  if (q.mou_status) filters.push(mouStatusFilter(sql`p.id`, q.mou_status, q.category))
  return sql`
    SELECT ${select}, ST_Distance((p.location::geography), ${here}) AS distance_m
    FROM (
      SELECT * FROM providers p
      WHERE ${sql.join(filters, sql` AND `)}
      ORDER BY ${locationGeog} <-> ${here}
      LIMIT ${knnCandidates(q.limit)}
    ) p
    ORDER BY distance_m, p.id
    LIMIT ${q.limit}::int`
}
