// MOU status SQL that other modules compose: the effective status of an MOU and a provider's MOU status
// per category. Aliases inside these fragments are prefixed `mou_` so they never shadow the caller's.
import { sql, type SQL } from 'drizzle-orm'
import { today } from '../../lib/today.js'

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
