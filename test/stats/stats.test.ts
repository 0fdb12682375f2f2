// GET /v1/stats against a brute-force count over a small seeded fixture: the totals are counted in JS from the
// rows the test wrote, MOU statuses by the rule written out again here, and the gaps from distances computed in
// SQL over every (area, provider) pair without any index or KNN (ST_Distance on the spheroid, then min in JS).
// gaps.test.ts checks the gap counts on the cases the nearest lookup must get right.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertMou, insertProvider } from '../helpers/factories.js'
import { gapsSql } from '../../src/modules/stats/repo.js'

const TODAY = '2026-06-15'
const STALE_BEFORE = '2025-06-15' // 12 months earlier
const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
const KINDS = ['government', 'ngo', 'community_group', 'survivor_group', 'private', 'international', 'focal_point'] as const
const STATUSES = ['active', 'suspended', 'closed'] as const

type Box = [number, number, number, number]
const AREAS: Array<{ pcode: string; country: 'BGD' | 'KHM'; admin_level: number; parent_pcode?: string; bbox: Box }> = [
  { pcode: 'BD40', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] },
  { pcode: 'BD30', country: 'BGD', admin_level: 1, bbox: [90.2, 23, 91, 24.2] },
  { pcode: 'BD4041', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] },
  { pcode: 'BD4047', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89.55, 22.3, 89.9, 22.75] },
  { pcode: 'BD3026', country: 'BGD', admin_level: 2, parent_pcode: 'BD30', bbox: [90.3, 23.6, 90.6, 23.9] },
  { pcode: 'BD404190', country: 'BGD', admin_level: 3, parent_pcode: 'BD4041', bbox: [89.15, 23.12, 89.35, 23.28] },
  { pcode: 'KH12', country: 'KHM', admin_level: 1, bbox: [104.7, 11.4, 105.1, 11.8] },
]

// A small deterministic generator (mulberry32), so that the fixture is the same on every run.
function rng(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const random = rng(9)
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]

interface P {
  id?: string
  lat: number
  lon: number
  kind: string
  status: string
  categories: string[]
  verified_on: string | null
  funded_until: string | null
}

function fixture(): P[] {
  const out: P[] = []
  const boxes: Box[] = [[88.5, 21.5, 91, 24.2], [104.7, 11.4, 105.1, 11.8], [92.5, 20, 93, 20.5]] // the last outside every area
  for (let i = 0; i < 60; i++) {
    const [x1, y1, x2, y2] = i < 45 ? boxes[0] : i < 55 ? boxes[1] : boxes[2]
    const categories = CATEGORIES.filter(() => random() < 0.35)
    out.push({
      lat: y1 + random() * (y2 - y1),
      lon: x1 + random() * (x2 - x1),
      kind: pick(KINDS),
      status: random() < 0.7 ? 'active' : pick(STATUSES),
      categories: categories.length ? categories : [pick(CATEGORIES)],
      verified_on: pick([null, '2024-01-10', '2025-06-14', '2025-06-15', '2026-01-01']),
      funded_until: pick([null, '2026-06-14', '2026-06-15', '2027-01-01']),
    })
  }
  return out
}

const inBox = (p: { lat: number; lon: number }, [x1, y1, x2, y2]: Box) => p.lon >= x1 && p.lon <= x2 && p.lat >= y1 && p.lat <= y2
const countryOf = (p: P) => AREAS.find((a) => inBox(p, a.bbox))?.country
const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>

t.test('stats equal a brute-force count', async (t) => {
  const { app, db } = await buildTestApp(t, {}, { today: TODAY })
  for (const a of AREAS) await insertArea(db, { ...a, name_en: a.pcode })
  const providers = fixture()
  for (const p of providers) p.id = await insertProvider(db, { ...p })
  // MOUs on the first active providers: (status, expires_on) → what they mean today.
  const mouPlan: Array<{ status: string; expires_on: string | null; effective: string }> = [
    { status: 'signed', expires_on: '2030-01-01', effective: 'signed' },
    { status: 'signed', expires_on: '2026-06-14', effective: 'expired' },
    { status: 'negotiating', expires_on: null, effective: 'negotiating' },
    { status: 'draft', expires_on: null, effective: 'negotiating' },
    { status: 'terminated', expires_on: null, effective: 'terminated' },
  ]
  const mous: Array<{ provider: string; categories: string[]; effective: string }> = []
  providers.filter((p) => p.status === 'active').slice(0, 15).forEach((p, i) => mous.push({ provider: p.id!, categories: [p.categories[0]], ...mouPlan[i % mouPlan.length] }))
  for (const [i, m] of mous.entries()) {
    const plan = mouPlan[i % mouPlan.length]
    await insertMou(db, { provider_id: m.provider, categories: m.categories, status: plan.status, expires_on: plan.expires_on })
  }

  const mouStatus = (id: string, category: string) => {
    const s = mous.filter((m) => m.provider === id && m.categories.includes(category)).map((m) => m.effective)
    return s.includes('signed') ? 'signed' : s.includes('negotiating') ? 'negotiating' : s.includes('expired') ? 'expired' : 'none'
  }

  // Every (area, active provider of a category) distance on the spheroid, no index involved.
  const { rows: pairs } = await db.execute<{ pcode: string; category: string; d: number }>(sql`
    SELECT a.pcode, c.category, ST_Distance(p.location::geography, a.rep_point::geography) AS d
    FROM areas a CROSS JOIN providers p CROSS JOIN LATERAL unnest(p.categories) AS c (category)
    WHERE p.status = 'active'`)

  for (const country of ['BGD', 'KHM'] as const) {
    for (const gapKm of [25, 60]) {
      await t.test(`${country}, gap_km ${gapKm}`, async (t) => {
        const res = await app.inject({ url: `/v1/stats?country=${country}&gap_km=${gapKm}` })
        t.equal(res.statusCode, 200, res.body)
        const body = res.json()
        const mine = providers.filter((p) => countryOf(p) === country)
        const active = mine.filter((p) => p.status === 'active')
        const expected = {
          country,
          as_of: TODAY,
          stale_months: 12,
          providers: {
            total: mine.length,
            by_status: { ...zeros(STATUSES) },
            by_kind: { ...zeros(KINDS) },
            by_category: { ...zeros(CATEGORIES) },
          },
          active: {
            total: active.length,
            by_category: { ...zeros(CATEGORIES) },
            mou_status: Object.fromEntries(CATEGORIES.map((c) => [c, { signed: 0, negotiating: 0, expired: 0, none: 0 } as Record<string, number>])),
            staleness: { never_verified: 0, not_verified: 0, funding_ended: 0, stale: 0 },
          },
          gaps: { gap_km: gapKm, levels: [] as Array<{ admin_level: number; areas: number; without: Record<string, number> }> },
        }
        for (const p of mine) {
          expected.providers.by_status[p.status as (typeof STATUSES)[number]]++
          expected.providers.by_kind[p.kind as (typeof KINDS)[number]]++
          for (const c of p.categories) expected.providers.by_category[c as (typeof CATEGORIES)[number]]++
        }
        for (const p of active) {
          for (const c of p.categories) {
            expected.active.by_category[c as (typeof CATEGORIES)[number]]++
            expected.active.mou_status[c][mouStatus(p.id!, c)]++
          }
          const never = p.verified_on === null
          const old = p.verified_on !== null && p.verified_on < STALE_BEFORE
          const ended = p.funded_until !== null && p.funded_until < TODAY
          expected.active.staleness.never_verified += Number(never)
          expected.active.staleness.not_verified += Number(old)
          expected.active.staleness.funding_ended += Number(ended)
          expected.active.staleness.stale += Number(never || old || ended)
        }
        const levels = [...new Set(AREAS.filter((a) => a.country === country).map((a) => a.admin_level))].sort()
        for (const level of levels) {
          const areas = AREAS.filter((a) => a.country === country && a.admin_level === level)
          const without = Object.fromEntries(
            CATEGORIES.map((c) => [
              c,
              areas.filter((a) => !pairs.some((x) => x.pcode === a.pcode && x.category === c && x.d <= gapKm * 1000)).length,
            ]),
          )
          expected.gaps.levels.push({ admin_level: level, areas: areas.length, without })
        }
        t.same(body, expected)
        // The fixture is not degenerate: some gaps and some covered areas, some of each MOU status.
        if (country === 'BGD' && gapKm === 25) {
          const w = expected.gaps.levels.flatMap((l) => Object.values(l.without))
          t.ok(w.some((n) => n > 0) && w.some((n, i) => n < expected.gaps.levels[Math.floor(i / 5)].areas), 'gaps both ways')
          t.ok(Object.values(expected.active.mou_status).some((m) => m.signed > 0) && Object.values(expected.active.mou_status).some((m) => m.expired > 0))
        }
      })
    }
  }

  await t.test('a gap counts providers across the border, which the totals do not count', async (t) => {
    // KH12's representative point is about 22 km from its eastern edge; a provider just beyond it lies in no area.
    const category = 'livelihood'
    await db.execute(sql`UPDATE providers SET status = 'closed' WHERE ST_X(location) > 100 AND ${category} = ANY (categories)`)
    const before = (await app.inject({ url: '/v1/stats?country=KHM&gap_km=30' })).json()
    t.equal(before.gaps.levels[0].without[category], 1, `no active ${category} provider in Cambodia`)
    await insertProvider(db, { lat: 11.6, lon: 105.13, categories: [category] })
    const after = (await app.inject({ url: '/v1/stats?country=KHM&gap_km=30' })).json()
    t.equal(after.gaps.levels[0].without[category], 0, `KH12 has a ${category} provider within 30 km, across its border`)
    t.equal(after.providers.total, before.providers.total, 'a provider outside every area belongs to no country')
  })

  await t.test('the gap statement looks each category up on coverage\'s per-country index, once per area', async (t) => {
    await db.execute(sql`ANALYZE providers`)
    const loops = new Map<string, number>()
    const walk = (node: Record<string, unknown>) => {
      const index = node['Index Name'] as string | undefined
      if (index) loops.set(index, (loops.get(index) ?? 0) + Number(node['Actual Loops'] ?? 0))
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child)
    }
    const { rows } = await db.execute<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
      sql`EXPLAIN (ANALYZE, FORMAT JSON) ${gapsSql('BGD', 25_000, { exact: 'all' })}`,
    )
    walk(rows[0]['QUERY PLAN'][0].Plan)
    const areas = AREAS.filter((a) => a.country === 'BGD').length
    for (const c of CATEGORIES) t.equal(loops.get(`providers_coverage_bgd_${c}`), areas, c)
  })

  await t.test('bad parameters are 400; only analysts and admins may ask', async (t) => {
    for (const q of ['', 'country=IND', 'country=BGD&gap_km=0', 'country=BGD&gap_km=abc', 'country=BGD&gap_km=1001', 'country=BGD&x=1']) {
      const res = await app.inject({ url: `/v1/stats?${q}` })
      t.equal(res.statusCode, 400, q)
    }
    for (const [role, status] of [['analyst', 200], ['viewer', 403], ['editor', 403]] as const) {
      const k = await keyFor(db, role)
      t.equal((await app.inject({ url: '/v1/stats?country=BGD', headers: { authorization: k.authorization } })).statusCode, status, role)
    }
  })
})
