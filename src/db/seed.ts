// The demo data set (seeds/): generated areas for both countries and fictitious providers.
// `npm start` loads it into an empty database; `npm run seed` reloads it.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { importAreas, type AreaCountry, type AreaLevel } from '../modules/areas/import.js'
import { providersService } from '../modules/providers/service.js'
import type { Db } from './client.js'
import { PROJECT_ROOT } from './database.js'

/** external_ids scheme of every demo provider: how a reload finds its own rows and never touches others. */
export const DEMO_SCHEME = 'setu-demo'
/** Every demo provider's notes start with this. */
export const DEMO_NOTE_PREFIX = 'DEMO DATA — fictitious entry'
/** Every demo provider's name ends with this. */
export const DEMO_NAME_SUFFIX = ' (demo)'
/** areas.source of every demo area. */
export const DEMO_AREA_SOURCE = 'setu-demo (generated approximation, seeds/areas)'

export const SEEDS_DIR = path.join(PROJECT_ROOT, 'seeds')

/** The area files in load order: parents before children. */
export const DEMO_AREA_FILES: { file: string; country: AreaCountry; level: AreaLevel }[] = [
  { file: 'BGD_1.geojson', country: 'BGD', level: 1 },
  { file: 'BGD_2.geojson', country: 'BGD', level: 2 },
  { file: 'KHM_1.geojson', country: 'KHM', level: 1 },
  { file: 'KHM_2.geojson', country: 'KHM', level: 2 },
]

const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(SEEDS_DIR, file), 'utf8'))

export const readDemoAreas = (file: string) => readJson(path.join('areas', file))
export const readDemoProviders = () => readJson('providers.json') as Array<Record<string, unknown>>

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
  const rows = readDemoProviders()
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

/** Loads the demo set into an empty database (what `npm start` does the first time). */
export async function loadDemoData(db: Db): Promise<{ areas: number; providers: number }> {
  const areas = await loadDemoAreas(db)
  const providers = await loadDemoProviders(db)
  return { areas: areas.inserted + areas.updated + areas.unchanged, providers: providers.created + providers.kept }
}
