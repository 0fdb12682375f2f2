// The statements behind GET /v1/stats. A provider belongs to a country when one of its areas does.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { today } from '../../lib/today.js'
import { CATEGORIES, type Category } from '../../lib/vocabulary.js'
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
 * The nearest active provider of `category` to the area a's representative point, in metres on the spheroid: the
 * KNN order `<->` on location::geography with the category written as a literal, so that the planner picks the
 * partial index providers_nearest_<category> (a bound parameter would not match its predicate).
 */
const nearestM = (category: Category) => {
  const literal = sql.raw(`'{${category}}'`)
  return sql`(SELECT ST_Distance(p.location::geography, a.rep_point::geography)
              FROM providers p
              WHERE p.status = 'active' AND p.categories @> ${literal}
              ORDER BY p.location::geography <-> a.rep_point::geography
              LIMIT 1)`
}

/**
 * Per admin level of the country: how many areas, and for each category how many of them have no active provider of
 * it within gapM metres of their representative point. One statement; five index-driven lookups per area.
 */
export const gapsSql = (country: string, gapM: number): SQL => sql`
  SELECT a.admin_level::int AS admin_level, count(*)::int AS areas,
         ${sql.join(
           CATEGORIES.map((c) => sql`count(*) FILTER (WHERE n.${sql.identifier(c)} IS NULL OR n.${sql.identifier(c)} > ${gapM}::float8)::int AS ${sql.identifier(c)}`),
           sql`, `,
         )}
  FROM areas a
  -- OFFSET 0 keeps the subquery whole: pulled up, each lookup would run once per reference to its column.
  CROSS JOIN LATERAL (SELECT ${sql.join(CATEGORIES.map((c) => sql`${nearestM(c)} AS ${sql.identifier(c)}`), sql`, `)} OFFSET 0) n
  WHERE a.country = ${country}
  GROUP BY a.admin_level ORDER BY a.admin_level`

export function statsRepo(db: Executor) {
  async function grouped(expr: SQL, where: SQL, from: SQL = sql`providers p`) {
    const { rows } = await db.execute<{ k: string; n: number }>(sql`
      SELECT ${expr} AS k, count(*)::int AS n FROM ${from} WHERE ${where} GROUP BY 1`)
    return rows
  }

  return {
    async stats(q: StatsQuery, staleMonths: number): Promise<Stats> {
      const country = inCountry(q.country)
      const active = sql`${country} AND p.status = 'active'`
      const staleBefore = sql`(${today} - make_interval(months => ${staleMonths}::int))::date`
      const [{ as_of }] = (await db.execute<{ as_of: string }>(sql`SELECT ${today}::text AS as_of`)).rows
      const byStatus = await grouped(sql`p.status`, country)
      const byKind = await grouped(sql`p.kind`, country)
      const byCategory = await grouped(sql`c.category`, country, sql`providers p CROSS JOIN LATERAL unnest(p.categories) AS c (category)`)
      const activeByCategory = await grouped(sql`c.category`, active, sql`providers p CROSS JOIN LATERAL unnest(p.categories) AS c (category)`)
      const mou = await db.execute<{ category: string; k: string; n: number }>(sql`
        SELECT c.category, ${mouStatusForCategory(sql`p.id`, sql`c.category`)} AS k, count(*)::int AS n
        FROM providers p CROSS JOIN LATERAL unnest(p.categories) AS c (category)
        WHERE ${active} GROUP BY 1, 2`)
      const [staleness] = (
        await db.execute<Stats['active']['staleness']>(sql`
          SELECT count(*) FILTER (WHERE p.verified_on IS NULL)::int AS never_verified,
                 count(*) FILTER (WHERE p.verified_on < ${staleBefore})::int AS not_verified,
                 count(*) FILTER (WHERE p.funded_until < ${today})::int AS funding_ended,
                 count(*) FILTER (WHERE p.verified_on IS NULL OR p.verified_on < ${staleBefore} OR p.funded_until < ${today})::int AS stale
          FROM providers p WHERE ${active}`)
      ).rows
      const { rows: levels } = await db.execute<Record<string, number>>(gapsSql(q.country, q.gap_km * 1000))
      const total = byStatus.reduce((s, r) => s + r.n, 0)
      return {
        country: q.country,
        as_of,
        stale_months: staleMonths,
        providers: {
          total,
          by_status: tally(ProviderStatus.options, byStatus),
          by_kind: tally(ProviderKind.options, byKind),
          by_category: tally(CATEGORIES, byCategory),
        },
        active: {
          total: byStatus.find((r) => r.k === 'active')?.n ?? 0,
          by_category: tally(CATEGORIES, activeByCategory),
          mou_status: Object.fromEntries(
            CATEGORIES.map((c) => [c, tally(PROVIDER_MOU_STATUSES, mou.rows.filter((r) => r.category === c))]),
          ) as Stats['active']['mou_status'],
          staleness,
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
