// The reference answer for pathways, for tests and `npm run bench:pathways -- --check`: the first, plain
// version of the chains query. It computes health for every active link in the database and enumerates every
// simple path up to max_hops, so it is slow on a large network but obviously right; the service's bounded
// query must answer exactly the same chains in the same order.
import { sql } from 'drizzle-orm'
import { linkHealth, type HealthSettings } from '../../src/modules/referral-links/health.js'
import { distanceBetweenM } from '../../src/modules/referral-links/spatial.js'

export const referenceChainsSql = (start: string, category: string, maxHops: number, limit: number, s: HealthSettings) => sql`
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
