// Coverage answers and their cache. A coverage answer for a whole country's unions costs seconds of database time,
// analysts ask the same few questions again and again, and the data changes rarely. Each server process keeps its
// recent answers in memory (the rendered JSON, CSV or GeoJSON text, so a hit costs no serializing), each stamped
// with the day and the database snapshot it was computed in (a REPEATABLE READ transaction, so the answer describes
// exactly the data of that snapshot). A kept answer still holds when the day is the same and no transaction that
// wrote providers, MOUs or areas committed since its snapshot: one indexed read of the data_writes journal
// (repo.ts writesSince, migrations/0007), after which the answer is known to describe the newer snapshot too.
// A write by any process, script or hand-written SQL is in the journal (triggers on the tables), so no process
// serves an answer older than the data, and nothing has to notify anyone.
import type { Db, Executor } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { badRequest, notFound } from '../../lib/problem.js'
import { CATEGORIES } from '../../lib/vocabulary.js'
import { coverageCsv, coverageGeoJson } from './formats.js'
import { coverageRows, dataState, findParent, simplifiedGeometries, writesSince, type CoverageRow } from './repo.js'
import type { AreaCoverage, CategoryCoverage, Coverage, CoverageFormat, CoverageQuery } from './schemas.js'

/** Answers kept per process, of each kind; the least recently used goes first. 5,160 unions are about 2.6 MB of JSON. */
const MAX_CACHED = 16

/**
 * How old a kept answer's snapshot may be for the journal to vouch for it: the journal forgets transactions that
 * ended a day before its last pruning (migrations/0007 prune_data_writes), so half a day leaves a margin. An older
 * answer (no request confirmed it for that long) is computed again.
 */
export const JOURNAL_WINDOW_MS = 12 * 60 * 60 * 1000

interface Entry<V> {
  value: V
  day: string
  /** The snapshot whose data the value describes. */
  snapshot: string
  /** When that snapshot was taken, at the latest (Date.now() before the statement that read it). */
  takenAt: number
}

class Lru<V> {
  private readonly entries = new Map<string, Entry<V>>()
  constructor(private readonly max: number) {}
  get(key: string): Entry<V> | undefined {
    const hit = this.entries.get(key)
    if (hit) this.set(key, hit)
    return hit
  }
  set(key: string, entry: Entry<V>) {
    this.entries.delete(key)
    this.entries.set(key, entry)
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
  }
}

/**
 * The kept value if it still describes the data `ex` sees (in a transaction: its snapshot); the entry then
 * describes that newer snapshot, so the next check reads the journal from there.
 */
async function stillValid<V>(ex: Executor, entry: Entry<V> | undefined, now: () => number): Promise<V | undefined> {
  if (!entry) return undefined
  const at = now()
  if (at - entry.takenAt >= JOURNAL_WINDOW_MS) return undefined
  const { day, snapshot, written } = await writesSince(ex, entry.snapshot)
  if (written || day !== entry.day) return undefined
  entry.snapshot = snapshot
  entry.takenAt = at
  return entry.value
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
  /** The clock that ages kept answers (JOURNAL_WINDOW_MS); tests pass their own. */
  now?: () => number
}

/** The data a computation in a transaction reads: its day and snapshot, and when the snapshot was taken at the latest. */
type State = Omit<Entry<unknown>, 'value'>

export function coverageService(db: Db, { staleMonths, now = Date.now }: CoverageSettings) {
  const answers = new Lru<Coverage>(MAX_CACHED)
  const texts = new Lru<string>(MAX_CACHED)

  /** The kept value for key while it holds, or compute(tx, state) in a read-only snapshot of its own. */
  async function cached<V>(cache: Lru<V>, key: string, compute: (tx: Executor, state: State) => Promise<V>): Promise<V> {
    const kept = await stillValid(db, cache.get(key), now)
    if (kept !== undefined) return kept
    return db.transaction(
      async (tx) => {
        const takenAt = now()
        const state = { ...(await dataState(tx)), takenAt }
        const value = await compute(tx, state)
        cache.set(key, { ...state, value })
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

  /** The coverage object, from the cache or computed in tx (which reads the data of state). */
  async function coverageIn(tx: Executor, state: State, q: CoverageQuery, viewer: Viewer): Promise<Coverage> {
    const key = JSON.stringify(selectionKey(q, viewer))
    const kept = await stillValid(tx, answers.get(key), now)
    if (kept) return kept
    const rows = await coverageRows(
      tx,
      { country: q.country, adminLevel: q.admin_level, parent: q.parent, categories: q.category ? [q.category] : CATEGORIES, gapKm: q.gap_km, staleMonths },
      viewer,
    )
    const coverage = toCoverage(q, rows)
    answers.set(key, { ...state, value: coverage })
    return coverage
  }

  return {
    /** The coverage of the areas the query selects, as `viewer` may see it. */
    async coverage(q: CoverageQuery, viewer: Viewer): Promise<Coverage> {
      await checkParent(q)
      return cached(answers, JSON.stringify(selectionKey(q, viewer)), (tx, state) => coverageIn(tx, state, q, viewer))
    },

    /** The same, rendered: JSON text, CSV (with its byte-order mark) or GeoJSON with polygons simplified by q.simplify metres. */
    async coverageText(q: CoverageQuery, viewer: Viewer, format: CoverageFormat): Promise<string> {
      await checkParent(q)
      const key = JSON.stringify([format, ...selectionKey(q, viewer), format === 'geojson' ? q.simplify : null])
      return cached(texts, key, async (tx, state) => {
        const coverage = await coverageIn(tx, state, q, viewer)
        if (format === 'json') return JSON.stringify(coverage)
        if (format === 'csv') return coverageCsv(coverage)
        const shapes = await simplifiedGeometries(tx, coverage.items.map((a) => a.pcode), q.country, q.simplify)
        return coverageGeoJson(coverage, shapes)
      })
    },
  }
}
export type CoverageService = ReturnType<typeof coverageService>
