// MOU SQL: the status fragments other modules compose (providers' mou_status, the area network) and the
// statements behind the MOU routes. Aliases inside the shared fragments are prefixed `mou_` so they never
// shadow the caller's.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { today } from '../../lib/today.js'
import type { CreateMou, ListMousQuery, Mou, MouHistoryEntry, PatchMou } from './schemas.js'

export const MOU_STATUSES = ['draft', 'negotiating', 'signed', 'expired', 'terminated'] as const
export type MouStatus = (typeof MOU_STATUSES)[number]

/** What a provider has for one category: signed beats negotiating beats expired beats none. */
export const PROVIDER_MOU_STATUSES = ['signed', 'negotiating', 'expired', 'none'] as const
export type ProviderMouStatus = (typeof PROVIDER_MOU_STATUSES)[number]

/**
 * The status of the MOU row `alias` as everyone reads it: a signed MOU past its expires_on is expired.
 * The rule itself lives in the SQL function mou_effective_status (migration 0001); `today` (setu_today())
 * makes every reader agree on "today" with the database, not with a Node process clock.
 */
export const mouEffectiveStatus = (alias: string) =>
  sql<MouStatus>`mou_effective_status(${sql.identifier(alias)}.status, ${sql.identifier(alias)}.expires_on, ${today})`

/**
 * A provider's MOU status for one category (text): signed when an effectively signed MOU covers it;
 * negotiating when a draft or negotiating one does (a draft is an agreement in preparation); expired when
 * only expired ones do; none otherwise (terminated MOUs count as none).
 */
export const mouStatusForCategory = (providerIdSql: SQL, categorySql: SQL) => sql<ProviderMouStatus>`(
  SELECT CASE
           WHEN bool_or(mou_x.s = 'signed') THEN 'signed'
           WHEN bool_or(mou_x.s IN ('negotiating', 'draft')) THEN 'negotiating'
           WHEN bool_or(mou_x.s = 'expired') THEN 'expired'
           ELSE 'none'
         END
  FROM (SELECT ${mouEffectiveStatus('mou_m')} AS s FROM mous mou_m
        WHERE mou_m.provider_id = ${providerIdSql} AND ${categorySql} = ANY (mou_m.categories)) mou_x)`

/**
 * jsonb object {category: status} over the categories the provider row `alias` offers, e.g.
 * {"health": "signed", "legal": "none"}. Reads the row's own columns, so it costs no second provider lookup.
 */
export const mouStatusByCategory = (alias: string) => sql<Record<string, ProviderMouStatus>>`(
  SELECT coalesce(jsonb_object_agg(mou_c.category, ${mouStatusForCategory(sql`${sql.identifier(alias)}.id`, sql`mou_c.category`)}), '{}'::jsonb)
  FROM unnest(${sql.identifier(alias)}.categories) AS mou_c (category))`

/**
 * Boolean condition: the provider's MOU status is `status` for `category`, or, without a category, for at
 * least one of the categories it offers. For the providers list/nearest filter `mou_status`.
 */
export const mouStatusFilter = (providerIdSql: SQL, status: ProviderMouStatus, category?: string): SQL =>
  category
    ? sql`(${mouStatusForCategory(providerIdSql, sql`${category}::text`)} = ${status})`
    : sql`EXISTS (
        SELECT 1 FROM providers mou_fp CROSS JOIN LATERAL unnest(mou_fp.categories) AS mou_fc (category)
        WHERE mou_fp.id = ${providerIdSql}
          AND ${mouStatusForCategory(sql`mou_fp.id`, sql`mou_fc.category`)} = ${status})`

const mouColumns = sql`m.id, m.provider_id, m.counterparty, m.funding_project, m.counterparty_level, m.counterparty_area,
  m.categories, ${mouEffectiveStatus('m')} AS status, m.status AS recorded_status, m.signed_on, m.expires_on, m.renews_mou_id,
  ARRAY(SELECT r.id::text FROM mous r WHERE r.renews_mou_id = m.id ORDER BY r.created_at, r.id) AS renewed_by_mou_ids,
  m.document_ref, m.notes, to_json(m.created_at) #>> '{}' AS created_at, to_json(m.updated_at) #>> '{}' AS updated_at, m.version`

/** The columns a PATCH may change; each one's old and new value goes into the history row. */
export const EDITABLE = [
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
export type Editable = (typeof EDITABLE)[number]

/** A provider an MOU is written for, with what decides who may write its MOUs (ownership.ts). */
export type MouOwner = { id: string; organisation_id: string; area_pcodes: string[] }

/** An MOU row as stored, with the status everyone reads beside the recorded one, and its provider's owner. */
type StoredMou = { [K in Editable]: K extends 'categories' ? string[] : string | null } & {
  id: string
  provider_id: string
  status: MouStatus
  effective_status: MouStatus
  version: number
  owner: MouOwner
}

export type Changes = Record<string, { from: unknown; to: unknown }>

export function mousRepo(ex: Executor) {
  return {
    async findById(id: string): Promise<Mou | undefined> {
      const { rows } = await ex.execute<Mou & Record<string, unknown>>(sql`SELECT ${mouColumns} FROM mous m WHERE m.id = ${id}`)
      return rows[0]
    },

    /**
     * Locks the row for the rest of the transaction, as its version is checked and its status moves, and its
     * provider FOR SHARE, so that the owner checked is the owner while the change is written.
     */
    async findForUpdate(id: string): Promise<StoredMou | undefined> {
      const { rows } = await ex.execute<StoredMou>(sql`
          SELECT m.*, ${mouEffectiveStatus('m')} AS effective_status,
                 jsonb_build_object('id', p.id, 'organisation_id', p.organisation_id, 'area_pcodes', p.area_pcodes) AS owner
          FROM mous m JOIN providers p ON p.id = m.provider_id
          WHERE m.id = ${id} FOR UPDATE OF m FOR SHARE OF p`)
      return rows[0]
    },

    /** FOR SHARE: the provider can neither go away nor change owner before the new MOU row references it. */
    async findOwner(providerId: string): Promise<MouOwner | undefined> {
      const { rows } = await ex.execute<MouOwner>(
        sql`SELECT id, organisation_id, area_pcodes FROM providers WHERE id = ${providerId} FOR SHARE`,
      )
      return rows[0]
    },

    async areaExists(pcode: string): Promise<boolean> {
      const { rows } = await ex.execute(sql`SELECT 1 FROM areas WHERE pcode = ${pcode}`)
      return rows.length > 0
    },

    /** The MOU a new one renews, locked FOR SHARE so its status cannot change before the renewal is written. */
    async findRenewed(id: string): Promise<{ provider_id: string; effective_status: MouStatus } | undefined> {
      const { rows } = await ex.execute<{ provider_id: string; effective_status: MouStatus }>(
        sql`SELECT m.provider_id, ${mouEffectiveStatus('m')} AS effective_status FROM mous m WHERE m.id = ${id} FOR SHARE`,
      )
      return rows[0]
    },

    async insert(providerId: string, body: CreateMou): Promise<string> {
      const { rows } = await ex.execute<{ id: string }>(sql`
          INSERT INTO mous (provider_id, counterparty, funding_project, counterparty_level, counterparty_area, categories,
                            status, signed_on, expires_on, renews_mou_id, document_ref, notes)
          VALUES (${providerId}, ${body.counterparty}, ${body.funding_project ?? null}, ${body.counterparty_level},
                  ${body.counterparty_area ?? null}, ${sql.param(body.categories)}::text[], ${body.status},
                  ${body.signed_on ?? null}, ${body.expires_on ?? null}, ${body.renews_mou_id ?? null},
                  ${body.document_ref ?? null}, ${body.notes ?? null})
          RETURNING id`)
      return rows[0].id
    },

    /** Writes `fields` from the patch, bumps version; answers the effective status the row has afterwards. */
    async update(id: string, fields: Editable[], patch: PatchMou): Promise<MouStatus> {
      const sets: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`]
      for (const field of fields) {
        sets.push(
          field === 'categories'
            ? sql`categories = ${sql.param(patch.categories)}::text[]`
            : sql`${sql.identifier(field)} = ${patch[field]}`,
        )
      }
      const updated = await ex.execute<{ effective_status: MouStatus }>(
        sql`UPDATE mous m SET ${sql.join(sets, sql`, `)} WHERE m.id = ${id} RETURNING ${mouEffectiveStatus('m')} AS effective_status`,
      )
      return updated.rows[0].effective_status
    },

    async insertStatusChange(mouId: string, status: MouStatus, statusChanged: boolean, changes: Changes, note: string | undefined) {
      await ex.execute(sql`INSERT INTO mou_status_changes (mou_id, status, status_changed, changes, note)
                   VALUES (${mouId}, ${status}, ${statusChanged}, ${JSON.stringify(changes)}::jsonb, ${note ?? null})`)
    },

    /**
     * changed_by: the API key that made the change, as the write's transaction named it (setActor, read by the
     * column's default setu_actor()); null for rows written outside the API (migrations, scripts, the demo loader).
     */
    async history(id: string): Promise<MouHistoryEntry[]> {
      const { rows } = await ex.execute<MouHistoryEntry & Record<string, unknown>>(sql`
        SELECT status, status_changed, changes, changed_at, changed_by, note, derived FROM (
          SELECT c.status, c.status_changed, c.changes, to_json(c.changed_at) #>> '{}' AS changed_at,
                 CASE WHEN c.actor->>'key_id' IS NOT NULL THEN jsonb_build_object(
                   'key_id', c.actor->'key_id', 'key_prefix', c.actor->'key_prefix',
                   'organisation_id', c.actor->'organisation_id', 'organisation', c.actor->'organisation',
                   'role', c.actor->'role') END AS changed_by,
                 c.note, false AS derived, 0 AS part, c.id
          FROM mou_status_changes c WHERE c.mou_id = ${id}
          UNION ALL
          -- The date-driven expiry no job writes: shown from the day after expires_on, last.
          SELECT 'expired', true, '{}'::jsonb, to_json((m.expires_on + 1)::timestamptz) #>> '{}', NULL::jsonb,
                 'expires_on ' || m.expires_on || ' passed', true, 1, 0
          FROM mous m WHERE m.id = ${id} AND m.status <> 'expired' AND ${mouEffectiveStatus('m')} = 'expired'
        ) entries ORDER BY part, id`)
      return rows
    },

    /** One page ordered by (created_at, id), after the cursor key when given; fetches limit + 1 rows. */
    async list(q: Omit<ListMousQuery, 'cursor'>, after?: [string, string]): Promise<Mou[]> {
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
      if (after) c.push(sql`(m.created_at, m.id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`)
      const where = c.length ? sql`WHERE ${sql.join(c, sql` AND `)}` : sql``
      const { rows } = await ex.execute<Mou & Record<string, unknown>>(
        sql`SELECT ${mouColumns} FROM mous m ${where} ORDER BY m.created_at, m.id LIMIT ${q.limit + 1}`,
      )
      return rows
    },
  }
}
export type MousRepo = ReturnType<typeof mousRepo>
