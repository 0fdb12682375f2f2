// Referral pathways: the shortest chains of usable links from a provider to providers offering a category.
import { withStatementTimeout, type Db } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { notFound, Problem, PROBLEM_TYPES } from '../../lib/problem.js'
import type { HealthSettings } from '../referral-links/health.js'
import { linkIdIn } from '../referral-links/repo.js'
import type { ReferralLinksService } from '../referral-links/service.js'
import { pathwaysRepo } from './repo.js'
import type { PathwaysQuery } from './schemas.js'


/**
 * The chains query's own bound. It answers in well under 200 ms on the national-scale benchmark network
 * (bench/README.md), but its worst case stays exponential (see chainsSql in repo.ts), so it gets far less than the
 * general statement_timeout: a pathological start gives its connection back early, with a 503.
 */
export const PATHWAYS_STATEMENT_TIMEOUT_MS = 5000

export function pathwaysService(db: Db, links: ReferralLinksService, settings: HealthSettings) {
  const repo = pathwaysRepo(db, settings)

  return {
    /** Providers, links and distances as `viewer` may see them (see shownChainsSql and linkEnd). */
    async findPathways(q: PathwaysQuery, viewer: Viewer) {
      let startId = q.from
      let startDistance: number | null = null
      if (!startId) {
        const nearest = await repo.nearestFocalPoint({ lat: q.lat!, lon: q.lon! }, viewer)
        if (!nearest) {
          throw new Problem(404, 'Not Found', 'there is no active focal point to start a pathway from', { type: PROBLEM_TYPES.notFound })
        }
        startId = nearest.id
        startDistance = nearest.distance_m
      }
      const start = (await repo.providerEnds([startId], viewer)).get(startId)
      if (!start) throw notFound('Provider', startId)

      const chains = await withStatementTimeout(db, PATHWAYS_STATEMENT_TIMEOUT_MS, (tx) =>
        pathwaysRepo(tx, settings).chains(startId, q.category, q.max_hops, q.limit, viewer),
      )
      const providerIds = [...new Set(chains.flatMap((c) => c.path))]
      const linkIds = [...new Set(chains.flatMap((c) => c.link_ids))]
      const ends = await repo.providerEnds(providerIds, viewer)
      const linkRows = linkIds.length ? await links.selectLinks([linkIdIn(linkIds)], viewer) : []
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
