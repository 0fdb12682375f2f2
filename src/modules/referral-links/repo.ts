// Referral-link SQL: the statements behind the link routes, and the link reads that pathways and the area
// network share (selectLinks). The one exception to "a module's SQL is in repo.ts": link health, a long
// expression documented with its reason codes, stays one named fragment in health.ts, which these reads,
// pathways' chains query and the tests' reference query all compose.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { linkHealth, type HealthSettings, type LinkHealth } from './health.js'
import type { CreateReferralLink, ListReferralLinksQuery, PatchReferralLink, ProviderLinksQuery, ReferralLink } from './schemas.js'
import { linkEnd } from './spatial.js'

/**
 * Every column of the ReferralLink response, for `referral_links l` joined with its ends `fp`, `tp` and health `h`,
 * the ends as `viewer` may see them.
 */
const linkColumns = (viewer: Viewer) => sql`l.id, l.from_provider_id, l.to_provider_id,
  ${linkEnd('fp', viewer)} AS from_provider, ${linkEnd('tp', viewer)} AS to_provider,
  l.categories, l.basis, l.status, l.established_on, l.last_used_on, l.notes, h.health, h.reasons AS health_reasons,
  to_json(l.created_at) #>> '{}' AS created_at, to_json(l.updated_at) #>> '{}' AS updated_at, l.version`

const linkSource = (s: HealthSettings) => sql`referral_links l
  JOIN providers fp ON fp.id = l.from_provider_id
  JOIN providers tp ON tp.id = l.to_provider_id
  CROSS JOIN LATERAL ${linkHealth('l', s)} AS h`

const whereAll = (conditions: SQL[]) => (conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``)

const healthIs = (health: LinkHealth) => sql`h.health = ${health}`
const inArea = (pcode: string) =>
  sql`(fp.area_pcodes @> ARRAY[${pcode}::text] OR tp.area_pcodes @> ARRAY[${pcode}::text])`

/** Condition for selectLinks: the links with these ids. */
export const linkIdIn = (ids: string[]) => sql`l.id = ANY (${sql.param(ids)}::uuid[])`

/** A provider at one end of a link being written: what the write checks, its owner (OwnedProvider) included. */
export type EndRow = {
  id: string
  name: string
  status: string
  categories: string[]
  organisation_id: string
  area_pcodes: string[]
}

/** What a PATCH checks against, read from the row it locks. */
type StoredLink = {
  version: number
  from_provider_id: string
  to_provider_id: string
  status: string
  established_on: string | null
  last_used_on: string | null
}

type ProviderLink = ReferralLink & { direction: 'incoming' | 'outgoing' }

export function referralLinksRepo(ex: Executor, settings: HealthSettings) {
  async function selectLinks(viewer: Viewer, conditions: SQL[], extra: SQL = sql``, tail: SQL = sql``) {
    const { rows } = await ex.execute<ReferralLink & Record<string, unknown>>(
      sql`SELECT ${linkColumns(viewer)} ${extra} FROM ${linkSource(settings)} ${whereAll(conditions)} ${tail}`,
    )
    return rows
  }

  /** One page ordered by (created_at, id), after the cursor key when given; fetches limit + 1 rows. */
  function page(viewer: Viewer, conditions: SQL[], limit: number, after: [string, string] | undefined, extra: SQL = sql``) {
    if (after) conditions.push(sql`(l.created_at, l.id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`)
    return selectLinks(viewer, conditions, extra, sql`ORDER BY l.created_at, l.id LIMIT ${limit + 1}`)
  }

  return {
    async findById(id: string, viewer: Viewer): Promise<ReferralLink | undefined> {
      const [row] = await selectLinks(viewer, [sql`l.id = ${id}`])
      return row
    },

    /** Links with their health for arbitrary conditions over `l`, `fp`, `tp`, `h`, in creation order. */
    selectLinks: (conditions: SQL[], viewer: Viewer) => selectLinks(viewer, conditions, sql``, sql`ORDER BY l.created_at, l.id`),

    list(q: Omit<ListReferralLinksQuery, 'cursor'>, viewer: Viewer, after?: [string, string]) {
      const c: SQL[] = []
      if (q.provider) c.push(sql`(l.from_provider_id = ${q.provider} OR l.to_provider_id = ${q.provider})`)
      if (q.from) c.push(sql`l.from_provider_id = ${q.from}`)
      if (q.to) c.push(sql`l.to_provider_id = ${q.to}`)
      if (q.category) c.push(sql`l.categories @> ARRAY[${q.category}::text]`)
      if (q.basis) c.push(sql`l.basis = ${q.basis}`)
      if (q.status) c.push(sql`l.status = ${q.status}`)
      if (q.area) c.push(inArea(q.area))
      if (q.health) c.push(healthIs(q.health))
      return page(viewer, c, q.limit, after)
    },

    /** The provider's links, each with its direction as seen from that provider. */
    listForProvider(providerId: string, q: Omit<ProviderLinksQuery, 'cursor'>, viewer: Viewer, after?: [string, string]) {
      const c: SQL[] = [
        q.direction === 'incoming'
          ? sql`l.to_provider_id = ${providerId}`
          : q.direction === 'outgoing'
            ? sql`l.from_provider_id = ${providerId}`
            : sql`(l.from_provider_id = ${providerId} OR l.to_provider_id = ${providerId})`,
      ]
      if (q.status) c.push(sql`l.status = ${q.status}`)
      if (q.health) c.push(healthIs(q.health))
      return page(viewer, c, q.limit, after, sql`, CASE WHEN l.to_provider_id = ${providerId} THEN 'incoming' ELSE 'outgoing' END AS direction`) as Promise<
        ProviderLink[]
      >
    },

    async providerExists(providerId: string): Promise<boolean> {
      const { rows } = await ex.execute(sql`SELECT 1 FROM providers WHERE id = ${providerId}`)
      return rows.length > 0
    },

    /**
     * Both ends, locked FOR SHARE so that neither closes, drops a category or changes owner before the link is
     * written.
     */
    async findEnds(fromId: string, toId: string): Promise<{ from?: EndRow; to?: EndRow }> {
      const { rows } = await ex.execute<EndRow>(
        sql`SELECT id, name, status, categories, organisation_id, area_pcodes FROM providers
              WHERE id IN (${fromId}, ${toId}) FOR SHARE`,
      )
      return { from: rows.find((r) => r.id === fromId), to: rows.find((r) => r.id === toId) }
    },

    async findIdBetween(fromId: string, toId: string): Promise<string | undefined> {
      const existing = await ex.execute<{ id: string }>(
        sql`SELECT id FROM referral_links WHERE from_provider_id = ${fromId} AND to_provider_id = ${toId}`,
      )
      return existing.rows[0]?.id
    },

    async insert(body: CreateReferralLink): Promise<string> {
      const { rows } = await ex.execute<{ id: string }>(sql`
          INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis, status, established_on, last_used_on, notes)
          VALUES (${body.from_provider_id}, ${body.to_provider_id}, ${sql.param(body.categories)}::text[], ${body.basis},
                  ${body.status}, ${body.established_on ?? null}, ${body.last_used_on ?? null}, ${body.notes ?? null})
          RETURNING id`)
      return rows[0].id
    },

    async findForUpdate(id: string): Promise<StoredLink | undefined> {
      const { rows } = await ex.execute<StoredLink>(
        sql`SELECT version, from_provider_id, to_provider_id, status, established_on, last_used_on
              FROM referral_links WHERE id = ${id} FOR UPDATE`,
      )
      return rows[0]
    },

    /** Writes the fields the patch sets and bumps version. */
    async update(id: string, patch: PatchReferralLink): Promise<void> {
      const sets: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`]
      if (patch.categories) sets.push(sql`categories = ${sql.param(patch.categories)}::text[]`)
      for (const field of ['basis', 'status', 'established_on', 'last_used_on', 'notes'] as const) {
        if (patch[field] !== undefined) sets.push(sql`${sql.identifier(field)} = ${patch[field]}`)
      }
      await ex.execute(sql`UPDATE referral_links SET ${sql.join(sets, sql`, `)} WHERE id = ${id}`)
    },
  }
}
