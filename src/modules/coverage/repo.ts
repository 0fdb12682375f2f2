// Coverage SQL: the one statement that answers a coverage request, the check that the data it read has not changed
// (for the cache), and the topology-keeping polygon simplification of the GeoJSON output.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { today } from '../../lib/today.js'
import { CATEGORIES, type Category } from '../../lib/vocabulary.js'
import { mouEffectiveStatus } from '../mous/repo.js'
import { categoryLiteral, lookupPoint, lookupsWithoutJit, nearestFor, PROJECTIONS } from './spatial.js'

export interface CoverageSelection {
  country: 'BGD' | 'KHM'
  adminLevel: number
  /** Only areas under this one (checked to exist, to be of the country and above adminLevel). */
  parent?: string
  categories: readonly Category[]
  gapKm: number
  staleMonths: number
}

export type CoverageRow = {
  pcode: string
  name_en: string
  name_local: string | null
  parent_pcode: string | null
  admin_level: number
  category: Category
  active: number
  with_mou: number
  stale: number
  /** As the caller is shown it: rounded to whole km when the nearest provider is masked for them. */
  nearest_m: number | null
  gap: boolean
}

/**
 * The coverage statement: one row per selected area × category. `sel` is the areas of the level (under the
 * parent), with the points the nearest lookups start from; `signed` the (provider, category) pairs an effectively
 * signed MOU covers (mous/repo.ts's rule, set-based instead of a subquery per provider and category; not
 * materialized: as a materialized CTE its row count was guessed 16 times too low and the planner read all providers
 * in primary-key order for a merge join with it, twice the time of a hash join); `inside` counts the active
 * providers of each area through area_pcodes (computed on write, so no point-in-polygon here); `nearest` is one
 * index-driven lookup per area and category (spatial.ts).
 */
export function coverageSql(s: CoverageSelection, viewer: Viewer): SQL {
  const staleBefore = sql`(${today} - make_interval(months => ${s.staleMonths}::int))::date`
  const gapM = sql`${s.gapKm * 1000}::float8`
  const under = s.parent
    ? sql`AND a.pcode IN (
        WITH RECURSIVE under (pcode, admin_level) AS (
          SELECT u.pcode, u.admin_level FROM areas u WHERE u.pcode = ${s.parent}
          UNION ALL
          SELECT c.pcode, c.admin_level FROM areas c JOIN under ON c.parent_pcode = under.pcode
          WHERE c.admin_level <= ${s.adminLevel}::int)
        SELECT pcode FROM under)`
    : sql``
  // With a parent the selection is small: the area_pcodes GIN index finds its providers.
  const providersOfSelection = s.parent ? sql`AND p.area_pcodes && (SELECT array_agg(pcode) FROM sel)` : sql``
  const onlyCategories =
    s.categories.length < CATEGORIES.length
      ? sql`AND pc.category IN (${sql.join(s.categories.map(categoryLiteral), sql`, `)})`
      : sql``
  return sql`
    WITH sel AS MATERIALIZED (
      SELECT a.pcode, a.name_en, a.name_local, a.parent_pcode, a.admin_level, ${lookupPoint(s.country, 'a')}
      FROM areas a
      WHERE a.country = ${s.country} AND a.admin_level = ${s.adminLevel}::int ${under}
    ),
    signed AS (
      SELECT DISTINCT m.provider_id, mc.category
      FROM mous m CROSS JOIN LATERAL unnest(m.categories) AS mc (category)
      WHERE ${mouEffectiveStatus('m')} = 'signed'
    ),
    inside AS (
      SELECT ap.pcode, pc.category, count(*)::int AS active,
             count(signed.provider_id)::int AS with_mou,
             count(*) FILTER (WHERE p.verified_on IS NULL OR p.verified_on < ${staleBefore} OR p.funded_until < ${today})::int AS stale
      FROM providers p
      CROSS JOIN LATERAL unnest(p.area_pcodes) AS ap (pcode)
      CROSS JOIN LATERAL unnest(p.categories) AS pc (category)
      LEFT JOIN signed ON signed.provider_id = p.id AND signed.category = pc.category
      WHERE p.status = 'active' ${providersOfSelection} ${onlyCategories}
        AND ap.pcode IN (SELECT pcode FROM sel)
      GROUP BY ap.pcode, pc.category
    ),
    nearest AS (
      ${sql.join(
        s.categories.map((c) => nearestFor(s.country, c, viewer, gapM)),
        sql` UNION ALL `,
      )}
    )
    SELECT sel.pcode, sel.name_en, sel.name_local, sel.parent_pcode, sel.admin_level, n.category,
           coalesce(i.active, 0) AS active, coalesce(i.with_mou, 0) AS with_mou, coalesce(i.stale, 0) AS stale,
           n.nearest_m, n.gap
    FROM sel
    JOIN nearest n ON n.pcode = sel.pcode
    LEFT JOIN inside i ON i.pcode = n.pcode AND i.category = n.category
    ORDER BY sel.pcode, n.category`
}

export async function coverageRows(ex: Executor, s: CoverageSelection, viewer: Viewer): Promise<CoverageRow[]> {
  // The service runs it in a transaction (spatial.ts lookupsWithoutJit).
  await ex.execute(lookupsWithoutJit)
  const { rows } = await ex.execute<CoverageRow>(coverageSql(s, viewer))
  return rows.map((r) => ({ ...r, nearest_m: r.nearest_m === null ? null : Number(r.nearest_m) }))
}

/** The data a statement sees: the day (stale, MOU expiry) and the database snapshot (xmin:xmax:in-progress ids). */
export type DataState = {
  day: string
  snapshot: string
}

/** The day and the snapshot of the statement (in a REPEATABLE READ transaction: the transaction's). */
export async function dataState(ex: Executor): Promise<DataState> {
  const { rows } = await ex.execute<DataState>(sql`SELECT setu_today()::text AS day, pg_current_snapshot()::text AS snapshot`)
  return rows[0]
}

/**
 * Whether a transaction that wrote providers, MOUs or areas (the data_writes journal, migrations/0007) committed
 * after `since` was taken and before this statement's snapshot: the journal's rows this statement sees (their
 * transactions committed) that `since` did not see. Any process, script or hand-written SQL counts, through the
 * tables' triggers. The range on xid is only for the index: every transaction not visible in `since` has an id of
 * at least its xmin. Also returned: this statement's day and snapshot, which the data it saw is then known to match.
 */
export const writesSinceSql = (since: string) => sql`
  SELECT setu_today()::text AS day, pg_current_snapshot()::text AS snapshot,
    EXISTS (SELECT 1 FROM data_writes w
            WHERE w.xid >= pg_snapshot_xmin(${since}::pg_snapshot) AND NOT pg_visible_in_snapshot(w.xid, ${since}::pg_snapshot)) AS written`

export async function writesSince(ex: Executor, since: string): Promise<DataState & { written: boolean }> {
  const { rows } = await ex.execute<DataState & { written: boolean }>(writesSinceSql(since))
  return rows[0]
}

export type ParentArea = {
  pcode: string
  country: string
  admin_level: number
}

export async function findParent(ex: Executor, pcode: string): Promise<ParentArea | undefined> {
  const { rows } = await ex.execute<ParentArea>(sql`SELECT pcode, country, admin_level FROM areas WHERE pcode = ${pcode}`)
  return rows[0]
}

/** A projected CRS in metres for each country (UTM zones 46N and 48N), in which `simplify` tolerances apply. */
export const METRIC_SRID: Record<'BGD' | 'KHM', number> = { BGD: PROJECTIONS.BGD.srid, KHM: PROJECTIONS.KHM.srid }

/**
 * GeoJSON geometry text (MultiPolygon, 6 decimals) of each area, simplified to `toleranceM` metres with the
 * topology kept. Simplifying each polygon on its own (ST_SimplifyPreserveTopology per area) would move a shared
 * border differently on its two sides, leaving slivers and overlaps between neighbours; ST_CoverageSimplify, which
 * does it right, needs PostGIS 3.4 / GEOS 3.12, newer than Debian 12's. So: the borders of all the areas, unioned
 * (each shared border once, noded where three areas meet) and merged into edges between those nodes; each edge
 * simplified once (Douglas-Peucker keeps its end nodes, so edges still meet); the simplified edges polygonized
 * into faces; each face given to the area containing its interior point (area_parts, indexed) and an area's faces
 * unioned. An area left without a face (narrower than the tolerance) keeps its own simplified polygon.
 */
export async function simplifiedGeometries(
  ex: Executor,
  pcodes: string[],
  country: 'BGD' | 'KHM',
  toleranceM: number,
): Promise<Map<string, string>> {
  if (pcodes.length === 0) return new Map()
  const srid = sql.raw(String(METRIC_SRID[country]))
  const list = sql`${sql.param(pcodes)}::text[]`
  const query =
    toleranceM === 0
      ? sql`SELECT pcode, ST_AsGeoJSON(geom, 6) AS geometry FROM areas WHERE pcode = ANY (${list})`
      : sql`
    WITH a AS MATERIALIZED (SELECT pcode, ST_Transform(geom, ${srid}) AS g FROM areas WHERE pcode = ANY (${list})),
    edges AS (SELECT (ST_Dump(ST_LineMerge(ST_Union(ST_Boundary(g))))).geom AS e FROM a),
    faces AS (
      SELECT (ST_Dump(f)).geom AS f
      FROM (SELECT ST_Polygonize(ST_SimplifyPreserveTopology(e, ${toleranceM}::float8)) AS f FROM edges) x
    ),
    owned AS (
      SELECT (SELECT ap.pcode FROM area_parts ap
              WHERE ap.pcode = ANY (${list}) AND ST_Intersects(ap.geom, ST_Transform(ST_PointOnSurface(faces.f), 4326))
              LIMIT 1) AS pcode,
             faces.f
      FROM faces
    ),
    merged AS (SELECT pcode, ST_Union(f) AS g FROM owned WHERE pcode IS NOT NULL GROUP BY pcode)
    SELECT a.pcode,
           ST_AsGeoJSON(ST_Multi(ST_Transform(coalesce(merged.g, ST_SimplifyPreserveTopology(a.g, ${toleranceM}::float8)), 4326)), 6) AS geometry
    FROM a LEFT JOIN merged ON merged.pcode = a.pcode`
  const { rows } = await ex.execute<{ pcode: string; geometry: string }>(query)
  return new Map(rows.map((r) => [r.pcode, r.geometry]))
}
