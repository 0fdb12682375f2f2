// The referral network of an area: who is inside, who they link with, and where the network has holes.
import { sql } from 'drizzle-orm'
import { withStatementTimeout, type Db } from '../../db/client.js'
import { notFound, Problem } from '../../lib/problem.js'
import { mouStatusByCategory } from '../mous/sql.js'
import type { ReferralLinksService } from '../referral-links/service.js'
import { linkEnd } from '../referral-links/spatial.js'
import { Category } from '../../lib/vocabulary.js'
import type { AreaNetwork } from './schemas.js'

type Node = AreaNetwork['nodes'][number]

/**
 * The largest network answered. The answer is one document (its summary needs the whole network), so its
 * size is bounded instead of paginated: about 1 KB a node and 1.5 KB an edge, a few MB at most. A district
 * or upazila of a real directory holds far fewer; a whole division or country may not, and then the caller
 * asks for its children instead.
 */
export const NETWORK_LIMITS = { providers: 1000, links: 2000 }

/** Each statement that reads the area's network may take this long; the counts bound what they read. */
export const NETWORK_STATEMENT_TIMEOUT_MS = 5000

export const NETWORK_TOO_LARGE = 'urn:setu:problem:network-too-large'

type LinkIds = { id: string; from_provider_id: string; to_provider_id: string }

function tooLarge(pcode: string, what: string, limit: number) {
  return new Problem(
    422,
    'Unprocessable Content',
    `Area ${pcode} has more than ${limit} ${what}, more than one network answer holds. Ask for the network of a ` +
      `smaller area: its children are listed by GET /v1/areas?parent=${pcode}.`,
    { type: NETWORK_TOO_LARGE, limit, errors: [{ path: 'pcode', message: `the area has more than ${limit} ${what}` }] },
  )
}

export function networkService(db: Db, links: ReferralLinksService) {
  return {
    async areaNetwork(pcode: string): Promise<AreaNetwork> {
      const { rows: areaRows } = await db.execute<{ pcode: string; name_en: string }>(
        sql`SELECT pcode, name_en FROM areas WHERE pcode = ${pcode}`,
      )
      if (!areaRows[0]) throw notFound('Area', pcode)
      const inArea = (alias: string) => sql`${sql.identifier(alias)}.area_pcodes @> ARRAY[${pcode}::text]`

      // Counted with LIMIT n + 1, so that a whole country costs no more to refuse than a district to answer.
      const { linkIds, nodes } = await withStatementTimeout(db, NETWORK_STATEMENT_TIMEOUT_MS, async (tx) => {
        const { rows: [inside] } = await tx.execute<{ n: number }>(sql`
          SELECT count(*) AS n FROM (SELECT 1 FROM providers p WHERE ${inArea('p')} LIMIT ${NETWORK_LIMITS.providers + 1}) x`)
        if (inside.n > NETWORK_LIMITS.providers) throw tooLarge(pcode, 'providers', NETWORK_LIMITS.providers)
        const { rows: linkIds } = await tx.execute<LinkIds>(sql`
          WITH inside AS (SELECT p.id FROM providers p WHERE ${inArea('p')})
          SELECT l.id, l.from_provider_id, l.to_provider_id FROM referral_links l WHERE l.from_provider_id IN (SELECT id FROM inside)
          UNION
          SELECT l.id, l.from_provider_id, l.to_provider_id FROM referral_links l WHERE l.to_provider_id IN (SELECT id FROM inside)
          LIMIT ${NETWORK_LIMITS.links + 1}`)
        if (linkIds.length > NETWORK_LIMITS.links) throw tooLarge(pcode, 'referral links', NETWORK_LIMITS.links)
        const linkedIds = [...new Set(linkIds.flatMap((e) => [e.from_provider_id, e.to_provider_id]))]
        const { rows } = await tx.execute<{ node: Node }>(sql`
          SELECT ${linkEnd('p')} || jsonb_build_object('inside', ${inArea('p')}, 'mou_status', ${mouStatusByCategory('p')}) AS node
          FROM providers p
          WHERE ${inArea('p')} OR p.id = ANY (${sql.param(linkedIds)}::uuid[])
          ORDER BY ${inArea('p')} DESC, p.name, p.id`)
        return { linkIds: linkIds.map((l) => l.id), nodes: rows.map((r) => r.node) }
      })
      // Health for at most NETWORK_LIMITS.links links, under the general statement_timeout: the link service
      // reads through the pool, not through the bounded transaction above.
      const edges = linkIds.length ? await links.selectLinks([sql`l.id = ANY (${sql.param(linkIds)}::uuid[])`]) : []

      const activeInside = nodes.filter((n) => n.inside && n.status === 'active')
      const usable = edges.filter((e) => e.status === 'active')
      const healthyIncoming = new Set(usable.filter((e) => e.health !== 'broken').map((e) => e.to_provider_id))
      const outgoing = new Set(usable.map((e) => e.from_provider_id))
      const ref = (n: Node) => ({ id: n.id, name: n.name })
      return {
        area: areaRows[0],
        nodes,
        edges,
        summary: {
          categories_without_provider: Category.options.filter((c) => !activeInside.some((n) => n.categories.includes(c))),
          providers_without_healthy_incoming_link: activeInside
            .filter((n) => n.kind !== 'focal_point' && !healthyIncoming.has(n.id))
            .map(ref),
          focal_points_without_outgoing_link: activeInside.filter((n) => n.kind === 'focal_point' && !outgoing.has(n.id)).map(ref),
          categories_without_mou_backed_provider: Category.options.filter(
            (c) => !activeInside.some((n) => n.mou_status[c] === 'signed'),
          ),
        },
      }
    },
  }
}

export type NetworkService = ReturnType<typeof networkService>
