// The demo data set (seeds/): generated areas for both countries, fictitious providers, and the MOUs and
// referral links between them.
// `npm start` loads it into an empty database; `npm run seed` reloads it.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { importAreas, type AreaCountry, type AreaLevel } from '../modules/areas/import.js'
import { providersService } from '../modules/providers/service.js'
import { CreateMou } from '../modules/mous/schemas.js'
import { mousService } from '../modules/mous/service.js'
import { CreateReferralLink } from '../modules/referral-links/schemas.js'
import { referralLinksService } from '../modules/referral-links/service.js'
import { Problem } from '../lib/problem.js'
import type { Db } from '../db/client.js'
import { PROJECT_ROOT } from '../db/database.js'

/** external_ids scheme of every demo provider: how a reload finds its own rows and never touches others. */
export const DEMO_SCHEME = 'setu-demo'
/** Every demo provider's notes start with this. */
export const DEMO_NOTE_PREFIX = 'DEMO DATA — fictitious entry'
/** Every demo provider's name ends with this. */
export const DEMO_NAME_SUFFIX = ' (demo)'
/** Every demo referral link's and MOU's notes start with this (together with demo ends, how a reload finds them). */
export const DEMO_NETWORK_NOTE_PREFIX = 'DEMO DATA'
/** areas.source of every demo area. */
export const DEMO_AREA_SOURCE = 'setu-demo (generated approximation, seeds/areas)'

export const SEEDS_DIR = path.join(PROJECT_ROOT, 'seeds')

/** The area files in load order: parents before children. */
export const DEMO_AREA_FILES: { file: string; country: AreaCountry; level: AreaLevel }[] = [
  { file: 'BGD_1.geojson', country: 'BGD', level: 1 },
  { file: 'BGD_2.geojson', country: 'BGD', level: 2 },
  { file: 'BGD_3.geojson', country: 'BGD', level: 3 },
  { file: 'BGD_4.geojson', country: 'BGD', level: 4 },
  { file: 'KHM_1.geojson', country: 'KHM', level: 1 },
  { file: 'KHM_2.geojson', country: 'KHM', level: 2 },
  { file: 'KHM_3.geojson', country: 'KHM', level: 3 },
]

const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(SEEDS_DIR, file), 'utf8'))

export const readDemoAreas = (file: string) => readJson(path.join('areas', file))

/**
 * The demo set was generated around this date. On load every date in it moves by the days between it and the
 * database's today (setu_today(), the day every date rule reads), so funding ends, MOU expiries and
 * verification ages keep their distance from today and the demo network keeps its mix of ok, at-risk and
 * broken links on any date instead of decaying into "all broken" as the calendar moves.
 */
export const SEED_ANCHOR_DATE = '2026-11-23'
const DATE_FIELDS = new Set(['funded_until', 'on', 'signed_on', 'expires_on', 'established_on', 'last_used_on'])
const DAY_MS = 86_400_000

/** Days from the anchor to `today` (YYYY-MM-DD), negative before it. */
export const daysSinceSeedAnchor = (today: string) => Math.round((Date.parse(today) - Date.parse(SEED_ANCHOR_DATE)) / DAY_MS)

/** The day the database's date rules read as today. */
export async function databaseToday(db: Db): Promise<string> {
  const { rows } = await db.execute<{ today: string }>(sql`SELECT setu_today()::text AS today`)
  return rows[0].today
}

export function shiftDemoDates<T>(value: T, days: number): T {
  if (days === 0 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => shiftDemoDates(v, days)) as T
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      DATE_FIELDS.has(k) && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)
        ? new Date(Date.parse(v) + days * DAY_MS).toISOString().slice(0, 10)
        : shiftDemoDates(v, days),
    ]),
  ) as T
}

/** The rows of a seed file: as committed (dated around the anchor), or moved to `today` when it is given. */
const readDemoRows = <T>(file: string, today?: string) =>
  shiftDemoDates(readJson(file) as T[], today === undefined ? 0 : daysSinceSeedAnchor(today))

export const readDemoProviders = (today?: string) => readDemoRows<Record<string, unknown>>('providers.json', today)

/** A seeds/mous.json row: a POST /v1/providers/{id}/mous body plus the provider's demo id and the document_ref it renews. */
export type DemoMouRow = Record<string, unknown> & { provider: string; renews?: string; document_ref: string }
/** A seeds/referral-links.json row: a POST /v1/referral-links body with demo ids in place of provider uuids. */
export type DemoLinkRow = Record<string, unknown> & { from: string; to: string }
export const readDemoMous = (today?: string) => readDemoRows<DemoMouRow>('mous.json', today)
export const readDemoLinks = (today?: string) => readDemoRows<DemoLinkRow>('referral-links.json', today)

export interface AreaLoadCounts {
  inserted: number
  updated: number
  unchanged: number
  /** Countries whose areas were left alone because non-demo boundaries are loaded for them. */
  skippedCountries: AreaCountry[]
}

/**
 * Upserts the demo areas level by level. A country that already has boundaries from another source
 * (a real COD import) keeps them: demo polygons share the official codes and would overwrite them.
 */
export async function loadDemoAreas(db: Db): Promise<AreaLoadCounts> {
  const counts: AreaLoadCounts = { inserted: 0, updated: 0, unchanged: 0, skippedCountries: [] }
  const { rows } = await db.execute<{ country: AreaCountry }>(sql`
    SELECT DISTINCT country FROM areas WHERE source IS DISTINCT FROM ${DEMO_AREA_SOURCE}`)
  const realCountries = new Set(rows.map((r) => r.country.trim() as AreaCountry))
  for (const { file, country, level } of DEMO_AREA_FILES) {
    if (realCountries.has(country)) {
      if (!counts.skippedCountries.includes(country)) counts.skippedCountries.push(country)
      continue
    }
    const report = await importAreas(db, readDemoAreas(file), {
      country,
      level,
      codeField: 'pcode',
      nameField: 'name_en',
      nameLocalField: 'name_local',
      parentField: level > 1 ? 'parent_pcode' : undefined,
      source: DEMO_AREA_SOURCE,
    })
    if (report.rejected.length) {
      const first = report.rejected[0]
      throw new Error(`seeds/areas/${file}: ${report.rejected.length} features rejected (first: #${first.index} ${first.reason})`)
    }
    counts.inserted += report.inserted
    counts.updated += report.updated
    counts.unchanged += report.unchanged
  }
  return counts
}

/** Tables with a foreign key to providers(id), read from the catalogue so that later tables are covered too. */
async function providerReferences(db: Db): Promise<{ table: string; column: string }[]> {
  const { rows } = await db.execute<{ table: string; column: string }>(sql`
    SELECT format('%I.%I', n.nspname, t.relname) AS table, quote_ident(a.attname) AS column
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f' AND c.confrelid = 'providers'::regclass
    ORDER BY 1, 2`)
  return rows
}

const demoIdOf = (row: Record<string, unknown>) =>
  (row.external_ids as { scheme: string; id: string }[]).find((e) => e.scheme === DEMO_SCHEME)?.id

export interface ProviderLoadCounts {
  deleted: number
  /** Demo providers kept because other rows (referral links, ...) point at them. */
  kept: number
  created: number
}

/**
 * Replaces the demo providers in one transaction: deletes every provider carrying a setu-demo
 * external id that nothing references, then inserts the demo rows that are not present. Rows of any
 * other provenance are never touched. Demo providers that something references are kept as they
 * are (so a referral link made against the demo set survives a reload) and not inserted twice.
 */
export async function loadDemoProviders(db: Db): Promise<ProviderLoadCounts> {
  const rows = readDemoProviders(await databaseToday(db))
  const references = await providerReferences(db)
  return db.transaction(async (tx) => {
    const unreferenced = references.map(
      // Identifiers come from the system catalogue, quoted by PostgreSQL itself, never from input.
      (r) => sql`NOT EXISTS (SELECT 1 FROM ${sql.raw(r.table)} x WHERE x.${sql.raw(r.column)} = p.id)`,
    )
    const isDemo = sql`p.external_ids @> ${JSON.stringify([{ scheme: DEMO_SCHEME }])}::jsonb`
    const deleted = await tx.execute(sql`
      DELETE FROM providers p WHERE ${sql.join([isDemo, ...unreferenced], sql` AND `)}`)
    const kept = await tx.execute<{ id: string }>(sql`
      SELECT e.value->>'id' AS id FROM providers p, jsonb_array_elements(p.external_ids) e
      WHERE ${isDemo} AND e.value->>'scheme' = ${DEMO_SCHEME}`)
    const keptIds = new Set(kept.rows.map((r) => r.id))
    const missing = rows.filter((r) => !keptIds.has(demoIdOf(r) ?? ''))
    const { created } = missing.length ? await providersService(tx as unknown as Db).createMany(missing) : { created: 0 }
    return { deleted: deleted.rowCount ?? 0, kept: keptIds.size, created }
  })
}

const isDemoProvider = (alias: string) =>
  sql`${sql.identifier(alias)}.external_ids @> ${JSON.stringify([{ scheme: DEMO_SCHEME }])}::jsonb`
const hasDemoNote = (alias: string) => sql`${sql.identifier(alias)}.notes LIKE ${`${DEMO_NETWORK_NOTE_PREFIX}%`}`

export interface NetworkRemoveCounts {
  referral_links: number
  mous: number
}

/**
 * Deletes the demo referral links (demo note, both ends demo providers) and demo MOUs (demo note, demo
 * provider), so the demo providers they pointed at can be reloaded. A demo MOU that a non-demo MOU renews
 * is kept, and is not inserted again by loadDemoNetwork. Nothing else is touched.
 */
export async function removeDemoNetwork(db: Db): Promise<NetworkRemoveCounts> {
  return db.transaction(async (tx) => {
    const links = await tx.execute(sql`
      DELETE FROM referral_links l USING providers fp, providers tp
      WHERE fp.id = l.from_provider_id AND tp.id = l.to_provider_id
        AND ${hasDemoNote('l')} AND ${isDemoProvider('fp')} AND ${isDemoProvider('tp')}`)
    const demoMou = (alias: string) => sql`${hasDemoNote(alias)} AND EXISTS (
      SELECT 1 FROM providers mp WHERE mp.id = ${sql.identifier(alias)}.provider_id AND ${isDemoProvider('mp')})`
    // mou_status_changes rows go with their MOU (ON DELETE CASCADE).
    const mous = await tx.execute(sql`
      DELETE FROM mous m WHERE ${demoMou('m')}
        AND NOT EXISTS (SELECT 1 FROM mous r WHERE r.renews_mou_id = m.id AND NOT (${demoMou('r')}))`)
    return { referral_links: links.rowCount ?? 0, mous: mous.rowCount ?? 0 }
  })
}

export interface NetworkLoadCounts {
  mous: number
  referral_links: number
  /** Rows the API's rules refused or that already exist (a kept MOU, a link a person made between the same pair). */
  skipped: { row: string; reason: string }[]
}

/**
 * Inserts the demo MOUs and referral links through the modules' services, so each row passes the same
 * validation as a POST (zod body, existing ends, no self-link, one per pair, categories offered, no closed
 * end; MOU dates and renewals) and every MOU gets its creation history row. Providers are found by their
 * setu-demo id, so the seed files never hold uuids. Run after loadDemoProviders, in one transaction.
 */
export async function loadDemoNetwork(db: Db): Promise<NetworkLoadCounts> {
  const today = await databaseToday(db)
  const mouRows = readDemoMous(today)
  const linkRows = readDemoLinks(today)
  return db.transaction(async (tx) => {
    const txDb = tx as unknown as Db
    const { rows: ids } = await tx.execute<{ demo_id: string; id: string }>(sql`
      SELECT e.value->>'id' AS demo_id, p.id FROM providers p, jsonb_array_elements(p.external_ids) e
      WHERE ${isDemoProvider('p')} AND e.value->>'scheme' = ${DEMO_SCHEME}`)
    const providerId = new Map(ids.map((r) => [r.demo_id, r.id]))
    const { rows: present } = await tx.execute<{ document_ref: string; id: string }>(sql`
      SELECT m.document_ref, m.id FROM mous m JOIN providers mp ON mp.id = m.provider_id
      WHERE ${hasDemoNote('m')} AND ${isDemoProvider('mp')} AND m.document_ref IS NOT NULL`)
    const mouId = new Map(present.map((r) => [r.document_ref, r.id]))
    const counts: NetworkLoadCounts = { mous: 0, referral_links: 0, skipped: [] }
    // A refused row rolls back to its own savepoint (the services open nested transactions), so one
    // row that no longer fits (a kept provider someone closed) does not stop the rest.
    const attempt = async (row: string, insert: () => Promise<unknown>) => {
      try {
        await insert()
        return true
      } catch (err) {
        if (!(err instanceof Problem)) throw err
        counts.skipped.push({ row, reason: err.detail ?? err.title })
        return false
      }
    }

    const mous = mousService(txDb)
    for (const { provider, renews, ...body } of mouRows) {
      const owner = providerId.get(provider)
      if (!owner) throw new Error(`seeds/mous.json: ${body.document_ref} names unknown demo provider ${provider}`)
      if (mouId.has(body.document_ref)) {
        counts.skipped.push({ row: body.document_ref, reason: 'kept: a non-demo MOU renews it' })
        continue
      }
      const input = CreateMou.parse({ ...body, ...(renews ? { renews_mou_id: mouId.get(renews) ?? null } : {}) })
      await attempt(body.document_ref, async () => {
        const created = await mous.createMou(owner, input)
        mouId.set(body.document_ref, created.id)
        counts.mous++
      })
    }

    // Health settings only shape what createLink returns, never what it accepts.
    const links = referralLinksService(txDb, { atRiskDays: 60, staleMonths: 12 })
    for (const { from, to, ...body } of linkRows) {
      const fromId = providerId.get(from)
      const toId = providerId.get(to)
      if (!fromId || !toId) throw new Error(`seeds/referral-links.json: link ${from} → ${to} names an unknown demo provider`)
      const input = CreateReferralLink.parse({ ...body, from_provider_id: fromId, to_provider_id: toId })
      if (await attempt(`${from} → ${to}`, () => links.createLink(input))) counts.referral_links++
    }
    return counts
  })
}

/** Loads the demo set into an empty database (what `npm start` does the first time). */
export async function loadDemoData(
  db: Db,
): Promise<{ areas: number; providers: number; mous: number; referral_links: number }> {
  const areas = await loadDemoAreas(db)
  await removeDemoNetwork(db)
  const providers = await loadDemoProviders(db)
  const network = await loadDemoNetwork(db)
  return {
    areas: areas.inserted + areas.updated + areas.unchanged,
    providers: providers.created + providers.kept,
    mous: network.mous,
    referral_links: network.referral_links,
  }
}
