// The statements behind GET /v1/stats. A provider belongs to a country when one of its areas does.
import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { today } from '../../lib/today.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { CATEGORIES } from '../../lib/vocabulary.js'
import { categoryLiteral, lookupPoint, lookupsWithoutJit, nearestFor, type Country } from '../coverage/spatial.js'
import { mouStatusForCategory, PROVIDER_MOU_STATUSES } from '../mous/repo.js'
import { ProviderKind, ProviderStatus } from '../providers/schemas.js'
import type { Stats, StatsQuery } from './schemas.js'

const inCountry = (country: string) =>
  sql`EXISTS (SELECT 1 FROM areas ca WHERE ca.pcode = ANY (p.area_pcodes) AND ca.country = ${country})`

/** {key: 0, …} for every key, then the counted ones. */
function tally<K extends string>(keys: readonly K[], rows: Array<{ k: string; n: number }>): Record<K, number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>
  for (const r of rows) if (r.k in out) out[r.k as K] = r.n
  return out
}

/**
 * Per admin level of the country: how many areas, and for each category how many of them have no active provider of
 * it within gapM metres of their representative point (providers anywhere count). One statement; the nearest
 * provider of each area and category is coverage's lookup (coverage/spatial.ts nearestFor, exact on the spheroid),
 * over every area of the country at once, and the gap is decided on the distance `viewer` is shown, as coverage
 * decides it. `gaps` folds the lookups into one row per area before the area's level is read back by primary key
 * (40 ms less than grouping the 28,880 lookups by level, bench:stats at 5,000 providers). Not by joining `sel`:
 * without statistics on areas (just imported) the planner guesses 81 areas for a country, and joined 5,776 × 28,880
 * rows in a nested loop (20 s).
 */
export const gapsSql = (country: Country, gapM: number, viewer: Viewer): SQL => sql`
  WITH sel AS MATERIALIZED (
    SELECT a.pcode, ${lookupPoint(country, 'a')} FROM areas a WHERE a.country = ${country}
  ),
  nearest AS (
    ${sql.join(
      CATEGORIES.map((c) => nearestFor(country, c, viewer, sql`${gapM}::float8`)),
      sql` UNION ALL `,
    )}
  ),
  gaps AS (
    SELECT n.pcode,
           ${sql.join(
             CATEGORIES.map((c) => sql`bool_or(n.gap) FILTER (WHERE n.category = ${categoryLiteral(c)}) AS ${sql.identifier(c)}`),
             sql`, `,
           )}
    FROM nearest n GROUP BY n.pcode
  )
  SELECT a.admin_level::int AS admin_level, count(*)::int AS areas,
         ${sql.join(CATEGORIES.map((c) => sql`count(*) FILTER (WHERE g.${sql.identifier(c)})::int AS ${sql.identifier(c)}`), sql`, `)}
  FROM gaps g JOIN areas a ON a.pcode = g.pcode
  GROUP BY a.admin_level ORDER BY a.admin_level`

type Counted = Array<{ k: string; n: number }>
type Totals = {
  as_of: string
  by_status: Counted
  by_kind: Counted
  by_category: Counted
  active_by_category: Counted
  mou: Array<{ category: string; k: string; n: number }>
  staleness: Stats['active']['staleness']
}

/**
 * Every total in one statement: the country's providers are found once (cp, materialised) and each count is a
 * small aggregate over them.
 */
export const totalsSql = (country: string, staleMonths: number): SQL => {
  const staleBefore = sql`(${today} - make_interval(months => ${staleMonths}::int))::date`
  const counted = (expr: SQL, from: SQL, where: SQL = sql`true`) => sql`(
    SELECT coalesce(json_agg(json_build_object('k', x.k, 'n', x.n)), '[]'::json)
    FROM (SELECT ${expr} AS k, count(*)::int AS n FROM ${from} WHERE ${where} GROUP BY 1) x)`
  const withCategories = sql`cp CROSS JOIN LATERAL unnest(cp.categories) AS c (category)`
  return sql`
    WITH cp AS MATERIALIZED (
      SELECT p.id, p.status, p.kind, p.categories, p.verified_on, p.funded_until FROM providers p WHERE ${inCountry(country)})
    SELECT ${today}::text AS as_of,
           ${counted(sql`cp.status`, sql`cp`)} AS by_status,
           ${counted(sql`cp.kind`, sql`cp`)} AS by_kind,
           ${counted(sql`c.category`, withCategories)} AS by_category,
           ${counted(sql`c.category`, withCategories, sql`cp.status = 'active'`)} AS active_by_category,
           (SELECT coalesce(json_agg(json_build_object('category', x.category, 'k', x.k, 'n', x.n)), '[]'::json)
            FROM (SELECT c.category, ${mouStatusForCategory(sql`cp.id`, sql`c.category`)} AS k, count(*)::int AS n
                  FROM ${withCategories} WHERE cp.status = 'active' GROUP BY 1, 2) x) AS mou,
           (SELECT json_build_object(
                     'never_verified', count(*) FILTER (WHERE cp.verified_on IS NULL),
                     'not_verified', count(*) FILTER (WHERE cp.verified_on < ${staleBefore}),
                     'funding_ended', count(*) FILTER (WHERE cp.funded_until < ${today}),
                     'stale', count(*) FILTER (WHERE cp.verified_on IS NULL OR cp.verified_on < ${staleBefore} OR cp.funded_until < ${today}))
            FROM cp WHERE cp.status = 'active') AS staleness`
}

export function statsRepo(db: Db) {
  return {
    /** Two statements, after the lookups' setting: the totals, and the gaps (a nearest lookup per area and category). */
    async stats(q: StatsQuery, staleMonths: number, viewer: Viewer): Promise<Stats> {
      // One snapshot for both, so that the totals and the gaps describe the same directory.
      const [t, levels] = await db.transaction(
        async (tx) => {
          await tx.execute(lookupsWithoutJit)
          return [
            (await tx.execute<Totals>(totalsSql(q.country, staleMonths))).rows[0],
            (await tx.execute<Record<string, number>>(gapsSql(q.country, q.gap_km * 1000, viewer))).rows,
          ] as const
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      )
      const total = t.by_status.reduce((s, r) => s + r.n, 0)
      return {
        country: q.country,
        as_of: t.as_of,
        stale_months: staleMonths,
        providers: {
          total,
          by_status: tally(ProviderStatus.options, t.by_status),
          by_kind: tally(ProviderKind.options, t.by_kind),
          by_category: tally(CATEGORIES, t.by_category),
        },
        active: {
          total: t.by_status.find((r) => r.k === 'active')?.n ?? 0,
          by_category: tally(CATEGORIES, t.active_by_category),
          mou_status: Object.fromEntries(
            CATEGORIES.map((c) => [c, tally(PROVIDER_MOU_STATUSES, t.mou.filter((r) => r.category === c))]),
          ) as Stats['active']['mou_status'],
          staleness: t.staleness,
        },
        gaps: {
          gap_km: q.gap_km,
          levels: levels.map((l) => ({
            admin_level: l.admin_level,
            areas: l.areas,
            without: Object.fromEntries(CATEGORIES.map((c) => [c, l[c]])) as Stats['gaps']['levels'][number]['without'],
          })),
        },
      }
    },
  }
}
