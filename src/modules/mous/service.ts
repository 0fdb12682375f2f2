// MOUs: records per provider, enforced status transitions and a history row for every change.
import { sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { CursorTimestamp, decodeCursor, toPage } from '../../lib/pagination.js'
import { conflict, notFound, unprocessable } from '../../lib/problem.js'
import { assertVersion } from '../../lib/if-match.js'
import { today } from '../../lib/today.js'
import type { CreateMou, ListMousQuery, Mou, MouHistoryEntry, PatchMou } from './schemas.js'
import { mouEffectiveStatus, type MouStatus } from './sql.js'

type Executor = Pick<Db, 'execute'>

/**
 * Allowed changes, from the effective status (what everyone reads) to the status being set. Expired and
 * terminated are final: an expired MOU is renewed only by a new MOU with renews_mou_id. Signed → expired
 * by hand records an early lapse (e.g. the donor project ended before expires_on). Going back from signed
 * to draft or negotiating is refused: renegotiation is a new MOU.
 */
export const MOU_TRANSITIONS: Record<MouStatus, readonly MouStatus[]> = {
  draft: ['negotiating', 'signed', 'terminated'],
  negotiating: ['draft', 'signed', 'terminated'],
  signed: ['expired', 'terminated'],
  expired: [],
  terminated: [],
}

const CursorKey = z.tuple([CursorTimestamp, z.uuid()])

const mouColumns = sql`m.id, m.provider_id, m.counterparty, m.funding_project, m.counterparty_level, m.counterparty_area,
  m.categories, ${mouEffectiveStatus('m')} AS status, m.status AS recorded_status, m.signed_on, m.expires_on, m.renews_mou_id,
  ARRAY(SELECT r.id::text FROM mous r WHERE r.renews_mou_id = m.id ORDER BY r.created_at, r.id) AS renewed_by_mou_ids,
  m.document_ref, m.notes, to_json(m.created_at) #>> '{}' AS created_at, to_json(m.updated_at) #>> '{}' AS updated_at, m.version`

const EDITABLE = [
  'counterparty',
  'funding_project',
  'counterparty_level',
  'counterparty_area',
  'categories',
  'status',
  'signed_on',
  'expires_on',
  'document_ref',
  'notes',
] as const
type Editable = (typeof EDITABLE)[number]

type StoredMou = { [K in Editable]: K extends 'categories' ? string[] : string | null } & {
  id: string
  provider_id: string
  status: MouStatus
  effective_status: MouStatus
  version: number
}

function refuseTransition(from: MouStatus, to: MouStatus, mouId: string, providerId: string) {
  const renewHint =
    from === 'expired'
      ? `; an expired MOU is renewed only by a new MOU that references it: POST /v1/providers/${providerId}/mous with renews_mou_id ${mouId}`
      : from === 'terminated'
        ? '; nothing leaves terminated'
        : ''
  return conflict(`an MOU cannot change from ${from} to ${to}${renewHint}`, { from, to })
}

/** signed and expired MOUs need signed_on; an expiry date cannot precede signing. */
function checkDates(status: MouStatus, signedOn: string | null | undefined, expiresOn: string | null | undefined) {
  if ((status === 'signed' || status === 'expired') && !signedOn) {
    throw unprocessable(`an MOU with status ${status} needs signed_on`, [{ path: 'signed_on', message: `required when status is ${status}` }])
  }
  if (signedOn && expiresOn && expiresOn < signedOn) {
    throw unprocessable(`expires_on ${expiresOn} is before signed_on ${signedOn}`, [
      { path: 'expires_on', message: 'must not be before signed_on' },
    ])
  }
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

export function mousService(db: Db) {
  async function getMou(id: string, ex: Executor = db): Promise<Mou> {
    const { rows } = await ex.execute<Mou & Record<string, unknown>>(sql`SELECT ${mouColumns} FROM mous m WHERE m.id = ${id}`)
    if (!rows[0]) throw notFound('MOU', id)
    return rows[0]
  }

  async function assertAreaExists(ex: Executor, pcode: string | null | undefined) {
    if (!pcode) return
    const { rows } = await ex.execute(sql`SELECT 1 FROM areas WHERE pcode = ${pcode}`)
    if (!rows.length) {
      throw unprocessable(`area ${pcode} does not exist`, [{ path: 'counterparty_area', message: `area ${pcode} does not exist` }])
    }
  }

  const recordChange = (
    ex: Executor,
    mouId: string,
    status: MouStatus,
    statusChanged: boolean,
    changes: Record<string, { from: unknown; to: unknown }>,
    note: string | undefined,
  ) =>
    ex.execute(sql`INSERT INTO mou_status_changes (mou_id, status, status_changed, changes, note)
                   VALUES (${mouId}, ${status}, ${statusChanged}, ${JSON.stringify(changes)}::jsonb, ${note ?? null})`)

  return {
    getMou: (id: string) => getMou(id),

    async createMou(providerId: string, body: CreateMou) {
      const id = await db.transaction(async (tx) => {
        const provider = await tx.execute(sql`SELECT 1 FROM providers WHERE id = ${providerId} FOR SHARE`)
        if (!provider.rows.length) throw notFound('Provider', providerId)
        await assertAreaExists(tx, body.counterparty_area)
        checkDates(body.status, body.signed_on, body.expires_on)
        if (body.renews_mou_id) {
          const { rows } = await tx.execute<{ provider_id: string; effective_status: MouStatus }>(
            sql`SELECT m.provider_id, ${mouEffectiveStatus('m')} AS effective_status FROM mous m WHERE m.id = ${body.renews_mou_id} FOR SHARE`,
          )
          const renewed = rows[0]
          if (!renewed) {
            throw unprocessable(`MOU ${body.renews_mou_id} does not exist`, [{ path: 'renews_mou_id', message: 'no such MOU' }])
          }
          if (renewed.provider_id !== providerId) {
            throw unprocessable(`MOU ${body.renews_mou_id} belongs to another provider`, [
              { path: 'renews_mou_id', message: 'must be an MOU of the same provider' },
            ])
          }
          if (renewed.effective_status !== 'expired') {
            throw conflict(`MOU ${body.renews_mou_id} is ${renewed.effective_status}; only an expired MOU can be renewed`, {
              renews_mou_status: renewed.effective_status,
            })
          }
        }
        const { rows } = await tx.execute<{ id: string }>(sql`
          INSERT INTO mous (provider_id, counterparty, funding_project, counterparty_level, counterparty_area, categories,
                            status, signed_on, expires_on, renews_mou_id, document_ref, notes)
          VALUES (${providerId}, ${body.counterparty}, ${body.funding_project ?? null}, ${body.counterparty_level},
                  ${body.counterparty_area ?? null}, ${sql.param(body.categories)}::text[], ${body.status},
                  ${body.signed_on ?? null}, ${body.expires_on ?? null}, ${body.renews_mou_id ?? null},
                  ${body.document_ref ?? null}, ${body.notes ?? null})
          RETURNING id`)
        await recordChange(tx, rows[0].id, body.status, true, {}, body.status_note)
        return rows[0].id
      })
      return getMou(id)
    },

    async patchMou(id: string, patch: PatchMou, ifMatch?: string) {
      await db.transaction(async (tx) => {
        const { rows } = await tx.execute<StoredMou>(sql`
          SELECT m.*, ${mouEffectiveStatus('m')} AS effective_status FROM mous m WHERE m.id = ${id} FOR UPDATE`)
        const before = rows[0]
        if (!before) throw notFound('MOU', id)
        assertVersion(ifMatch, before.version, `MOU ${id}`)

        const changes: Record<string, { from: unknown; to: unknown }> = {}
        for (const field of EDITABLE) {
          if (patch[field] !== undefined && !sameValue(before[field], patch[field])) {
            changes[field] = { from: before[field], to: patch[field] }
          }
        }
        const from = before.effective_status
        const to = (patch.status ?? before.status) as MouStatus
        if (patch.status && patch.status !== from && !MOU_TRANSITIONS[from].includes(patch.status)) {
          throw refuseTransition(from, patch.status, id, before.provider_id)
        }
        if (!Object.keys(changes).length) return

        checkDates(to, patch.signed_on !== undefined ? patch.signed_on : before.signed_on,
          patch.expires_on !== undefined ? patch.expires_on : before.expires_on)
        if (patch.counterparty_area !== undefined) await assertAreaExists(tx, patch.counterparty_area)

        const sets: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`]
        for (const field of Object.keys(changes) as Editable[]) {
          sets.push(
            field === 'categories'
              ? sql`categories = ${sql.param(patch.categories)}::text[]`
              : sql`${sql.identifier(field)} = ${patch[field]}`,
          )
        }
        const updated = await tx.execute<{ effective_status: MouStatus }>(
          sql`UPDATE mous m SET ${sql.join(sets, sql`, `)} WHERE m.id = ${id} RETURNING ${mouEffectiveStatus('m')} AS effective_status`,
        )
        const after = updated.rows[0].effective_status
        // Moving expires_on past today would bring an expired MOU back to signed: that is a renewal in disguise.
        if ((from === 'expired' || from === 'terminated') && after !== from) throw refuseTransition(from, after, id, before.provider_id)
        await recordChange(tx, id, to, before.status !== to, changes, patch.status_note)
      })
      return getMou(id)
    },

    async history(id: string) {
      await getMou(id)
      const { rows } = await db.execute<MouHistoryEntry & Record<string, unknown>>(sql`
        SELECT status, status_changed, changes, changed_at, changed_by, note, derived FROM (
          SELECT c.status, c.status_changed, c.changes, to_json(c.changed_at) #>> '{}' AS changed_at, c.changed_by, c.note,
                 false AS derived, 0 AS part, c.id
          FROM mou_status_changes c WHERE c.mou_id = ${id}
          UNION ALL
          -- The date-driven expiry no job writes: shown from the day after expires_on, last.
          SELECT 'expired', true, '{}'::jsonb, to_json((m.expires_on + 1)::timestamptz) #>> '{}', NULL,
                 'expires_on ' || m.expires_on || ' passed', true, 1, 0
          FROM mous m WHERE m.id = ${id} AND m.status <> 'expired' AND ${mouEffectiveStatus('m')} = 'expired'
        ) entries ORDER BY part, id`)
      return { items: rows, next_cursor: null }
    },

    async listMous(q: ListMousQuery) {
      const c: SQL[] = []
      if (q.status) c.push(sql`${mouEffectiveStatus('m')} = ${q.status}`)
      if (q.provider) c.push(sql`m.provider_id = ${q.provider}`)
      if (q.category) c.push(sql`m.categories @> ARRAY[${q.category}::text]`)
      if (q.area) {
        c.push(sql`(m.counterparty_area = ${q.area}
          OR EXISTS (SELECT 1 FROM providers ap WHERE ap.id = m.provider_id AND ap.area_pcodes @> ARRAY[${q.area}::text]))`)
      }
      if (q.expiring_within_days !== undefined) {
        c.push(sql`${mouEffectiveStatus('m')} = 'signed'
          AND m.expires_on BETWEEN ${today} AND ${today} + ${q.expiring_within_days}::int`)
      }
      if (q.cursor) {
        const [createdAt, lastId] = decodeCursor(q.cursor, CursorKey)
        c.push(sql`(m.created_at, m.id) > (${createdAt}::timestamptz, ${lastId}::uuid)`)
      }
      const where = c.length ? sql`WHERE ${sql.join(c, sql` AND `)}` : sql``
      const { rows } = await db.execute<Mou & Record<string, unknown>>(
        sql`SELECT ${mouColumns} FROM mous m ${where} ORDER BY m.created_at, m.id LIMIT ${q.limit + 1}`,
      )
      return toPage(rows, q.limit, (r) => [r.created_at, r.id])
    },
  }
}

export type MousService = ReturnType<typeof mousService>
