// Coverage answers and their cache. A coverage answer for a whole country's unions costs about a second of database
// time, and analysts ask the same few questions again and again; the data changes rarely. Each server process keeps
// its recent answers in memory, each stamped with the fingerprint of the data it was computed from (repo.ts
// dataVersionSql: today, and row count and xmin sum of providers, MOUs and areas). Every request reads the current
// fingerprint in a read-only REPEATABLE READ transaction; when it matches, the kept answer is returned, otherwise the
// coverage statement runs in that same snapshot, so the answer and its fingerprint always describe the same data.
// A write by any process, script or hand-written SQL changes the fingerprint, so no process serves an answer older
// than the data, and nothing has to notify anyone.
import type { Db, Executor } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { badRequest, notFound } from '../../lib/problem.js'
import { CATEGORIES } from '../../lib/vocabulary.js'
import { coverageRows, dataVersion, findParent, simplifiedGeometries, type CoverageRow } from './repo.js'
import type { AreaCoverage, CategoryCoverage, Coverage, CoverageQuery } from './schemas.js'

/** Answers kept per process; the oldest used goes first. An answer for 5,160 unions is about 2 MB. */
const MAX_CACHED = 32

class Lru<V> {
  private readonly entries = new Map<string, { version: string; value: V }>()
  constructor(private readonly max: number) {}
  get(key: string, version: string): V | undefined {
    const hit = this.entries.get(key)
    if (!hit) return undefined
    this.entries.delete(key)
    if (hit.version !== version) return undefined
    this.entries.set(key, hit)
    return hit.value
  }
  set(key: string, version: string, value: V) {
    this.entries.delete(key)
    this.entries.set(key, { version, value })
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
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
  const geometries = new Lru<Map<string, string>>(8)

  /** fn in a read-only snapshot, with the fingerprint of the data that snapshot sees. */
  const inSnapshot = <T>(fn: (tx: Executor, version: string) => Promise<T>) =>
    db.transaction(async (tx) => fn(tx, await dataVersion(tx)), { isolationLevel: 'repeatable read', accessMode: 'read only' })

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

  async function coverageIn(tx: Executor, version: string, q: CoverageQuery, viewer: Viewer): Promise<Coverage> {
    const key = JSON.stringify([q.country, q.admin_level, q.parent ?? null, q.category ?? null, q.gap_km, viewerKey(viewer)])
    const kept = answers.get(key, version)
    if (kept) return kept
    const rows = await coverageRows(
      tx,
      {
        country: q.country,
        adminLevel: q.admin_level,
        parent: q.parent,
        categories: q.category ? [q.category] : CATEGORIES,
        gapKm: q.gap_km,
        staleMonths,
      },
      viewer,
    )
    const coverage = toCoverage(q, rows)
    answers.set(key, version, coverage)
    return coverage
  }

  return {
    /** The coverage of the areas the query selects, as `viewer` may see it. */
    async coverage(q: CoverageQuery, viewer: Viewer): Promise<Coverage> {
      await checkParent(q)
      return inSnapshot((tx, version) => coverageIn(tx, version, q, viewer))
    },

    /** The coverage and each area's polygon (GeoJSON text), simplified to q.simplify metres. */
    async coverageWithGeometry(q: CoverageQuery, viewer: Viewer): Promise<{ coverage: Coverage; geometries: Map<string, string> }> {
      await checkParent(q)
      return inSnapshot(async (tx, version) => {
        const coverage = await coverageIn(tx, version, q, viewer)
        const key = JSON.stringify([q.country, q.admin_level, q.parent ?? null, q.simplify])
        let shapes = geometries.get(key, version)
        if (!shapes) {
          shapes = await simplifiedGeometries(tx, coverage.items.map((a) => a.pcode), q.country, q.simplify)
          geometries.set(key, version, shapes)
        }
        return { coverage, geometries: shapes }
      })
    },
  }
}
export type CoverageService = ReturnType<typeof coverageService>
