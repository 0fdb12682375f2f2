// Loads administrative boundaries from a GeoJSON FeatureCollection (OCHA COD-AB, geoBoundaries, ...)
// into `areas`: one level of one country per call, upserted by pcode, all in one transaction.
//
// Rejection policy: a feature that cannot become an area (no polygon, no code or name, duplicate code,
// unknown or unfindable parent) is left out and reported with its index and reason; the good features
// are still imported. A file that is not a FeatureCollection, or bad options, throw AreaImportError
// before anything is written. Any database error rolls the whole import back.
import { sql, TransactionRollbackError } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import {
  assignParentsByLargestOverlap,
  emptyStagedGeometries,
  geometryFromGeoJson,
  refreshProviderAreas,
  repairStagedGeometries,
} from './spatial.js'

export type AreaCountry = 'BGD' | 'KHM'
export type AreaLevel = 1 | 2 | 3 | 4

export interface AreaImportOptions {
  country: AreaCountry
  level: AreaLevel
  /** Defaults: BGD division/district/upazila/union, KHM province/district/commune. */
  levelName?: string
  /** Property holding the official code (P-code). */
  codeField?: string
  nameField: string
  /** Property holding the Bangla or Khmer name. */
  nameLocalField?: string
  /** Property holding the parent's code; without it (or when a feature leaves it empty) the parent is found spatially. */
  parentField?: string
  /** e.g. 'BD': prepended to own and parent codes that lack it, so every level uses one form. */
  codePrefix?: string
  /** Dataset name, stored in areas.source. */
  source?: string
  /** Property holding the source's own id: stored in areas.source_id, and used as pcode when there is no codeField. */
  sourceIdField?: string
  /** Do everything, report, then roll back. */
  dryRun?: boolean
}

export interface AreaImportReport {
  inserted: number
  updated: number
  unchanged: number
  rejected: { index: number; reason: string }[]
  parentsBySpatialJoin: number
  /** Features whose invalid geometry was repaired with ST_MakeValid (they are imported). */
  repaired: number
}

/** The whole file or the options are unusable; nothing was written. */
export class AreaImportError extends Error {
  override name = 'AreaImportError'
}

export const DEFAULT_LEVEL_NAMES: Record<AreaCountry, Partial<Record<AreaLevel, string>>> = {
  BGD: { 1: 'division', 2: 'district', 3: 'upazila', 4: 'union' },
  KHM: { 1: 'province', 2: 'district', 3: 'commune' },
}

interface StagedArea {
  idx: number
  pcode: string
  name_en: string
  name_local: string | null
  parent_pcode: string | null
  source_id: string | null
  geometry: string
}

type Rejection = AreaImportReport['rejected'][number]

const BATCH_SIZE = 200

export async function importAreas(db: Db, collection: unknown, options: AreaImportOptions): Promise<AreaImportReport> {
  const levelName = checkOptions(options)
  const features = featuresOf(collection)
  const { staged, rejected } = stageFeatures(features, options)
  const report: AreaImportReport = { inserted: 0, updated: 0, unchanged: 0, rejected, parentsBySpatialJoin: 0, repaired: 0 }

  try {
    await db.transaction(async (tx) => {
      await tx.execute(sql`
        CREATE TEMP TABLE import_staging (
          idx integer PRIMARY KEY, pcode text NOT NULL, name_en text NOT NULL, name_local text,
          parent_pcode text, source_id text, raw geometry, geom geometry(MultiPolygon, 4326), repaired boolean
        ) ON COMMIT DROP`)
      for (let i = 0; i < staged.length; i += BATCH_SIZE) {
        const rows = staged.slice(i, i + BATCH_SIZE).map(
          (a) => sql`(${a.idx}, ${a.pcode}, ${a.name_en}, ${a.name_local}, ${a.parent_pcode}, ${a.source_id}, ${geometryFromGeoJson(a.geometry)})`,
        )
        await tx.execute(sql`
          INSERT INTO import_staging (idx, pcode, name_en, name_local, parent_pcode, source_id, raw)
          VALUES ${sql.join(rows, sql`, `)}`)
      }

      const repaired = await tx.execute<{ repaired: number }>(repairStagedGeometries)
      report.repaired = repaired.rows[0].repaired
      const empty = await tx.execute<{ idx: number }>(emptyStagedGeometries)
      for (const { idx } of empty.rows) rejected.push({ index: idx, reason: 'geometry has no polygonal area, even after repair' })

      if (options.level === 1) {
        await tx.execute(sql`UPDATE import_staging SET parent_pcode = NULL`)
      } else {
        const parentLevel = options.level - 1
        const unknown = await tx.execute<{ idx: number; parent_pcode: string }>(sql`
          DELETE FROM import_staging s
          WHERE s.parent_pcode IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM areas p WHERE p.pcode = s.parent_pcode AND p.country = ${options.country} AND p.admin_level = ${parentLevel})
          RETURNING s.idx, s.parent_pcode`)
        for (const r of unknown.rows) {
          rejected.push({ index: r.idx, reason: `parent code ${r.parent_pcode} is not a level ${parentLevel} area of ${options.country}` })
        }
        const joined = await tx.execute<{ idx: number }>(assignParentsByLargestOverlap(options.country, parentLevel))
        report.parentsBySpatialJoin = joined.rows.length
        const orphans = await tx.execute<{ idx: number }>(sql`DELETE FROM import_staging WHERE parent_pcode IS NULL RETURNING idx`)
        for (const { idx } of orphans.rows) {
          rejected.push({ index: idx, reason: `no level ${parentLevel} area of ${options.country} overlaps it, so it has no parent` })
        }
      }

      // The WHERE keeps re-imports of the same file from touching rows, so updated_at means "changed" (and the
      // triggers of migration 0002 re-cut area_parts, in this transaction, only for polygons that changed).
      const written = await tx.execute<{ pcode: string; inserted: boolean }>(sql`
        INSERT INTO areas AS a (pcode, name_en, name_local, country, admin_level, level_name, parent_pcode, source, source_id, geom)
        SELECT pcode, name_en, name_local, ${options.country}, ${options.level}, ${levelName}, parent_pcode,
               ${options.source ?? null}::text, source_id, geom
        FROM import_staging ORDER BY idx
        ON CONFLICT (pcode) DO UPDATE SET
          name_en = EXCLUDED.name_en, name_local = EXCLUDED.name_local, country = EXCLUDED.country,
          admin_level = EXCLUDED.admin_level, level_name = EXCLUDED.level_name, parent_pcode = EXCLUDED.parent_pcode,
          source = EXCLUDED.source, source_id = EXCLUDED.source_id, geom = EXCLUDED.geom, updated_at = now()
        WHERE (a.name_en, a.name_local, a.country, a.admin_level, a.level_name, a.parent_pcode, a.source, a.source_id, a.geom)
              IS DISTINCT FROM
              (EXCLUDED.name_en, EXCLUDED.name_local, EXCLUDED.country, EXCLUDED.admin_level, EXCLUDED.level_name,
               EXCLUDED.parent_pcode, EXCLUDED.source, EXCLUDED.source_id, EXCLUDED.geom)
        RETURNING a.pcode, (a.xmax = 0) AS inserted`)
      const total = await tx.execute<{ n: number }>(sql`SELECT count(*) AS n FROM import_staging`)
      report.inserted = written.rows.filter((r) => r.inserted).length
      report.updated = written.rows.length - report.inserted
      report.unchanged = total.rows[0].n - written.rows.length

      if (written.rows.length > 0) await tx.execute(refreshProviderAreas(written.rows.map((r) => r.pcode)))
      if (options.dryRun) tx.rollback()
    })
  } catch (err) {
    if (!(options.dryRun && err instanceof TransactionRollbackError)) throw err
  }
  // Fresh statistics at once, not when autovacuum gets to it: with none, the planner took a whole country's 5,776
  // areas for 81 and joined coverage's and stats' nearest lookups by nested loop (22 s instead of 1 s).
  if (!options.dryRun && report.inserted + report.updated > 0) await db.execute(sql`ANALYZE areas, area_parts`)
  rejected.sort((a, b) => a.index - b.index)
  return report
}

function checkOptions(options: AreaImportOptions): string {
  if (options.country !== 'BGD' && options.country !== 'KHM') throw new AreaImportError(`country must be BGD or KHM, not ${options.country}`)
  if (![1, 2, 3, 4].includes(options.level)) throw new AreaImportError(`level must be 1, 2, 3 or 4, not ${options.level}`)
  if (!options.nameField) throw new AreaImportError('nameField is required')
  if (!options.codeField && !options.sourceIdField) {
    throw new AreaImportError('either codeField or sourceIdField is required: every area needs a code')
  }
  const levelName = options.levelName ?? DEFAULT_LEVEL_NAMES[options.country][options.level]
  if (!levelName) throw new AreaImportError(`${options.country} has no default name for level ${options.level}; pass levelName`)
  return levelName
}

function featuresOf(collection: unknown): unknown[] {
  const c = collection as { type?: unknown; features?: unknown } | null
  if (!c || typeof c !== 'object' || c.type !== 'FeatureCollection' || !Array.isArray(c.features)) {
    throw new AreaImportError('the file is not a GeoJSON FeatureCollection (expected {"type": "FeatureCollection", "features": [...]})')
  }
  return c.features
}

const textOf = (value: unknown): string | null => {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') return null
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

const withPrefix = (code: string, prefix?: string) => (prefix && !code.startsWith(prefix) ? prefix + code : code)

function stageFeatures(features: unknown[], options: AreaImportOptions) {
  const staged: StagedArea[] = []
  const rejected: Rejection[] = []
  const firstIndexOf = new Map<string, number>()
  features.forEach((feature, index) => {
    const reject = (reason: string) => rejected.push({ index, reason })
    const f = feature as { type?: unknown; properties?: unknown; geometry?: unknown } | null
    if (!f || typeof f !== 'object' || f.type !== 'Feature') return reject('not a GeoJSON Feature')
    const props = (f.properties && typeof f.properties === 'object' ? f.properties : {}) as Record<string, unknown>

    const sourceId = options.sourceIdField ? textOf(props[options.sourceIdField]) : null
    const rawCode = options.codeField ? textOf(props[options.codeField]) : sourceId
    if (!rawCode) return reject(`no code in property ${options.codeField ?? options.sourceIdField}`)
    const pcode = options.codeField ? withPrefix(rawCode, options.codePrefix) : rawCode
    const name = textOf(props[options.nameField])
    if (!name) return reject(`no name in property ${options.nameField}`)

    const geometry = polygonalGeometry(f.geometry)
    if (typeof geometry === 'object') return reject(geometry.error)

    const first = firstIndexOf.get(pcode)
    if (first !== undefined) return reject(`duplicate code ${pcode} (first at index ${first})`)
    firstIndexOf.set(pcode, index)

    const parent = options.parentField ? textOf(props[options.parentField]) : null
    staged.push({
      idx: index,
      pcode,
      name_en: name,
      name_local: options.nameLocalField ? textOf(props[options.nameLocalField]) : null,
      parent_pcode: parent ? withPrefix(parent, options.codePrefix) : null,
      source_id: sourceId,
      geometry,
    })
  })
  return { staged, rejected }
}

type Position = number[]

/**
 * The feature's geometry as GeoJSON text PostGIS will parse, or why it cannot be an area. Checked here
 * so one bad feature is a rejection and not an error that aborts the import's transaction. Unclosed
 * rings are closed; everything else about validity is left to ST_MakeValid.
 */
function polygonalGeometry(geometry: unknown): string | { error: string } {
  const g = geometry as { type?: unknown; coordinates?: unknown } | null
  if (!g || typeof g !== 'object') return { error: 'geometry is missing' }
  if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') return { error: `geometry type ${String(g.type)} is not polygonal` }
  if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) return { error: 'geometry is empty' }
  const polygons = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as unknown[]
  const closed: Position[][][] = []
  for (const polygon of polygons) {
    if (!Array.isArray(polygon) || polygon.length === 0) return { error: 'geometry has an empty polygon' }
    const rings: Position[][] = []
    for (const ring of polygon as unknown[]) {
      if (!Array.isArray(ring)) return { error: 'geometry has a malformed ring' }
      for (const p of ring as unknown[]) {
        if (!Array.isArray(p) || p.length < 2 || !p.every((n) => typeof n === 'number' && Number.isFinite(n))) {
          return { error: 'geometry has a position that is not [lon, lat]' }
        }
        if (Math.abs(p[0]) > 180 || Math.abs(p[1]) > 90) {
          return { error: `coordinate [${p[0]}, ${p[1]}] is outside WGS 84 lon/lat (is the file projected?)` }
        }
      }
      const positions = ring as Position[]
      const [x0, y0] = positions[0] ?? []
      const [xn, yn] = positions[positions.length - 1] ?? []
      const ringClosed = x0 === xn && y0 === yn ? positions : [...positions, positions[0]]
      if (ringClosed.length < 4) return { error: 'geometry has a ring with fewer than 4 positions' }
      rings.push(ringClosed)
    }
    closed.push(rings)
  }
  return JSON.stringify({ type: 'MultiPolygon', coordinates: closed })
}
