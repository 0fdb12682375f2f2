// The referral network of an area: who is inside, who they link with, and where the network has holes.
import { withStatementTimeout, type Db } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { notFound, Problem } from '../../lib/problem.js'
import { linkIdIn } from '../referral-links/repo.js'
import type { ReferralLinksService } from '../referral-links/service.js'
import { Category } from '../../lib/vocabulary.js'
import { networkRepo, type Node } from './repo.js'
import type { AreaNetwork } from './schemas.js'

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
  const repo = networkRepo(db)

  return {
    /** Nodes and edges show providers as `viewer` may see them (linkEnd); nothing else in the answer holds a point. */
    async areaNetwork(pcode: string, viewer: Viewer): Promise<AreaNetwork> {
      const area = await repo.findArea(pcode)
      if (!area) throw notFound('Area', pcode)

      // Counted with LIMIT n + 1, so that a whole country costs no more to refuse than a district to answer.
      const { linkIds, nodes } = await withStatementTimeout(db, NETWORK_STATEMENT_TIMEOUT_MS, async (tx) => {
        const txRepo = networkRepo(tx)
        if ((await txRepo.countProvidersInside(pcode, NETWORK_LIMITS.providers)) > NETWORK_LIMITS.providers) {
          throw tooLarge(pcode, 'providers', NETWORK_LIMITS.providers)
        }
        const linkIds = await txRepo.linksTouching(pcode, NETWORK_LIMITS.links)
        if (linkIds.length > NETWORK_LIMITS.links) throw tooLarge(pcode, 'referral links', NETWORK_LIMITS.links)
        const linkedIds = [...new Set(linkIds.flatMap((e) => [e.from_provider_id, e.to_provider_id]))]
        return { linkIds: linkIds.map((l) => l.id), nodes: await txRepo.nodes(pcode, linkedIds, viewer) }
      })
      // Health for at most NETWORK_LIMITS.links links, under the general statement_timeout: the link service
      // reads through the pool, not through the bounded transaction above.
      const edges = linkIds.length ? await links.selectLinks([linkIdIn(linkIds)], viewer) : []

      const activeInside = nodes.filter((n) => n.inside && n.status === 'active')
      const usable = edges.filter((e) => e.status === 'active')
      const healthyIncoming = new Set(usable.filter((e) => e.health !== 'broken').map((e) => e.to_provider_id))
      const outgoing = new Set(usable.map((e) => e.from_provider_id))
      const ref = (n: Node) => ({ id: n.id, name: n.name })
      return {
        area,
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
