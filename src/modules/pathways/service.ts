// Referral pathways: the shortest chains of usable links from a provider to providers offering a category.
import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { notFound, Problem, PROBLEM_TYPES } from '../../lib/problem.js'
import { linkHealth, type HealthSettings } from '../referral-links/health.js'
import type { ReferralLinksService } from '../referral-links/service.js'
import { distanceBetweenM, linkEnd } from '../referral-links/spatial.js'
import type { LinkEnd } from '../referral-links/schemas.js'
import type { PathwaysQuery } from './schemas.js'
import { nearestFocalPointSql } from './spatial.js'

type ChainRow = {
  path: string[]
  link_ids: string[]
  hops: number
  distance_m: number
}

/**
 * Breadth of the search, in one recursive CTE:
 * - usable links are active and not broken (ok or at_risk; at_risk links are shown with their reasons),
 *   health coming from the same SQL as everywhere else;
 * - a chain is a simple path (no provider twice) of at most max_hops links starting at the start provider;
 * - it answers when its last link carries the category and its last provider is active and offers it.
 *   Earlier links may carry any category: a focal point passes a survivor to a union chairman, who knows the
 *   legal-aid NGO. Chains may pass through a provider that offers the category; they rank after the shorter
 *   chain that stops there.
 * Ordered by hops, then total geodesic distance, then the path itself so equal chains come in a fixed order.
 */
const chainsSql = (start: string, category: string, maxHops: number, limit: number, s: HealthSettings) => sql`
  WITH RECURSIVE usable AS MATERIALIZED (
    SELECT l.id, l.from_provider_id, l.to_provider_id, l.categories, ${distanceBetweenM('fp', 'tp')} AS distance_m
    FROM referral_links l
    JOIN providers fp ON fp.id = l.from_provider_id
    JOIN providers tp ON tp.id = l.to_provider_id
    CROSS JOIN LATERAL ${linkHealth('l', s)} AS h
    WHERE l.status = 'active' AND h.health <> 'broken'
  ),
  walk (provider_id, path, link_ids, last_categories, hops, distance_m) AS (
    SELECT ${start}::uuid, ARRAY[${start}::uuid], ARRAY[]::uuid[], ARRAY[]::text[], 0, 0::float8
    UNION ALL
    SELECT u.to_provider_id, w.path || u.to_provider_id, w.link_ids || u.id, u.categories, w.hops + 1, w.distance_m + u.distance_m
    FROM walk w JOIN usable u ON u.from_provider_id = w.provider_id
    WHERE w.hops < ${maxHops} AND u.to_provider_id <> ALL (w.path)
  )
  SELECT w.path::text[] AS path, w.link_ids::text[] AS link_ids, w.hops, w.distance_m
  FROM walk w JOIN providers p ON p.id = w.provider_id
  WHERE w.hops > 0 AND ${category}::text = ANY (w.last_categories)
    AND p.status = 'active' AND ${category}::text = ANY (p.categories)
  ORDER BY w.hops, w.distance_m, w.path
  LIMIT ${limit}`

export function pathwaysService(db: Db, links: ReferralLinksService, settings: HealthSettings) {
  async function providerEnds(ids: string[]) {
    const { rows } = await db.execute<{ id: string; end: LinkEnd }>(
      sql`SELECT p.id, ${linkEnd('p')} AS "end" FROM providers p WHERE p.id = ANY (${sql.param(ids)}::uuid[])`,
    )
    return new Map(rows.map((r) => [r.id, r.end]))
  }

  return {
    async findPathways(q: PathwaysQuery) {
      let startId = q.from
      let startDistance: number | null = null
      if (!startId) {
        const { rows } = await db.execute<{ id: string; distance_m: number }>(nearestFocalPointSql({ lat: q.lat!, lon: q.lon! }))
        if (!rows[0]) {
          throw new Problem(404, 'Not Found', 'there is no active focal point to start a pathway from', { type: PROBLEM_TYPES.notFound })
        }
        startId = rows[0].id
        startDistance = rows[0].distance_m
      }
      const start = (await providerEnds([startId])).get(startId)
      if (!start) throw notFound('Provider', startId)

      const { rows: chains } = await db.execute<ChainRow>(chainsSql(startId, q.category, q.max_hops, q.limit, settings))
      const providerIds = [...new Set(chains.flatMap((c) => c.path))]
      const linkIds = [...new Set(chains.flatMap((c) => c.link_ids))]
      const ends = await providerEnds(providerIds)
      const linkRows = linkIds.length ? await links.selectLinks([sql`l.id = ANY (${sql.param(linkIds)}::uuid[])`]) : []
      const linkById = new Map(linkRows.map((l) => [l.id, l]))
      return {
        start,
        start_distance_m: startDistance,
        items: chains.map((c) => ({
          hops: c.hops,
          distance_m: c.distance_m,
          provider_ids: c.path,
          link_ids: c.link_ids,
          providers: c.path.map((id) => ends.get(id)!),
          links: c.link_ids.map((id) => linkById.get(id)!),
        })),
        next_cursor: null,
      }
    },
  }
}

export type PathwaysService = ReturnType<typeof pathwaysService>
