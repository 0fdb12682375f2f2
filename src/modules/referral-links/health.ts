// Link health: the only place it is computed. Read-time SQL over the link, its two providers and the
// receiving provider's MOUs, so it is never stored and never stale; the list's `health` filter, pathways
// and the area network all use this same fragment.
import { sql, type SQL } from 'drizzle-orm'
import { today } from '../../lib/today.js'
import { mouEffectiveStatus } from '../mous/repo.js'

export const LINK_HEALTHS = ['ok', 'at_risk', 'broken'] as const
export type LinkHealth = (typeof LINK_HEALTHS)[number]

export interface HealthSettings {
  /** at_risk when an MOU or an end's funding ends within this many days (LINK_AT_RISK_DAYS). */
  atRiskDays: number
  /** broken when an end was last verified more than this many months ago (VERIFICATION_STALE_MONTHS). */
  staleMonths: number
}

/**
 * Reason codes, each {code, severity, provider_id, detail} plus `date`, `categories` or `mou_id` when they
 * apply. `from_*` is about the referring provider, `to_*` the receiving one. Broken:
 *   {from,to}_provider_closed, {from,to}_provider_suspended,
 *   {from,to}_funding_ended (funded_until before today; date),
 *   {from,to}_never_verified (verified_on is null: nobody has ever checked the provider exists),
 *   {from,to}_not_verified (verified_on more than staleMonths months ago; date),
 *   no_current_mou (basis mou, and the link categories no effectively signed MOU of the receiving provider covers; categories).
 * At risk:
 *   {from,to}_funding_ends_soon (funded_until between today and today + atRiskDays; date),
 *   mou_expires_soon (basis mou: a signed MOU of the receiving provider that the link rests on expires
 *     between today and today + atRiskDays, and no other signed MOU outlasting that window covers those
 *     categories; mou_id, date, categories).
 * Link status (active/inactive) is not a health reason: it is reported beside health.
 */
export const REASON_CODES = [
  'from_provider_closed',
  'to_provider_closed',
  'from_provider_suspended',
  'to_provider_suspended',
  'from_funding_ended',
  'to_funding_ended',
  'from_never_verified',
  'to_never_verified',
  'from_not_verified',
  'to_not_verified',
  'no_current_mou',
  'from_funding_ends_soon',
  'to_funding_ends_soon',
  'mou_expires_soon',
] as const

/**
 * A one-row subquery with `health` (text) and `reasons` (jsonb array, most severe first) for the
 * referral_links row aliased `link`. Use as `CROSS JOIN LATERAL ${linkHealth('l', s)} AS h`.
 */
export function linkHealth(link: string, s: HealthSettings): SQL {
  const l = sql.identifier(link)
  const soon = sql`(${today} + ${s.atRiskDays}::int)`
  const staleBefore = sql`(${today} - make_interval(months => ${s.staleMonths}::int))::date`
  const signed = (alias: string) => sql`${mouEffectiveStatus(alias)} = 'signed'`
  return sql`(
    SELECT CASE WHEN bool_or(hl_r.severity = 'broken') THEN 'broken'
                WHEN bool_or(hl_r.severity = 'at_risk') THEN 'at_risk'
                ELSE 'ok' END AS health,
           coalesce(jsonb_agg(hl_r.reason ORDER BY hl_r.severity = 'at_risk', hl_r.ord, hl_r.sort_date), '[]'::jsonb) AS reasons
    FROM (
      SELECT hl_c.severity, hl_e.ord * 10 + hl_c.n AS ord, hl_c.date AS sort_date,
             jsonb_strip_nulls(jsonb_build_object(
               'code', hl_e.side || hl_c.code, 'severity', hl_c.severity, 'provider_id', hl_p.id,
               'detail', format(hl_c.detail, hl_e.word, hl_p.name, hl_c.date), 'date', hl_c.date)) AS reason
      FROM (VALUES (1, 'from', 'referring', ${l}.from_provider_id), (2, 'to', 'receiving', ${l}.to_provider_id))
             AS hl_e (ord, side, word, provider_id)
      JOIN providers hl_p ON hl_p.id = hl_e.provider_id
      CROSS JOIN LATERAL (VALUES
        (1, hl_p.status = 'closed', 'broken', '_provider_closed', 'the %s provider %s is closed', NULL::date),
        (2, hl_p.status = 'suspended', 'broken', '_provider_suspended', 'the %s provider %s is suspended', NULL),
        (3, hl_p.funded_until < ${today}, 'broken', '_funding_ended',
            'funding of the %s provider %s ended on %s', hl_p.funded_until),
        (4, hl_p.funded_until BETWEEN ${today} AND ${soon}, 'at_risk', '_funding_ends_soon',
            'funding of the %s provider %s ends on %s', hl_p.funded_until),
        (5, hl_p.verified_on IS NULL, 'broken', '_never_verified', 'the %s provider %s has never been verified', NULL),
        (6, hl_p.verified_on < ${staleBefore}, 'broken', '_not_verified',
            'the %s provider %s was last verified on %s, more than ' || ${s.staleMonths}::int || ' months ago', hl_p.verified_on)
      ) AS hl_c (n, applies, severity, code, detail, date)
      WHERE hl_c.applies

      UNION ALL
      SELECT 'broken', 30, NULL,
             jsonb_build_object('code', 'no_current_mou', 'severity', 'broken', 'provider_id', ${l}.to_provider_id,
               'categories', to_jsonb(hl_missing.categories),
               'detail', 'the link rests on an MOU, but the receiving provider has no current signed MOU covering '
                         || array_to_string(hl_missing.categories, ', '))
      FROM (SELECT array_agg(hl_cat ORDER BY hl_cat) AS categories
            FROM unnest(${l}.categories) AS hl_cat
            WHERE NOT EXISTS (SELECT 1 FROM mous hl_m
                              WHERE hl_m.provider_id = ${l}.to_provider_id AND hl_cat = ANY (hl_m.categories)
                                AND ${signed('hl_m')})) AS hl_missing
      WHERE ${l}.basis = 'mou' AND hl_missing.categories IS NOT NULL

      UNION ALL
      SELECT 'at_risk', 40, hl_m.expires_on,
             jsonb_build_object('code', 'mou_expires_soon', 'severity', 'at_risk', 'provider_id', ${l}.to_provider_id,
               'mou_id', hl_m.id, 'date', hl_m.expires_on, 'categories', to_jsonb(hl_soon.categories),
               'detail', format('MOU %s with %s, which covers %s for this link, expires on %s',
                                hl_m.id, hl_m.counterparty, array_to_string(hl_soon.categories, ', '), hl_m.expires_on))
      FROM mous hl_m
      CROSS JOIN LATERAL (
        SELECT array_agg(hl_cat ORDER BY hl_cat) AS categories
        FROM unnest(${l}.categories) AS hl_cat
        WHERE hl_cat = ANY (hl_m.categories)
          AND NOT EXISTS (SELECT 1 FROM mous hl_m2
                          WHERE hl_m2.provider_id = hl_m.provider_id AND hl_m2.id <> hl_m.id
                            AND hl_cat = ANY (hl_m2.categories) AND ${signed('hl_m2')}
                            AND (hl_m2.expires_on IS NULL OR hl_m2.expires_on > ${soon}))) AS hl_soon
      WHERE ${l}.basis = 'mou' AND hl_m.provider_id = ${l}.to_provider_id AND ${signed('hl_m')}
        AND hl_m.expires_on BETWEEN ${today} AND ${soon} AND hl_soon.categories IS NOT NULL
    ) AS hl_r)`
}
