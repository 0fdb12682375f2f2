// The referral network of an area: who is inside, who they link with, and where the network has holes.
import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { notFound } from '../../lib/problem.js'
import { mouStatusByCategory } from '../mous/sql.js'
import type { ReferralLinksService } from '../referral-links/service.js'
import { linkEnd } from '../referral-links/spatial.js'
import { Category } from '../../lib/vocabulary.js'
import type { AreaNetwork } from './schemas.js'

type Node = AreaNetwork['nodes'][number]

export function networkService(db: Db, links: ReferralLinksService) {
  return {
    async areaNetwork(pcode: string): Promise<AreaNetwork> {
      const { rows: areaRows } = await db.execute<{ pcode: string; name_en: string }>(
        sql`SELECT pcode, name_en FROM areas WHERE pcode = ${pcode}`,
      )
      if (!areaRows[0]) throw notFound('Area', pcode)
      const inArea = (alias: string) => sql`${sql.identifier(alias)}.area_pcodes @> ARRAY[${pcode}::text]`
      const edges = await links.selectLinks([sql`(${inArea('fp')} OR ${inArea('tp')})`])
      const linkedIds = [...new Set(edges.flatMap((e) => [e.from_provider_id, e.to_provider_id]))]
      const { rows } = await db.execute<{ node: Node }>(sql`
        SELECT ${linkEnd('p')} || jsonb_build_object('inside', ${inArea('p')}, 'mou_status', ${mouStatusByCategory('p')}) AS node
        FROM providers p
        WHERE ${inArea('p')} OR p.id = ANY (${sql.param(linkedIds)}::uuid[])
        ORDER BY ${inArea('p')} DESC, p.name, p.id`)
      const nodes = rows.map((r) => r.node)

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
