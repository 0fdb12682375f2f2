// Area network SQL: the counts that bound an answer, the ids of the links it holds, and its nodes.
import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { mouStatusByCategory } from '../mous/repo.js'
import { linkEnd } from '../referral-links/spatial.js'
import type { AreaNetwork } from './schemas.js'

export type Node = AreaNetwork['nodes'][number]
type LinkIds = { id: string; from_provider_id: string; to_provider_id: string }

const inArea = (alias: string, pcode: string) => sql`${sql.identifier(alias)}.area_pcodes @> ARRAY[${pcode}::text]`

export function networkRepo(ex: Executor) {
  return {
    async findArea(pcode: string): Promise<{ pcode: string; name_en: string } | undefined> {
      const { rows } = await ex.execute<{ pcode: string; name_en: string }>(
        sql`SELECT pcode, name_en FROM areas WHERE pcode = ${pcode}`,
      )
      return rows[0]
    },

    /** The providers inside the area, counted up to limit + 1: enough to tell whether there are more than limit. */
    async countProvidersInside(pcode: string, limit: number): Promise<number> {
      const { rows: [inside] } = await ex.execute<{ n: number }>(sql`
          SELECT count(*) AS n FROM (SELECT 1 FROM providers p WHERE ${inArea('p', pcode)} LIMIT ${limit + 1}) x`)
      return inside.n
    },

    /** The links from or to a provider inside the area, at most limit + 1 of them. */
    async linksTouching(pcode: string, limit: number): Promise<LinkIds[]> {
      const { rows } = await ex.execute<LinkIds>(sql`
          WITH inside AS (SELECT p.id FROM providers p WHERE ${inArea('p', pcode)})
          SELECT l.id, l.from_provider_id, l.to_provider_id FROM referral_links l WHERE l.from_provider_id IN (SELECT id FROM inside)
          UNION
          SELECT l.id, l.from_provider_id, l.to_provider_id FROM referral_links l WHERE l.to_provider_id IN (SELECT id FROM inside)
          LIMIT ${limit + 1}`)
      return rows
    },

    /** The providers inside the area and those linked with them, inside first, as `viewer` may see them. */
    async nodes(pcode: string, linkedIds: string[], viewer: Viewer): Promise<Node[]> {
      const { rows } = await ex.execute<{ node: Node }>(sql`
          SELECT ${linkEnd('p', viewer)} || jsonb_build_object('inside', ${inArea('p', pcode)}, 'mou_status', ${mouStatusByCategory('p')}) AS node
          FROM providers p
          WHERE ${inArea('p', pcode)} OR p.id = ANY (${sql.param(linkedIds)}::uuid[])
          ORDER BY ${inArea('p', pcode)} DESC, p.name, p.id`)
      return rows.map((r) => r.node)
    },
  }
}
