// Pathway SQL: the chains query and the provider summaries a pathway answer is made of. The start point's
// nearest focal point is geometry, in spatial.ts.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { LatLon } from '../../lib/geo.js'
import { locationMasked, roundedToGrain, type Viewer } from '../../lib/location-visibility.js'
import { linkHealth, type HealthSettings } from '../referral-links/health.js'
import type { LinkEnd } from '../referral-links/schemas.js'
import { distanceBetweenM, linkEnd } from '../referral-links/spatial.js'
import { nearestFocalPointSql } from './spatial.js'

type ChainRow = {
  path: string[]
  link_ids: string[]
  hops: number
  distance_m: number
}

/**
 * What a chain is (the same since the first version, which test/pathways/reference.ts keeps as the oracle):
 * - usable links are active and not broken (ok or at_risk; at_risk links are shown with their reasons),
 *   health coming from the same SQL as everywhere else (linkHealth);
 * - a chain is a simple path (no provider twice) of at most max_hops links starting at the start provider;
 * - it answers when its last link carries the category and its last provider is active and offers it.
 *   Earlier links may carry any category: a focal point passes a survivor to a union chairman, who knows the
 *   legal-aid NGO. Chains may pass through a provider that offers the category; they rank after the shorter
 *   chain that stops there.
 * Ordered by hops, then total geodesic distance, then the path itself so equal chains come in a fixed order;
 * the first `limit` of them.
 *
 * How they are found, in one statement that reads only the network near the start (the first version
 * computed health for every active link in the database, then enumerated every simple path up to max_hops:
 * 3-5 s a request at 20,000 providers; bench/README.md has the figures):
 * 1. reach: the providers within max_hops - 1 active links of the start, ids only, no health. Rows are
 *    distinct (provider, depth) pairs: at most max_hops rows per provider, however many paths lead there.
 * 2. near_links: the active links out of those providers (the only links a chain can use), ids only, read
 *    through referral_links_pair one provider at a time (the OFFSET 0 keeps the planner from hashing the
 *    whole table instead), each marked with whether it carries the category.
 * 3. to_go: for each of those providers, the fewest links to the end of a link carrying the category (a walk
 *    backwards over near_links, up to max_hops - 1). It ignores health, the end's status and the
 *    no-provider-twice rule, so it never overestimates.
 * 4. walk: the chains, one length per iteration. A chain is extended by a link only if the link carries the
 *    category or to_go says its end can still lead to one within the hops left; only then is the link's
 *    health computed (linkHealth, per extension). Each row carries how many answering chains exist up to its
 *    own length (a window count over the iteration); once that reaches `limit`, no longer chain is built,
 *    because every chain of that length or shorter ranks ahead of every longer one.
 * Every cut is exact: the same chains in the same order as the reference (test/pathways/bounded.test.ts and
 * `npm run bench:pathways -- --check` compare them). Cost: the ids-only pass over the (max_hops - 1)-link
 * neighbourhood of the start, plus health for the extensions the walk tries. What stays exponential is the
 * walk's worst case, as for any search for the shortest simple paths: fewer than `limit` answering chains
 * within max_hops, reachable along very many paths (no cap: any cap on partial chains can change answers).
 */
export const chainsSql = (start: string, category: string, maxHops: number, limit: number, s: HealthSettings) => sql`
  WITH RECURSIVE reach (provider_id, depth) AS (
    SELECT ${start}::uuid, 0
    UNION
    SELECT l.to_provider_id, r.depth + 1
    FROM reach r
    CROSS JOIN LATERAL (
      SELECT l.to_provider_id FROM referral_links l WHERE l.from_provider_id = r.provider_id AND l.status = 'active' OFFSET 0) l
    WHERE r.depth < ${maxHops - 1}::int
  ),
  near_links AS MATERIALIZED (
    SELECT l.id, l.from_provider_id, l.to_provider_id, ${category}::text = ANY (l.categories) AS carries
    FROM (SELECT DISTINCT provider_id FROM reach) r
    CROSS JOIN LATERAL (
      SELECT l.id, l.from_provider_id, l.to_provider_id, l.categories FROM referral_links l
      WHERE l.from_provider_id = r.provider_id AND l.status = 'active' OFFSET 0) l
  ),
  to_go (provider_id, links) AS (
    SELECT DISTINCT n.from_provider_id, 1 FROM near_links n WHERE n.carries
    UNION
    SELECT n.from_provider_id, t.links + 1
    FROM to_go t JOIN near_links n ON n.to_provider_id = t.provider_id
    WHERE t.links < ${maxHops - 1}::int
  ),
  fewest_to_go AS MATERIALIZED (SELECT provider_id, min(links) AS links FROM to_go GROUP BY provider_id),
  walk (provider_id, path, link_ids, answers, hops, distance_m, answers_so_far) AS (
    SELECT ${start}::uuid, ARRAY[${start}::uuid], ARRAY[]::uuid[], false, 0, 0::float8, 0::bigint
    UNION ALL
    SELECT n.to_provider_id, w.path || n.to_provider_id, w.link_ids || n.id, e.answers, w.hops + 1,
           w.distance_m + e.distance_m, w.answers_so_far + count(*) FILTER (WHERE e.answers) OVER ()
    FROM walk w
    JOIN near_links n ON n.from_provider_id = w.provider_id
    LEFT JOIN fewest_to_go f ON f.provider_id = n.to_provider_id
    CROSS JOIN LATERAL (
      SELECT n.carries AND tp.status = 'active' AND ${category}::text = ANY (tp.categories) AS answers,
             ${distanceBetweenM('fp', 'tp')} AS distance_m
      FROM referral_links l
      JOIN providers fp ON fp.id = l.from_provider_id
      JOIN providers tp ON tp.id = l.to_provider_id
      CROSS JOIN LATERAL ${linkHealth('l', s)} AS h
      WHERE l.id = n.id AND h.health <> 'broken' OFFSET 0) e
    WHERE w.hops < ${maxHops}::int AND w.answers_so_far < ${limit}::int AND n.to_provider_id <> ALL (w.path)
      AND (n.carries OR f.links <= ${maxHops - 1}::int - w.hops)
  )
  SELECT w.path::text[] AS path, w.link_ids::text[] AS link_ids, w.hops, w.distance_m
  FROM walk w
  WHERE w.answers
  ORDER BY w.hops, w.distance_m, w.path
  LIMIT ${limit}::int`

/**
 * The chains of `chains` (chainsSql) as `viewer` is shown them. The search and its order use the real points, as
 * nearest does; but a chain through any provider whose location is masked for the viewer reports its distance
 * rounded to whole kilometres (roundedToGrain), like every distance to a masked provider. A chain's distance is a
 * sum of legs: exact legs to and from known providers could otherwise be subtracted out, and the remaining leg
 * from several starts would triangulate the masked provider. Rounded, what is left is no finer than nearest's
 * rounded distance_m, which the confidentiality rule already allows.
 */
const shownChainsSql = (chains: SQL, viewer: Viewer) => sql`
  SELECT c.path, c.link_ids, c.hops,
         CASE WHEN m.masked THEN ${roundedToGrain(sql`c.distance_m`)} ELSE c.distance_m END AS distance_m
  FROM (${chains}) c
  CROSS JOIN LATERAL (
    SELECT coalesce(bool_or(${locationMasked('cp', viewer)}), false) AS masked
    FROM providers cp WHERE cp.id = ANY (c.path::uuid[])) m
  ORDER BY c.hops, c.distance_m, c.path::uuid[]`

export function pathwaysRepo(ex: Executor, settings: HealthSettings) {
  return {
    async nearestFocalPoint(p: LatLon, viewer: Viewer): Promise<{ id: string; distance_m: number } | undefined> {
      const { rows } = await ex.execute<{ id: string; distance_m: number }>(nearestFocalPointSql(p, viewer))
      return rows[0]
    },

    /** The link-end summary of each of these providers as `viewer` may see it, by id. */
    async providerEnds(ids: string[], viewer: Viewer): Promise<Map<string, LinkEnd>> {
      const { rows } = await ex.execute<{ id: string; end: LinkEnd }>(
        sql`SELECT p.id, ${linkEnd('p', viewer)} AS "end" FROM providers p WHERE p.id = ANY (${sql.param(ids)}::uuid[])`,
      )
      return new Map(rows.map((r) => [r.id, r.end]))
    },

    /** The chains (chainsSql), their distances as `viewer` is shown them. */
    async chains(start: string, category: string, maxHops: number, limit: number, viewer: Viewer): Promise<ChainRow[]> {
      const { rows } = await ex.execute<ChainRow>(shownChainsSql(chainsSql(start, category, maxHops, limit, settings), viewer))
      return rows
    },
  }
}
