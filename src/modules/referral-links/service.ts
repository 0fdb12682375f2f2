import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { CursorTimestamp, decodeCursor, toPage } from '../../lib/pagination.js'
import { assertVersion } from '../../lib/if-match.js'
import { conflict, notFound, unprocessable } from '../../lib/problem.js'
import { z } from 'zod'
import { linkHealth, type HealthSettings, type LinkHealth } from './health.js'
import type { CreateReferralLink, ListReferralLinksQuery, PatchReferralLink, ProviderLinksQuery, ReferralLink } from './schemas.js'
import { linkEnd } from './spatial.js'

type Executor = Pick<Db, 'execute'>

const CursorKey = z.tuple([CursorTimestamp, z.uuid()])

/** Every column of the ReferralLink response, for `referral_links l` joined with its ends `fp`, `tp` and health `h`. */
const linkColumns = sql`l.id, l.from_provider_id, l.to_provider_id, ${linkEnd('fp')} AS from_provider, ${linkEnd('tp')} AS to_provider,
  l.categories, l.basis, l.status, l.established_on, l.last_used_on, l.notes, h.health, h.reasons AS health_reasons,
  to_json(l.created_at) #>> '{}' AS created_at, to_json(l.updated_at) #>> '{}' AS updated_at, l.version`

const linkSource = (s: HealthSettings) => sql`referral_links l
  JOIN providers fp ON fp.id = l.from_provider_id
  JOIN providers tp ON tp.id = l.to_provider_id
  CROSS JOIN LATERAL ${linkHealth('l', s)} AS h`

const whereAll = (conditions: SQL[]) => (conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``)

/** The rule of the table's CHECK referral_links_used_after_established, answered as a 422 before any write. */
function refuseUseBeforeEstablished(establishedOn: string | null | undefined, lastUsedOn: string | null | undefined) {
  if (establishedOn && lastUsedOn && lastUsedOn < establishedOn) {
    throw unprocessable(`last_used_on ${lastUsedOn} is before established_on ${establishedOn}`, [
      { path: 'last_used_on', message: 'must not be before established_on' },
    ])
  }
}

type EndRow = {
  id: string
  name: string
  status: string
  categories: string[]
}

export function referralLinksService(db: Db, settings: HealthSettings) {
  async function selectLinks(ex: Executor, conditions: SQL[], extra: SQL = sql``, tail: SQL = sql``) {
    const { rows } = await ex.execute<ReferralLink & Record<string, unknown>>(
      sql`SELECT ${linkColumns} ${extra} FROM ${linkSource(settings)} ${whereAll(conditions)} ${tail}`,
    )
    return rows
  }

  async function getLink(id: string, ex: Executor = db) {
    const [row] = await selectLinks(ex, [sql`l.id = ${id}`])
    if (!row) throw notFound('Referral link', id)
    return row
  }

  async function loadEnds(ex: Executor, fromId: string, toId: string) {
    const { rows } = await ex.execute<EndRow>(
      sql`SELECT id, name, status, categories FROM providers WHERE id IN (${fromId}, ${toId}) FOR SHARE`,
    )
    return { from: rows.find((r) => r.id === fromId), to: rows.find((r) => r.id === toId) }
  }

  const notOffered = (to: EndRow, categories: string[]) => categories.filter((c) => !to.categories.includes(c))

  function refuseUnofferedCategories(to: EndRow, categories: string[]) {
    const missing = notOffered(to, categories)
    if (missing.length) {
      throw unprocessable(
        `the receiving provider ${to.name} does not offer ${missing.join(', ')}`,
        missing.map((c) => ({ path: 'categories', message: `${c} is not offered by the receiving provider` })),
      )
    }
  }

  function refuseClosedEnds(ends: { from: EndRow; to: EndRow }) {
    for (const [side, end] of [['referring', ends.from], ['receiving', ends.to]] as const) {
      if (end.status === 'closed') {
        throw conflict(`the ${side} provider ${end.name} is closed; links to or from a closed provider are refused`, {
          provider_id: end.id,
        })
      }
    }
  }

  async function listWith(conditions: SQL[], q: { limit: number; cursor?: string }, extra: SQL = sql``) {
    if (q.cursor) {
      const [createdAt, id] = decodeCursor(q.cursor, CursorKey)
      conditions.push(sql`(l.created_at, l.id) > (${createdAt}::timestamptz, ${id}::uuid)`)
    }
    const rows = await selectLinks(db, conditions, extra, sql`ORDER BY l.created_at, l.id LIMIT ${q.limit + 1}`)
    return toPage(rows, q.limit, (r) => [r.created_at, r.id])
  }

  const healthIs = (health: LinkHealth) => sql`h.health = ${health}`
  const inArea = (pcode: string) =>
    sql`(fp.area_pcodes @> ARRAY[${pcode}::text] OR tp.area_pcodes @> ARRAY[${pcode}::text])`

  return {
    getLink: (id: string) => getLink(id),

    async createLink(body: CreateReferralLink) {
      if (body.from_provider_id === body.to_provider_id) {
        throw unprocessable('a referral link cannot point from a provider to itself', [
          { path: 'to_provider_id', message: 'must differ from from_provider_id' },
        ])
      }
      refuseUseBeforeEstablished(body.established_on, body.last_used_on)
      const id = await db.transaction(async (tx) => {
        const ends = await loadEnds(tx, body.from_provider_id, body.to_provider_id)
        const unknown = [
          ...(ends.from ? [] : [{ path: 'from_provider_id', message: `provider ${body.from_provider_id} does not exist` }]),
          ...(ends.to ? [] : [{ path: 'to_provider_id', message: `provider ${body.to_provider_id} does not exist` }]),
        ]
        if (unknown.length) throw unprocessable(unknown.map((e) => e.message).join('; '), unknown)
        const existing = await tx.execute<{ id: string }>(
          sql`SELECT id FROM referral_links WHERE from_provider_id = ${body.from_provider_id} AND to_provider_id = ${body.to_provider_id}`,
        )
        if (existing.rows[0]) {
          throw conflict(`a referral link from ${ends.from!.name} to ${ends.to!.name} already exists: ${existing.rows[0].id}`, {
            existing_link_id: existing.rows[0].id,
          })
        }
        refuseClosedEnds({ from: ends.from!, to: ends.to! })
        refuseUnofferedCategories(ends.to!, body.categories)
        const { rows } = await tx.execute<{ id: string }>(sql`
          INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis, status, established_on, last_used_on, notes)
          VALUES (${body.from_provider_id}, ${body.to_provider_id}, ${sql.param(body.categories)}::text[], ${body.basis},
                  ${body.status}, ${body.established_on ?? null}, ${body.last_used_on ?? null}, ${body.notes ?? null})
          RETURNING id`)
        return rows[0].id
      })
      return getLink(id)
    },

    async patchLink(id: string, patch: PatchReferralLink, ifMatch?: string) {
      await db.transaction(async (tx) => {
        const { rows } = await tx.execute<{
          version: number
          from_provider_id: string
          to_provider_id: string
          status: string
          established_on: string | null
          last_used_on: string | null
        }>(
          sql`SELECT version, from_provider_id, to_provider_id, status, established_on, last_used_on
              FROM referral_links WHERE id = ${id} FOR UPDATE`,
        )
        const current = rows[0]
        if (!current) throw notFound('Referral link', id)
        assertVersion(ifMatch, current.version, `Referral link ${id}`)
        refuseUseBeforeEstablished(
          patch.established_on === undefined ? current.established_on : patch.established_on,
          patch.last_used_on === undefined ? current.last_used_on : patch.last_used_on,
        )
        const ends = await loadEnds(tx, current.from_provider_id, current.to_provider_id)
        // Marking a link inactive or correcting notes stays possible when an end has closed; reviving it does not.
        if (patch.status === 'active' && current.status !== 'active') refuseClosedEnds({ from: ends.from!, to: ends.to! })
        if (patch.categories) refuseUnofferedCategories(ends.to!, patch.categories)
        const sets: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`]
        if (patch.categories) sets.push(sql`categories = ${sql.param(patch.categories)}::text[]`)
        for (const field of ['basis', 'status', 'established_on', 'last_used_on', 'notes'] as const) {
          if (patch[field] !== undefined) sets.push(sql`${sql.identifier(field)} = ${patch[field]}`)
        }
        await tx.execute(sql`UPDATE referral_links SET ${sql.join(sets, sql`, `)} WHERE id = ${id}`)
      })
      return getLink(id)
    },

    listLinks(q: ListReferralLinksQuery) {
      const c: SQL[] = []
      if (q.provider) c.push(sql`(l.from_provider_id = ${q.provider} OR l.to_provider_id = ${q.provider})`)
      if (q.from) c.push(sql`l.from_provider_id = ${q.from}`)
      if (q.to) c.push(sql`l.to_provider_id = ${q.to}`)
      if (q.category) c.push(sql`l.categories @> ARRAY[${q.category}::text]`)
      if (q.basis) c.push(sql`l.basis = ${q.basis}`)
      if (q.status) c.push(sql`l.status = ${q.status}`)
      if (q.area) c.push(inArea(q.area))
      if (q.health) c.push(healthIs(q.health))
      return listWith(c, q)
    },

    async listProviderLinks(providerId: string, q: ProviderLinksQuery) {
      const { rows } = await db.execute(sql`SELECT 1 FROM providers WHERE id = ${providerId}`)
      if (!rows.length) throw notFound('Provider', providerId)
      const c: SQL[] = [
        q.direction === 'incoming'
          ? sql`l.to_provider_id = ${providerId}`
          : q.direction === 'outgoing'
            ? sql`l.from_provider_id = ${providerId}`
            : sql`(l.from_provider_id = ${providerId} OR l.to_provider_id = ${providerId})`,
      ]
      if (q.status) c.push(sql`l.status = ${q.status}`)
      if (q.health) c.push(healthIs(q.health))
      return listWith(c, q, sql`, CASE WHEN l.to_provider_id = ${providerId} THEN 'incoming' ELSE 'outgoing' END AS direction`) as Promise<{
        items: (ReferralLink & { direction: 'incoming' | 'outgoing' })[]
        next_cursor: string | null
      }>
    },

    /** Links with their health for arbitrary conditions over `l`, `fp`, `tp`, `h` (used by the network view). */
    selectLinks: (conditions: SQL[]) => selectLinks(db, conditions, sql``, sql`ORDER BY l.created_at, l.id`),
  }
}

export type ReferralLinksService = ReturnType<typeof referralLinksService>
