// The gap counts of GET /v1/stats against a brute force written here: Vincenty's distance from every area's
// representative point to every active provider (read back from the tables, no index), the smallest per category,
// compared with gap_km. The fixture holds what the nearest lookup (coverage/spatial.ts) could get wrong: a nearest
// provider across a district border (with an inactive one nearer, inside), a provider just inside gap_km and one just
// outside it (on areas of different levels, so that the counts of each level show either mistake), a country with no
// provider of a category (its nearest is in the other country, beyond the lookup's fast path) and a category with no
// active provider anywhere.
import { sql } from 'drizzle-orm'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertProvider, type AreaSeed } from '../helpers/factories.js'
import { seededRandom, vincentyM } from '../providers/helpers.js'

const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
type LatLon = { lat: number; lon: number }

const AREAS: AreaSeed[] = [
  { pcode: 'BD', name_en: 'Bangladesh', country: 'BGD', admin_level: 1, bbox: [88.0, 20.6, 92.7, 26.6] },
  // Two districts sharing the meridian 89.5 as their border.
  { pcode: 'BD4041', name_en: 'West', country: 'BGD', admin_level: 2, parent_pcode: 'BD', bbox: [88.9, 22.8, 89.5, 23.4] },
  { pcode: 'BD4047', name_en: 'East', country: 'BGD', admin_level: 2, parent_pcode: 'BD', bbox: [89.5, 22.8, 90.1, 23.4] },
  { pcode: 'BD5510', name_en: 'Sylhet', country: 'BGD', admin_level: 2, parent_pcode: 'BD', bbox: [91.6, 24.6, 92.1, 25.1] },
  // A union of West at its eastern edge, and one of Sylhet.
  { pcode: 'BD404190', name_en: 'Border union', country: 'BGD', admin_level: 3, parent_pcode: 'BD4041', bbox: [89.4, 23.0, 89.49, 23.2] },
  { pcode: 'BD551001', name_en: 'Sylhet union', country: 'BGD', admin_level: 3, parent_pcode: 'BD5510', bbox: [91.7, 24.7, 91.8, 24.8] },
  { pcode: 'KH', name_en: 'Cambodia', country: 'KHM', admin_level: 1, bbox: [102.3, 10.4, 107.6, 14.7] },
  { pcode: 'KH12', name_en: 'Phnom Penh', country: 'KHM', admin_level: 2, parent_pcode: 'KH', bbox: [104.7, 11.4, 105.1, 11.8] },
]

const GAP_KM = 25

/** The point `metres` from `from` at `azimuth` degrees, on the spheroid (PostGIS; only to place providers). */
async function project(db: Db, from: LatLon, metres: number, azimuth: number): Promise<LatLon> {
  const { rows } = await db.execute<LatLon>(sql`
    SELECT ST_Y(g::geometry) AS lat, ST_X(g::geometry) AS lon
    FROM (SELECT ST_Project(ST_SetSRID(ST_MakePoint(${from.lon}, ${from.lat}), 4326)::geography, ${metres}::float8, radians(${azimuth}::float8)) AS g) x`)
  return rows[0]
}

t.test('gap counts equal a brute force over every area and provider', async (t) => {
  const { app, db } = await buildTestApp(t)
  for (const a of AREAS) await insertArea(db, a)
  const { rows: reps } = await db.execute<LatLon & { pcode: string; country: string; admin_level: number }>(
    sql`SELECT pcode, country, admin_level, ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas`,
  )
  const rep = (pcode: string) => reps.find((r) => r.pcode === pcode)!

  // Health and shelter scattered over Bangladesh, health also over Cambodia (shelter not: Cambodia has none); some
  // of them inactive. Livelihood only inactive.
  const random = seededRandom(17)
  for (let i = 0; i < 60; i++) {
    const inCambodia = i % 4 === 0
    const [x0, y0, x1, y1] = inCambodia ? [103, 10.8, 107, 14] : [88.5, 21.5, 92.5, 25.5]
    const categories = inCambodia ? ['health'] : i % 3 === 0 ? ['health', 'shelter'] : ['health']
    const status = random() < 0.2 ? 'suspended' : 'active'
    await insertProvider(db, { lon: x0 + random() * (x1 - x0), lat: y0 + random() * (y1 - y0), categories, status })
  }
  for (const p of [rep('BD404190'), rep('KH12'), rep('BD5510')]) await insertProvider(db, { ...p, categories: ['livelihood'], status: 'closed' })

  // Counselling: the border union's nearest active one is 8 km east, across the border in East; a suspended one
  // sits inside the union itself, and the others are far away.
  const across = await project(db, rep('BD404190'), 8_000, 90)
  const acrossId = await insertProvider(db, { ...across, categories: ['counselling'] })
  await insertProvider(db, { ...(await project(db, rep('BD404190'), 1_000, 270)), categories: ['counselling'], status: 'suspended' })
  await insertProvider(db, { ...(await project(db, rep('BD5510'), 40_000, 0)), categories: ['counselling'] })
  await insertProvider(db, { lon: 104.9, lat: 12.5, categories: ['counselling'] })

  // Legal: just inside gap_km of Sylhet's point (level 2), just outside it from the Sylhet union's (level 3), each
  // placed away from the other area.
  const inside = await project(db, rep('BD5510'), GAP_KM * 1000 - 2, 45)
  const outside = await project(db, rep('BD551001'), GAP_KM * 1000 + 2, 225)
  await insertProvider(db, { ...inside, categories: ['legal'] })
  await insertProvider(db, { ...outside, categories: ['legal'] })
  await insertProvider(db, { lon: 89.0, lat: 22.0, categories: ['legal'] })

  // The brute force: every provider as stored, against every area's point.
  const { rows: providers } = await db.execute<LatLon & { status: string; categories: string[]; area_pcodes: string[]; id: string }>(
    sql`SELECT id, status, categories, area_pcodes, ST_Y(location) AS lat, ST_X(location) AS lon FROM providers`,
  )
  const nearest = (area: LatLon, category: string) => {
    const d = providers.filter((p) => p.status === 'active' && p.categories.includes(category)).map((p) => vincentyM(area, p))
    return d.length ? Math.min(...d) : null
  }

  // The fixture is what it says.
  const acrossRow = providers.find((p) => p.id === acrossId)!
  t.ok(acrossRow.area_pcodes.includes('BD4047') && !acrossRow.area_pcodes.includes('BD4041'), 'the counselling provider is in East, not West')
  t.ok(Math.abs(nearest(rep('BD404190'), 'counselling')! - vincentyM(rep('BD404190'), across)) < 1e-6, 'and it is the border union\'s nearest')
  const justIn = nearest(rep('BD5510'), 'legal')!
  const justOut = nearest(rep('BD551001'), 'legal')!
  t.ok(justIn <= GAP_KM * 1000 && justIn > GAP_KM * 1000 - 5, `Sylhet's nearest legal provider is just inside ${GAP_KM} km (${justIn.toFixed(2)} m)`)
  t.ok(justOut > GAP_KM * 1000 && justOut < GAP_KM * 1000 + 5, `the Sylhet union's is just outside (${justOut.toFixed(2)} m)`)
  t.ok(nearest(rep('KH12'), 'shelter')! > 1_000_000, 'Cambodia\'s nearest shelter is in Bangladesh, over 1,000 km away')
  t.equal(nearest(rep('KH12'), 'livelihood'), null, 'no active livelihood provider anywhere')

  for (const country of ['BGD', 'KHM'] as const) {
    for (const gapKm of [GAP_KM, 10, 300]) {
      const res = await app.inject({ url: `/v1/stats?country=${country}&gap_km=${gapKm}` })
      t.equal(res.statusCode, 200, res.statusCode === 200 ? `${country}, gap_km ${gapKm}: 200` : res.body)
      const mine = reps.filter((r) => r.country === country)
      const levels = [...new Set(mine.map((r) => r.admin_level))].sort()
      const expected = levels.map((level) => {
        const areas = mine.filter((r) => r.admin_level === level)
        const without = Object.fromEntries(
          CATEGORIES.map((c) => [c, areas.filter((a) => { const d = nearest(a, c); return d === null || d > gapKm * 1000 }).length]),
        )
        return { admin_level: level, areas: areas.length, without }
      })
      t.same(res.json().gaps, { gap_km: gapKm, levels: expected }, `${country}, gap_km ${gapKm}`)
    }
  }

  // The cases above, as they show in the counts at 25 km.
  const levels = (await app.inject({ url: `/v1/stats?country=BGD&gap_km=${GAP_KM}` })).json().gaps.levels as Array<{ admin_level: number; without: Record<string, number> }>
  const level = (n: number) => levels.find((l) => l.admin_level === n)!.without
  t.equal(level(3).counselling, 1, 'of the two unions only the Sylhet one lacks counselling: the border union has it across the border')
  t.equal(level(2).legal, 2, 'Sylhet has legal within 25 km (just), West and East do not')
  t.equal(level(3).legal, 2, 'neither union has legal within 25 km (the Sylhet union just not)')
  const khm = (await app.inject({ url: `/v1/stats?country=KHM&gap_km=${GAP_KM}` })).json().gaps.levels as Array<{ areas: number; without: Record<string, number> }>
  t.same(khm.map((l) => [l.without.shelter, l.without.livelihood]), khm.map((l) => [l.areas, l.areas]), 'every Cambodian area lacks shelter and livelihood')
})
