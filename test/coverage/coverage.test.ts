// GET /v1/coverage: a small map and a few dozen providers whose coverage the test works out itself (every provider
// looked at for every area, distances by Vincenty's formula), compared field by field with the API's answer in
// JSON, CSV and GeoJSON; masking of nearest_km through the service; the cache against writes; bad parameters.
import { sql } from 'drizzle-orm'
import { parse } from 'csv-parse/sync'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/client.js'
import { DEMO_ORGANISATION_ID } from '../../src/modules/access/keys.js'
import { coverageService } from '../../src/modules/coverage/service.js'
import { CoverageQuery } from '../../src/modules/coverage/schemas.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertMou, insertProvider, type AreaSeed } from '../helpers/factories.js'
import { relDiff, seededRandom, vincentyM } from '../providers/helpers.js'

const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
type Category = (typeof CATEGORIES)[number]

const AREAS: AreaSeed[] = [
  { pcode: 'BD40', name_en: 'Khulna', name_local: 'খুলনা বিভাগ', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] },
  { pcode: 'BD4041', name_en: 'Jessore', name_local: 'যশোর', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] },
  { pcode: 'BD4047', name_en: 'Khulna', name_local: 'খুলনা', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89.55, 22.3, 89.9, 22.75] },
  // A name with a comma and quotes, for the CSV.
  { pcode: 'BD4099', name_en: 'Empty, "quoted"', name_local: 'খালি, ফাঁকা', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89.0, 21.6, 89.4, 22.0] },
  { pcode: 'BD30', name_en: 'Dhaka', name_local: 'ঢাকা বিভাগ', country: 'BGD', admin_level: 1, bbox: [90, 22, 91.5, 24.5] },
  { pcode: 'BD3026', name_en: 'Dhaka', name_local: 'ঢাকা', country: 'BGD', admin_level: 2, parent_pcode: 'BD30', bbox: [90.2, 23.6, 90.6, 24.0] },
  { pcode: 'KH12', name_en: 'Phnom Penh', name_local: 'ភ្នំពេញ', country: 'KHM', admin_level: 1, bbox: [104.7, 11.4, 105.1, 11.7] },
]
const LEVEL2 = AREAS.filter((a) => a.country === 'BGD' && a.admin_level === 2)

const centre = (a: AreaSeed) => ({ lon: (a.bbox[0] + a.bbox[2]) / 2, lat: (a.bbox[1] + a.bbox[3]) / 2 })
const inside = (a: AreaSeed, p: { lat: number; lon: number }) => p.lon >= a.bbox[0] && p.lon <= a.bbox[2] && p.lat >= a.bbox[1] && p.lat <= a.bbox[3]
const nearEdge = (p: { lat: number; lon: number }) =>
  AREAS.some((a) => [a.bbox[0] - p.lon, a.bbox[2] - p.lon, a.bbox[1] - p.lat, a.bbox[3] - p.lat].some((d) => Math.abs(d) < 0.005))

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)

interface Seed {
  id?: string
  lat: number
  lon: number
  categories: Category[]
  status: string
  verified_on: string | null
  funded_until: string | null
  location_visibility: 'exact' | 'approximate' | 'hidden'
  /** Categories an effectively signed MOU covers. */
  signed: Category[]
}

/** Providers over Khulna and Dhaka divisions and beyond them (India, the Bay), none on a border. */
function seeds(today: string): Seed[] {
  const rnd = seededRandom(9)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]
  const out: Seed[] = []
  while (out.length < 80) {
    // Half inside a district, half anywhere around them.
    const a = rnd() < 0.5 ? pick(LEVEL2) : undefined
    const p = a
      ? { lat: a.bbox[1] + rnd() * (a.bbox[3] - a.bbox[1]), lon: a.bbox[0] + rnd() * (a.bbox[2] - a.bbox[0]) }
      : { lat: 21.3 + rnd() * 3.4, lon: 88.3 + rnd() * 2.5 }
    if (nearEdge(p)) continue
    const categories = CATEGORIES.filter(() => rnd() < 0.35)
    if (categories.length === 0) categories.push(pick(CATEGORIES))
    out.push({
      ...p,
      categories,
      status: pick(['active', 'active', 'active', 'active', 'suspended', 'closed']),
      verified_on: pick([null, addDays(today, -30), addDays(today, -800), addDays(today, -200)]),
      funded_until: pick([null, addDays(today, -5), addDays(today, 400)]),
      location_visibility: pick(['exact', 'exact', 'approximate', 'hidden'] as const),
      signed: [],
    })
  }
  return out
}

async function todayOf(db: Db): Promise<string> {
  const { rows } = await db.execute<{ d: string }>(sql`SELECT setu_today()::text AS d`)
  return rows[0].d
}

/** The ground, with MOUs of every kind: signed, signed but past expiry, negotiating, terminated. */
async function setUp(db: Db) {
  for (const a of AREAS) await insertArea(db, a)
  const today = await todayOf(db)
  const providers = seeds(today)
  for (const [i, p] of providers.entries()) {
    p.id = await insertProvider(db, { ...p })
    const c = p.categories[0]
    if (i % 3 === 0) {
      await insertMou(db, { provider_id: p.id, categories: [c], status: 'signed', signed_on: addDays(today, -100), expires_on: addDays(today, 300) })
      p.signed.push(c)
    } else if (i % 3 === 1) {
      await insertMou(db, { provider_id: p.id, categories: [c], status: 'signed', signed_on: addDays(today, -900), expires_on: addDays(today, -1) })
    }
    if (i % 5 === 0) await insertMou(db, { provider_id: p.id, categories: p.categories, status: 'negotiating' })
    if (i % 7 === 0) await insertMou(db, { provider_id: p.id, categories: p.categories, status: 'terminated', signed_on: addDays(today, -50) })
  }
  return { today, providers }
}

interface Expected {
  active: number
  with_mou: number
  stale: number
  nearest_km: number | null
  gap: boolean
}

/** Coverage by brute force: every provider against every area. */
function expectedCoverage(areas: AreaSeed[], providers: Seed[], today: string, gapKm: number, categories: readonly Category[] = CATEGORIES) {
  const staleBefore = new Date(Date.parse(`${today}T00:00:00Z`))
  staleBefore.setUTCMonth(staleBefore.getUTCMonth() - 12)
  const staleDay = staleBefore.toISOString().slice(0, 10)
  const result = new Map<string, Record<string, Expected>>()
  for (const a of areas) {
    const row: Record<string, Expected> = {}
    for (const c of categories) {
      const offering = providers.filter((p) => p.status === 'active' && p.categories.includes(c))
      const here = offering.filter((p) => inside(a, p))
      const distances = offering.map((p) => vincentyM(centre(a), p))
      const nearest = distances.length ? Math.min(...distances) / 1000 : null
      row[c] = {
        active: here.length,
        with_mou: here.filter((p) => p.signed.includes(c)).length,
        stale: here.filter((p) => p.verified_on === null || p.verified_on < staleDay || (p.funded_until !== null && p.funded_until < today)).length,
        nearest_km: nearest,
        gap: nearest === null || nearest > gapKm,
      }
    }
    result.set(a.pcode, row)
  }
  return result
}

type Answer = { items: Array<{ pcode: string; name_en: string; name_local: string | null; parent_pcode: string | null; admin_level: number; categories: Record<string, Expected> }> }

function compare(t: Test, answer: Answer, expected: Map<string, Record<string, Expected>>, what: string) {
  t.same(answer.items.map((a) => a.pcode), [...expected.keys()].sort(), `${what}: one row per area, by pcode`)
  const problems: string[] = []
  for (const item of answer.items) {
    const want = expected.get(item.pcode)!
    for (const [c, w] of Object.entries(want)) {
      const got = item.categories[c]
      if (!got) {
        problems.push(`${item.pcode} ${c}: missing`)
        continue
      }
      for (const m of ['active', 'with_mou', 'stale', 'gap'] as const) if (got[m] !== w[m]) problems.push(`${item.pcode} ${c} ${m}: ${got[m]}, expected ${w[m]}`)
      if ((got.nearest_km === null) !== (w.nearest_km === null) || (w.nearest_km !== null && relDiff(got.nearest_km!, w.nearest_km) > 0.005)) {
        problems.push(`${item.pcode} ${c} nearest_km: ${got.nearest_km}, expected ${w.nearest_km}`)
      }
    }
    if (Object.keys(item.categories).length !== Object.keys(want).length) problems.push(`${item.pcode}: categories ${Object.keys(item.categories)}`)
  }
  t.same(problems, [], `${what}: every metric as computed by brute force`)
}

t.test('coverage matches a brute-force computation, field by field', async (t) => {
  const { app, db } = await buildTestApp(t)
  const { today, providers } = await setUp(db)
  const expected = expectedCoverage(LEVEL2, providers, today, 25)
  const cells = [...expected.values()].flatMap((r) => Object.values(r))
  t.ok(cells.some((m) => m.with_mou > 0) && cells.some((m) => m.stale > 0) && cells.some((m) => m.stale < m.active), 'the data has MOUs, stale and fresh providers inside areas')
  t.ok([...expected.values()].some((r) => Object.values(r).some((m) => m.gap)) && [...expected.values()].some((r) => Object.values(r).some((m) => !m.gap)), 'some gaps, some not')

  const res = await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.match(body, { country: 'BGD', admin_level: 2, parent: null, gap_km: 25, categories: [...CATEGORIES], next_cursor: null })
  compare(t, body, expected, 'all of BGD level 2')
  const jessore = body.items.find((a: { pcode: string }) => a.pcode === 'BD4041')
  t.match(jessore, { name_en: 'Jessore', name_local: 'যশোর', parent_pcode: 'BD40', admin_level: 2 })

  const wider = (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&gap_km=120' })).json()
  compare(t, wider, expectedCoverage(LEVEL2, providers, today, 120), 'gap_km=120')

  const parent = (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&parent=BD40&category=shelter' })).json()
  t.same(parent.categories, ['shelter'])
  compare(t, parent, expectedCoverage(LEVEL2.filter((a) => a.parent_pcode === 'BD40'), providers, today, 25, ['shelter']), 'parent=BD40, category=shelter')

  const level1 = AREAS.filter((a) => a.country === 'BGD' && a.admin_level === 1)
  compare(t, (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=1' })).json(), expectedCoverage(level1, providers, today, 25), 'level 1')

})

t.test('nearest_km is whole km for a caller who may not see the nearest provider exactly', async (t) => {
  const { db } = await buildTestApp(t)
  await insertArea(db, AREAS[0])
  await insertArea(db, AREAS[1])
  const here = centre(AREAS[1])
  // The nearest shelter is hidden, the nearest health provider exact.
  const shelter = { lat: here.lat + 0.0531, lon: here.lon + 0.0217 }
  const clinic = { lat: here.lat - 0.0412, lon: here.lon + 0.0333 }
  await insertProvider(db, { ...shelter, categories: ['shelter'], location_visibility: 'hidden' })
  await insertProvider(db, { ...clinic, categories: ['health'], location_visibility: 'exact' })
  const service = coverageService(db, { staleMonths: 12 })
  const q = CoverageQuery.parse({ country: 'BGD', admin_level: '2', gap_km: '6' })
  const exact = await service.coverage(q, { exact: 'all' })
  const masked = await service.coverage(q, { exact: 'none' })
  const shelterKm = vincentyM(here, shelter) / 1000
  const clinicKm = vincentyM(here, clinic) / 1000
  t.ok(relDiff(exact.items[0].categories.shelter!.nearest_km!, shelterKm) < 0.005, 'exact for those who see it')
  t.not(exact.items[0].categories.shelter!.nearest_km! % 1, 0, 'the exact distance is not whole km')
  t.equal(masked.items[0].categories.shelter!.nearest_km, Math.round(shelterKm), 'whole km for the masked caller')
  t.ok(relDiff(masked.items[0].categories.health!.nearest_km!, clinicKm) < 0.005, 'an exact provider stays exact for the masked caller')
  t.equal(masked.items[0].categories.health!.nearest_km, exact.items[0].categories.health!.nearest_km)
  // gap is decided on the distance as shown, so bisecting gap_km cannot find the exact one.
  for (const gap of [Math.round(shelterKm) - 0.4, Math.round(shelterKm) + 0.4]) {
    const answer = await service.coverage(CoverageQuery.parse({ country: 'BGD', admin_level: '2', gap_km: String(gap) }), { exact: 'none' })
    t.equal(answer.items[0].categories.shelter!.gap, Math.round(shelterKm) > gap, `gap at gap_km=${gap} follows the rounded distance`)
  }
  const own = await service.coverage(q, { exact: 'own', organisationId: DEMO_ORGANISATION_ID })
  t.equal(own.items[0].categories.shelter!.nearest_km, exact.items[0].categories.shelter!.nearest_km, 'its own organisation’s editor sees the distance exactly')
  const other = await service.coverage(q, { exact: 'own', organisationId: '7d1f0a52-0000-4000-8000-000000000099' })
  t.equal(other.items[0].categories.shelter!.nearest_km, Math.round(shelterKm), 'another organisation’s editor sees it rounded')
})

t.test('CSV: RFC 4180, a byte-order mark, Bangla intact, the same figures as JSON', async (t) => {
  const { app, db } = await buildTestApp(t)
  await setUp(db)
  const json = (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2' })).json()
  for (const request of [{ url: '/v1/coverage?country=BGD&admin_level=2&format=csv' }, { url: '/v1/coverage?country=BGD&admin_level=2', headers: { accept: 'text/csv' } }]) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/csv; charset=utf-8/)
    t.match(res.headers['content-disposition'], /^attachment; filename="coverage-BGD-level2\.csv"$/)
    t.same([...res.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 byte-order mark')
    t.ok(res.rawPayload.toString('utf8').includes('\r\n'), 'CRLF line ends')
    const rows = parse(res.rawPayload, { bom: true, columns: true }) as Record<string, string>[]
    t.same(Object.keys(rows[0]).slice(0, 10), ['pcode', 'name_en', 'name_local', 'parent_pcode', 'admin_level', 'health_active', 'health_with_mou', 'health_stale', 'health_nearest_km', 'health_gap'])
    t.equal(Object.keys(rows[0]).length, 5 + 5 * 5)
    t.same(rows.map((r) => r.pcode), json.items.map((a: { pcode: string }) => a.pcode))
    const empty = rows.find((r) => r.pcode === 'BD4099')!
    t.equal(empty.name_en, 'Empty, "quoted"', 'a comma and quotes survive')
    t.equal(empty.name_local, 'খালি, ফাঁকা', 'Bangla survives')
    for (const [i, item] of json.items.entries()) {
      for (const c of CATEGORIES) {
        const m = item.categories[c]
        const r = rows[i]
        t.same(
          [r[`${c}_active`], r[`${c}_with_mou`], r[`${c}_stale`], r[`${c}_nearest_km`], r[`${c}_gap`]],
          [String(m.active), String(m.with_mou), String(m.stale), m.nearest_km === null ? '' : String(m.nearest_km), String(m.gap)],
          `${item.pcode} ${c}`,
        )
      }
    }
  }
  const one = await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&parent=BD40&category=legal&format=csv' })
  t.match(one.headers['content-disposition'], /filename="coverage-BGD-level2-BD40-legal\.csv"/)
  t.same(Object.keys((parse(one.rawPayload, { bom: true, columns: true }) as object[])[0]), ['pcode', 'name_en', 'name_local', 'parent_pcode', 'admin_level', 'legal_active', 'legal_with_mou', 'legal_stale', 'legal_nearest_km', 'legal_gap'])
})

t.test('GeoJSON: the area polygons with the metrics as properties; simplified borders stay shared', async (t) => {
  const { app, db } = await buildTestApp(t)
  await setUp(db)
  const json = (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2' })).json()
  for (const request of [{ url: '/v1/coverage?country=BGD&admin_level=2&format=geojson' }, { url: '/v1/coverage?country=BGD&admin_level=2', headers: { accept: 'application/geo+json' } }]) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/geo\+json/)
    t.match(res.headers['content-disposition'], /^attachment; filename="coverage-BGD-level2\.geojson"$/)
    const fc = res.json()
    t.equal(fc.type, 'FeatureCollection')
    t.equal(fc.numberReturned, json.items.length)
    t.same(fc.features.map((f: { id: string }) => f.id), json.items.map((a: { pcode: string }) => a.pcode))
    for (const f of fc.features) {
      t.equal(f.type, 'Feature')
      t.equal(f.geometry.type, 'MultiPolygon')
      const ring = f.geometry.coordinates[0][0]
      t.same(ring[0], ring[ring.length - 1], 'rings are closed')
      const a = AREAS.find((x) => x.pcode === f.id)!
      t.ok(ring.every(([lon, lat]: number[]) => inside(a, { lat, lon })), `${f.id}: the polygon is the area's`)
      const item = json.items.find((x: { pcode: string }) => x.pcode === f.id)
      t.match(f.properties, { pcode: item.pcode, name_local: item.name_local, health_active: item.categories.health.active, shelter_gap: item.categories.shelter.gap })
    }
  }

  // Two neighbours with a jagged shared border: simplified, they still meet without gap or overlap.
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, country, admin_level, level_name, parent_pcode, geom)
    SELECT v.pcode, v.pcode, 'BGD', 3, 'upazila', 'BD4041', ST_Multi(v.g)
    FROM (SELECT 'BD404101' AS pcode, ST_GeomFromText('POLYGON((89.0 22.9, 89.1 22.9, 89.1 23.0, 89.101 23.01, 89.099 23.02, 89.102 23.03, 89.1 23.1, 89.0 23.1, 89.0 22.9))', 4326) AS g
          UNION ALL
          SELECT 'BD404102', ST_GeomFromText('POLYGON((89.1 22.9, 89.2 22.9, 89.2 23.1, 89.1 23.1, 89.102 23.03, 89.099 23.02, 89.101 23.01, 89.1 23.0, 89.1 22.9))', 4326)) v`)
  const res = await app.inject({ url: '/v1/coverage?country=BGD&admin_level=3&parent=BD4041&format=geojson&simplify=1000' })
  t.equal(res.statusCode, 200)
  const fc = res.json()
  t.equal(fc.features.length, 2)
  const [a, b] = fc.features.map((f: { geometry: unknown }) => JSON.stringify(f.geometry))
  const { rows } = await db.execute<{ overlap: number; gap: number; points_a: number; original: number }>(sql`
    WITH s AS (SELECT ST_GeomFromGeoJSON(${a}) AS a, ST_GeomFromGeoJSON(${b}) AS b)
    SELECT ST_Area(ST_Intersection(a, b)::geography) AS overlap,
           abs(ST_Area(ST_Union(a, b)::geography) - (SELECT ST_Area(ST_Union(geom)::geography) FROM areas WHERE pcode LIKE 'BD4041__')) AS gap,
           ST_NPoints(a) AS points_a, (SELECT ST_NPoints(geom) FROM areas WHERE pcode = 'BD404101') AS original
    FROM s`)
  t.ok(rows[0].points_a < rows[0].original, `simplified (${rows[0].points_a} points, from ${rows[0].original})`)
  t.ok(rows[0].overlap < 1, `no overlap (${rows[0].overlap} m²)`)
  t.ok(rows[0].gap < 1, `no gap: the union is the same area (${rows[0].gap} m² apart)`)
})

t.test('the cache answers until a provider, an MOU or an area is written', async (t) => {
  const { app, db } = await buildTestApp(t)
  for (const a of AREAS) await insertArea(db, a)
  const service = coverageService(db, { staleMonths: 12 })
  const q = CoverageQuery.parse({ country: 'BGD', admin_level: '2' })
  const viewer = { exact: 'all' } as const
  const first = await service.coverage(q, viewer)
  t.equal(await service.coverage(q, viewer), first, 'a second request is the kept answer')

  const id = await insertProvider(db, { lat: 23.1, lon: 89.2, categories: ['legal'], verified_on: null })
  const afterProvider = await service.coverage(q, viewer)
  t.not(afterProvider, first)
  t.equal(afterProvider.items.find((a) => a.pcode === 'BD4041')!.categories.legal!.active, 1, 'a provider write shows at once')
  t.equal(await service.coverage(q, viewer), afterProvider, 'and is kept again')

  await insertMou(db, { provider_id: id, categories: ['legal'], status: 'signed', expires_on: '2099-12-31' })
  t.equal((await service.coverage(q, viewer)).items.find((a) => a.pcode === 'BD4041')!.categories.legal!.with_mou, 1, 'an MOU write shows at once')

  await db.execute(sql`UPDATE areas SET name_en = 'Jashore' WHERE pcode = 'BD4041'`)
  t.equal((await service.coverage(q, viewer)).items.find((a) => a.pcode === 'BD4041')!.name_en, 'Jashore', 'an area write shows at once')

  await db.execute(sql`UPDATE providers SET verified_on = setu_today() WHERE id = ${id}`)
  t.equal((await service.coverage(q, viewer)).items.find((a) => a.pcode === 'BD4041')!.categories.legal!.stale, 0, 'an update of a provider shows at once')

  await db.execute(sql`DELETE FROM mou_status_changes; DELETE FROM mous`)
  t.equal((await service.coverage(q, viewer)).items.find((a) => a.pcode === 'BD4041')!.categories.legal!.with_mou, 0, 'a deleted MOU shows at once')

  // Through the API, from another process's point of view: the app's own service sees the same writes.
  const before = (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&category=health' })).json()
  await insertProvider(db, { lat: 22.5, lon: 89.7, categories: ['health'] })
  const after = (await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&category=health' })).json()
  const count = (b: Answer) => b.items.find((a) => a.pcode === 'BD4047')!.categories.health.active
  t.equal(count(after), count(before) + 1)
})

t.test('bad parameters are 400 problems, an unknown parent a 404', async (t) => {
  const { app, db } = await buildTestApp(t)
  for (const a of AREAS) await insertArea(db, a)
  const bad: Array<[string, string]> = [
    ['admin_level=2', 'country'],
    ['country=IND&admin_level=2', 'country'],
    ['country=BGD', 'admin_level'],
    ['country=BGD&admin_level=5', 'admin_level'],
    ['country=BGD&admin_level=1.5', 'admin_level'],
    ['country=BGD&admin_level=two', 'admin_level'],
    ['country=BGD&admin_level=2&category=food', 'category'],
    ['country=BGD&admin_level=2&gap_km=0', 'gap_km'],
    ['country=BGD&admin_level=2&gap_km=-3', 'gap_km'],
    ['country=BGD&admin_level=2&gap_km=abc', 'gap_km'],
    ['country=BGD&admin_level=2&simplify=-1', 'simplify'],
    ['country=BGD&admin_level=2&format=xlsx', 'format'],
    ['country=BGD&admin_level=2&parent=KH12', 'parent'],
    ['country=BGD&admin_level=2&parent=BD4041', 'parent'],
    ['country=BGD&admin_level=1&parent=BD40', 'parent'],
  ]
  for (const [query, path] of bad) {
    const res = await app.inject({ url: `/v1/coverage?${query}` })
    t.equal(res.statusCode, 400, query)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { status: 400, errors: [{ path }] }, query)
  }
  const unknown = await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&nearest=1' })
  t.equal(unknown.statusCode, 400, 'unknown parameters are refused')
  const missing = await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&parent=BD9999' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { status: 404, detail: /BD9999/ })
  const csvMissing = await app.inject({ url: '/v1/coverage?country=BGD&admin_level=2&parent=BD9999&format=csv' })
  t.equal(csvMissing.statusCode, 404, 'a CSV request for an unknown parent is a 404 problem too')
  t.match(csvMissing.headers['content-type'], /^application\/problem\+json/)
})

t.test('areas without any provider anywhere: zero counts, no distance, a gap', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, AREAS[6])
  const body = (await app.inject({ url: '/v1/coverage?country=KHM&admin_level=1' })).json()
  t.same(body.items, [
    {
      pcode: 'KH12',
      name_en: 'Phnom Penh',
      name_local: 'ភ្នំពេញ',
      parent_pcode: null,
      admin_level: 1,
      categories: Object.fromEntries(CATEGORIES.map((c) => [c, { active: 0, with_mou: 0, stale: 0, nearest_km: null, gap: true }])),
    },
  ])
  t.same((await app.inject({ url: '/v1/coverage?country=KHM&admin_level=3' })).json().items, [], 'a level without areas: no rows')
})
