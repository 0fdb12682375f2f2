// Coverage answers and their cache. A coverage answer for a whole country's unions costs seconds of database time,
// analysts ask the same few questions again and again, and the data changes rarely. Each server process keeps its
// recent answers in memory (the rendered JSON, CSV or GeoJSON text, so a hit costs no serializing), each stamped
// with what it was computed from:
// - the database snapshot (repo.ts currentSnapshot): while no transaction anywhere in the cluster has committed or
//   begun writing, a new statement sees the same data, so an equal snapshot is a hit without reading any table;
// - the data fingerprint (repo.ts dataVersionSql: today, and row count and xmin sum of providers, MOUs and areas):
//   when the snapshot has moved, the fingerprint is read in a read-only REPEATABLE READ transaction; if it matches,
//   the kept answer holds (some other table changed), otherwise the coverage statement runs in that same snapshot,
//   so an answer and its fingerprint always describe the same data.
// A write by any process, script or hand-written SQL changes the fingerprint, so no process serves an answer older
// than the data, and nothing has to notify anyone.
import type { Db, Executor } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { badRequest, notFound } from '../../lib/problem.js'
import { CATEGORIES } from '../../lib/vocabulary.js'
import { coverageCsv, coverageGeoJson } from './formats.js'
import { coverageRows, currentSnapshot, dataVersion, findParent, simplifiedGeometries, type CoverageRow } from './repo.js'
import type { AreaCoverage, CategoryCoverage, Coverage, CoverageFormat, CoverageQuery } from './schemas.js'

/** Answers kept per process, of each kind; the least recently used goes first. 5,160 unions are about 2.6 MB of JSON. */
const MAX_CACHED = 16

interface Entry<V> {
  version: string
  snapshot: string
  value: V
}

class Lru<V> {
  private readonly entries = new Map<string, Entry<V>>()
  constructor(private readonly max: number) {}
  /** The value if it was computed or last confirmed under this snapshot. */
  atSnapshot(key: string, snapshot: string): V | undefined {
    const hit = this.entries.get(key)
    return hit?.snapshot === snapshot ? this.touch(key, hit) : undefined
  }
  /** The value if it was computed from data of this fingerprint; then it holds under `snapshot` too. */
  atVersion(key: string, version: string, snapshot: string): V | undefined {
    const hit = this.entries.get(key)
    if (hit?.version !== version) return undefined
    hit.snapshot = snapshot
    return this.touch(key, hit)
  }
  set(key: string, entry: Entry<V>) {
    this.entries.delete(key)
    this.entries.set(key, entry)
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
  }
  private touch(key: string, hit: Entry<V>): V {
    this.entries.delete(key)
    this.entries.set(key, hit)
    return hit.value
  }
}

const viewerKey = (v: Viewer) => (v.exact === 'own' ? `own:${String(v.organisationId)}` : v.exact)

/** nearest_km as answered: km to the metre (a masked provider's distance is already whole km). */
const km = (metres: number | null) => (metres === null ? null : Math.round(metres) / 1000)

export function toCoverage(q: CoverageQuery, rows: CoverageRow[]): Coverage {
  const categories = q.category ? [q.category] : [...CATEGORIES]
  const items: AreaCoverage[] = []
  let current: AreaCoverage | undefined
  for (const r of rows) {
    if (current?.pcode !== r.pcode) {
      current = { pcode: r.pcode, name_en: r.name_en, name_local: r.name_local, parent_pcode: r.parent_pcode, admin_level: r.admin_level, categories: {} }
      items.push(current)
    }
    const metrics: CategoryCoverage = { active: r.active, with_mou: r.with_mou, stale: r.stale, nearest_km: km(r.nearest_m), gap: r.gap }
    current.categories[r.category] = metrics
  }
  return { country: q.country, admin_level: q.admin_level, parent: q.parent ?? null, gap_km: q.gap_km, categories, items, next_cursor: null }
}

export interface CoverageSettings {
  /** VERIFICATION_STALE_MONTHS */
  staleMonths: number
}

export function coverageService(db: Db, { staleMonths }: CoverageSettings) {
  const answers = new Lru<Coverage>(MAX_CACHED)
  const texts = new Lru<string>(MAX_CACHED)

  /** The kept value for key, or compute(tx, version, snapshot) in a read-only snapshot of its own. */
  async function cached<V>(cache: Lru<V>, key: string, compute: (tx: Executor, version: string, snapshot: string) => Promise<V>): Promise<V> {
    const quick = cache.atSnapshot(key, await currentSnapshot(db))
    if (quick !== undefined) return quick
    return db.transaction(
      async (tx) => {
        const { version, snapshot } = await dataVersion(tx)
        const kept = cache.atVersion(key, version, snapshot)
        if (kept !== undefined) return kept
        const value = await compute(tx, version, snapshot)
        cache.set(key, { version, snapshot, value })
        return value
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    )
  }

  async function checkParent(q: CoverageQuery) {
    if (!q.parent) return
    const parent = await findParent(db, q.parent)
    if (!parent) throw notFound('Area', q.parent)
    if (parent.country !== q.country || parent.admin_level >= q.admin_level) {
      throw badRequest(`parent ${q.parent} is not an area of ${q.country} above admin_level ${q.admin_level}`, [
        { path: 'parent', message: `must be an area of ${q.country} of a level above ${q.admin_level} (it is ${parent.country} level ${parent.admin_level})` },
      ])
    }
  }

  const selectionKey = (q: CoverageQuery, viewer: Viewer) => [q.country, q.admin_level, q.parent ?? null, q.category ?? null, q.gap_km, viewerKey(viewer)]

  /** The coverage object, from the cache or computed in tx (whose fingerprint is version). */
  async function coverageIn(tx: Executor, version: string, snapshot: string, q: CoverageQuery, viewer: Viewer): Promise<Coverage> {
    const key = JSON.stringify(selectionKey(q, viewer))
    const kept = answers.atVersion(key, version, snapshot)
    if (kept) return kept
    const rows = await coverageRows(
      tx,
      { country: q.country, adminLevel: q.admin_level, parent: q.parent, categories: q.category ? [q.category] : CATEGORIES, gapKm: q.gap_km, staleMonths },
      viewer,
    )
    const coverage = toCoverage(q, rows)
    answers.set(key, { version, snapshot, value: coverage })
    return coverage
  }

  return {
    /** The coverage of the areas the query selects, as `viewer` may see it. */
    async coverage(q: CoverageQuery, viewer: Viewer): Promise<Coverage> {
      await checkParent(q)
      return cached(answers, JSON.stringify(selectionKey(q, viewer)), (tx, version, snapshot) => coverageIn(tx, version, snapshot, q, viewer))
    },

    /** The same, rendered: JSON text, CSV (with its byte-order mark) or GeoJSON with polygons simplified by q.simplify metres. */
    async coverageText(q: CoverageQuery, viewer: Viewer, format: CoverageFormat): Promise<string> {
      await checkParent(q)
      const key = JSON.stringify([format, ...selectionKey(q, viewer), format === 'geojson' ? q.simplify : null])
      return cached(texts, key, async (tx, version, snapshot) => {
        const coverage = await coverageIn(tx, version, snapshot, q, viewer)
        if (format === 'json') return JSON.stringify(coverage)
        if (format === 'csv') return coverageCsv(coverage)
        const shapes = await simplifiedGeometries(tx, coverage.items.map((a) => a.pcode), q.country, q.simplify)
        return coverageGeoJson(coverage, shapes)
      })
    },
  }
}
export type CoverageService = ReturnType<typeof coverageService>
