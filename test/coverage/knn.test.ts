// Coverage's nearest lookups (src/modules/coverage/spatial.ts): the numbers its exactness proof rests on (the UTM
// scale factor over each country's box R, the box B of areas it serves), that the plan reads the per-country
// indexes of migration 0005 and reaches the geography fallback only when the proof does not hold, and that either
// way nearest_km is the distance to the true nearest provider, to the metre, against Vincenty over every provider:
// where the planar and geodesic orders disagree, at ties, far away, in another country, outside the box.
import { sql, type SQL } from 'drizzle-orm'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/client.js'
import { coverageSql } from '../../src/modules/coverage/repo.js'
import { CoverageQuery } from '../../src/modules/coverage/schemas.js'
import { coverageService } from '../../src/modules/coverage/service.js'
import { fastPathBox, G_MAX_M, K0, PROJECTIONS, type Country } from '../../src/modules/coverage/spatial.js'
import { CATEGORIES, type Category } from '../../src/lib/vocabulary.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertProvider, type AreaSeed } from '../helpers/factories.js'
import { readSharedJson, skipWithoutShared } from '../helpers/shared-data.js'
import { seededRandom, vincentyM } from '../providers/helpers.js'

type LatLon = { lat: number; lon: number }
type Placed = LatLon & { categories: Category[]; status?: string }

const COUNTRIES: Country[] = ['BGD', 'KHM']

/** The point `metres` from `from` at `azimuth` degrees, on the spheroid (PostGIS; only to place providers). */
async function project(db: Db, from: LatLon, metres: number, azimuth: number): Promise<LatLon> {
  const { rows } = await db.execute<LatLon>(sql`
    SELECT ST_Y(g::geometry) AS lat, ST_X(g::geometry) AS lon
    FROM (SELECT ST_Project(ST_SetSRID(ST_MakePoint(${from.lon}, ${from.lat}), 4326)::geography, ${metres}::float8, radians(${azimuth}::float8)) AS g) x`)
  return rows[0]
}

async function repPoint(db: Db, pcode: string): Promise<LatLon> {
  const { rows } = await db.execute<LatLon>(sql`SELECT ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas WHERE pcode = ${pcode}`)
  return rows[0]
}

/** Actual loops of every index scan of an EXPLAIN (ANALYZE, FORMAT JSON) plan, by index name. */
async function indexLoops(db: Db, query: SQL): Promise<Map<string, number>> {
  const loops = new Map<string, number>()
  const walk = (node: Record<string, unknown>) => {
    const index = node['Index Name'] as string | undefined
    if (index) loops.set(index, (loops.get(index) ?? 0) + Number(node['Actual Loops'] ?? 0))
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child)
  }
  const { rows } = await db.execute<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(sql`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`)
  walk(rows[0]['QUERY PLAN'][0].Plan)
  return loops
}

const statement = (country: Country, adminLevel: number) =>
  coverageSql({ country, adminLevel, categories: CATEGORIES, gapKm: 25, staleMonths: 12 }, { exact: 'all' })

/** nearest_km of every area and category, as the service answers it. */
async function answered(db: Db, country: Country, level: number) {
  const coverage = await coverageService(db, { staleMonths: 12 }).coverage(
    CoverageQuery.parse({ country, admin_level: String(level) }),
    { exact: 'all' },
  )
  return new Map(coverage.items.map((a) => [a.pcode, Object.fromEntries(CATEGORIES.map((c) => [c, a.categories[c]!.nearest_km]))]))
}

/** Every answered nearest_km against Vincenty to every active provider of the category: the same to the metre. */
async function checkAgainstBruteForce(t: Test, db: Db, country: Country, level: number, pcodes: string[], providers: Placed[]) {
  const answer = await answered(db, country, level)
  const problems: string[] = []
  for (const pcode of pcodes) {
    const here = await repPoint(db, pcode)
    for (const c of CATEGORIES) {
      const offering = providers.filter((p) => (p.status ?? 'active') === 'active' && p.categories.includes(c))
      const want = offering.length ? Math.min(...offering.map((p) => vincentyM(here, p))) : null
      const got = answer.get(pcode)?.[c]
      if (want === null ? got !== null : got == null || Math.abs(got * 1000 - want) > 1) problems.push(`${pcode} ${c}: ${got} km, expected ${want} m`)
    }
  }
  t.same(problems, [], `${country} level ${level}: every nearest_km is the distance to the true nearest provider, to the metre`)
}

t.test('the numbers the proof rests on', async (t) => {
  const { db } = await buildTestApp(t)
  for (const country of COUNTRIES) {
    const { srid, region, kMax } = PROJECTIONS[country]
    const [x0, y0, x1, y1] = region
    // The scale factor: planar length (PostGIS's UTM) over Vincenty's length of short steps in four directions,
    // on a grid over R that includes its corners (where k is largest: farthest from the central meridian, lowest).
    const { rows } = await db.execute<{ lon: number; lat: number; dlon: number; dlat: number; planar: number }>(sql`
      WITH g AS (SELECT ${x0}::float8 + (${x1}::float8 - ${x0}::float8) * i / 40 AS lon, ${y0}::float8 + (${y1}::float8 - ${y0}::float8) * j / 40 AS lat
                 FROM generate_series(0, 40) i, generate_series(0, 40) j),
           s AS (SELECT lon, lat, dlon * 0.002::float8 AS dlon, dlat * 0.002::float8 AS dlat FROM g, (VALUES (1, 0), (0, 1), (1, 1), (1, -1)) d (dlon, dlat))
      SELECT lon, lat, dlon, dlat,
             ST_Distance(ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), ${srid}::int),
                         ST_Transform(ST_SetSRID(ST_MakePoint(lon + dlon, lat + dlat), 4326), ${srid}::int)) AS planar
      FROM s`)
    const k = rows.map((r) => r.planar / vincentyM({ lat: r.lat, lon: r.lon }, { lat: r.lat + r.dlat, lon: r.lon + r.dlon }))
    const [min, max] = [Math.min(...k), Math.max(...k)]
    t.ok(max <= kMax, `${country}: the scale factor over R is at most kMax (${max.toFixed(6)} ≤ ${kMax})`)
    t.ok(max > kMax - 0.002, `${country}: kMax is not loose (${max.toFixed(6)})`)
    t.ok(min >= K0 - 1e-6, `${country}: and at least k0 (${min.toFixed(7)})`)

    // B: every point G_MAX_M from a point on B's edge, in any direction, is still inside R.
    const [bx0, by0, bx1, by1] = fastPathBox(country)
    t.ok(bx0 > x0 && by0 > y0 && bx1 < x1 && by1 < y1, `${country}: B lies inside R`)
    const edge: LatLon[] = []
    for (let i = 0; i <= 8; i++) {
      const f = i / 8
      edge.push({ lon: bx0 + f * (bx1 - bx0), lat: by0 }, { lon: bx0 + f * (bx1 - bx0), lat: by1 }, { lon: bx0, lat: by0 + f * (by1 - by0) }, { lon: bx1, lat: by0 + f * (by1 - by0) })
    }
    const { rows: reached } = await db.execute<LatLon>(sql`
      SELECT ST_Y(g::geometry) AS lat, ST_X(g::geometry) AS lon
      FROM unnest(${sql.param(edge.map((p) => p.lon))}::float8[], ${sql.param(edge.map((p) => p.lat))}::float8[]) e (lon, lat),
           generate_series(0, 355, 5) az,
           LATERAL (SELECT ST_Project(ST_SetSRID(ST_MakePoint(e.lon, e.lat), 4326)::geography, ${G_MAX_M}::float8, radians(az)) AS g) p`)
    const outside = reached.filter((p) => p.lon < x0 || p.lon > x1 || p.lat < y0 || p.lat > y1)
    t.same(outside, [], `${country}: ${reached.length} points ${G_MAX_M / 1000} km from B's edge are all in R`)
  }
})

t.test('every real area of both countries lies in its box B', { skip: skipWithoutShared('boundaries/BGD_ADM1.geojson', 'boundaries/KHM_ADM1.geojson') }, async (t) => {
  for (const country of COUNTRIES) {
    const collection = readSharedJson(`boundaries/${country}_ADM1.geojson`) as { features: Array<{ geometry: { coordinates: unknown } }> }
    const xs: number[] = []
    const ys: number[] = []
    const walk = (c: unknown) => {
      if (typeof (c as number[])[0] === 'number') {
        xs.push((c as number[])[0])
        ys.push((c as number[])[1])
      } else for (const x of c as unknown[]) walk(x)
    }
    for (const f of collection.features) walk(f.geometry.coordinates)
    const [bx0, by0, bx1, by1] = fastPathBox(country)
    const extent = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]
    t.ok(extent[0] > bx0 && extent[1] > by0 && extent[2] < bx1 && extent[3] < by1, `${country}: extent ${extent.join(', ')} inside B ${[bx0, by0, bx1, by1].map((x) => x.toFixed(2)).join(', ')}`)
  }
})

/** Areas below level 1 need a parent: one level-1 area per country holds them all (its own nearest is checked too). */
const BGD_TOP: AreaSeed = { pcode: 'BD', name_en: 'Bangladesh', country: 'BGD', admin_level: 1, bbox: [88.0, 20.6, 92.7, 26.6] }
const KHM_TOP: AreaSeed = { pcode: 'KH', name_en: 'Cambodia', country: 'KHM', admin_level: 1, bbox: [102.3, 10.4, 107.6, 14.7] }
const under = (parent: AreaSeed, a: Omit<AreaSeed, 'parent_pcode' | 'country'>): AreaSeed => ({ ...a, country: parent.country, parent_pcode: parent.pcode })

const DISTRICTS: AreaSeed[] = [
  under(BGD_TOP, { pcode: 'BD4041', name_en: 'Jessore', admin_level: 2, bbox: [88.9, 22.8, 89.5, 23.4] }),
  under(BGD_TOP, { pcode: 'BD3026', name_en: 'Dhaka', admin_level: 2, bbox: [90.2, 23.6, 90.6, 24.0] }),
  under(BGD_TOP, { pcode: 'BD5510', name_en: 'Sylhet', admin_level: 2, bbox: [91.6, 24.6, 92.1, 25.1] }),
]

t.test('the plan reads the per-country indexes and leaves the fallback alone when the proof holds', async (t) => {
  const { db } = await buildTestApp(t)
  for (const a of [BGD_TOP, ...DISTRICTS, KHM_TOP]) await insertArea(db, a)
  const rnd = seededRandom(5)
  const providers: Placed[] = []
  for (let i = 0; i < 200; i++) {
    providers.push({ lon: 88.5 + rnd() * 4, lat: 21.5 + rnd() * 4, categories: [CATEGORIES[i % 5]] })
    if (i % 4 === 0) providers.push({ lon: 103 + rnd() * 4, lat: 10.5 + rnd() * 4, categories: [CATEGORIES[i % 5]] })
  }
  for (const p of providers) await insertProvider(db, p)
  await db.execute(sql`ANALYZE providers`)

  const bgd = await indexLoops(db, statement('BGD', 2))
  for (const c of CATEGORIES) {
    t.equal(bgd.get(`providers_coverage_bgd_${c}`), DISTRICTS.length, `BGD: one planar lookup per district in providers_coverage_bgd_${c}`)
    t.equal(bgd.get(`providers_nearest_${c}`) ?? 0, 0, `BGD ${c}: the geography fallback never ran`)
  }
  const khm = await indexLoops(db, statement('KHM', 1))
  for (const c of CATEGORIES) t.equal(khm.get(`providers_coverage_khm_${c}`), 1, `KHM: providers_coverage_khm_${c}`)
  await checkAgainstBruteForce(t, db, 'BGD', 2, DISTRICTS.map((a) => a.pcode), providers)
  await checkAgainstBruteForce(t, db, 'KHM', 1, ['KH'], providers)
})

t.test('where the planar order and the geodesic order disagree, the answer is the geodesic nearest', async (t) => {
  const { db } = await buildTestApp(t)
  // Far from zone 46's central meridian (93 °E) the scale factor grows westwards: a provider due west is
  // stretched more than one due east at the same distance.
  await insertArea(db, BGD_TOP)
  await insertArea(db, under(BGD_TOP, { pcode: 'BD4001', name_en: 'West', admin_level: 2, bbox: [88.3, 22.4, 88.5, 22.6] }))
  const here = await repPoint(db, 'BD4001')
  const west = await project(db, here, 50_000, 270)
  const east = await project(db, here, 50_010, 90)
  const north = await project(db, here, 60_000, 0)
  const { rows } = await db.execute<{ w: number; e: number }>(sql`
    SELECT ST_Distance(ST_Transform(h, 32646), ST_Transform(ST_SetSRID(ST_MakePoint(${west.lon}, ${west.lat}), 4326), 32646)) AS w,
           ST_Distance(ST_Transform(h, 32646), ST_Transform(ST_SetSRID(ST_MakePoint(${east.lon}, ${east.lat}), 4326), 32646)) AS e
    FROM (SELECT ST_SetSRID(ST_MakePoint(${here.lon}, ${here.lat}), 4326) AS h) x`)
  t.ok(rows[0].e < rows[0].w, `premise: east is planar-nearer (${rows[0].e.toFixed(1)} m < ${rows[0].w.toFixed(1)} m)`)
  t.ok(vincentyM(here, west) < vincentyM(here, east), 'premise: west is geodesically nearer')
  const providers: Placed[] = [west, east, north].map((p) => ({ ...p, categories: ['health'] }))
  for (const p of providers) await insertProvider(db, p)

  const loops = await indexLoops(db, statement('BGD', 2))
  t.equal(loops.get('providers_nearest_health') ?? 0, 0, 'answered by the fast path (three candidates, the farthest far enough)')
  const got = (await answered(db, 'BGD', 2)).get('BD4001')!.health!
  t.ok(Math.abs(got * 1000 - vincentyM(here, west)) <= 1, `nearest_km ${got} is the western provider's ${vincentyM(here, west).toFixed(1)} m`)
})

t.test('ties, far providers, other countries and areas outside the box fall back, with the exact answer', async (t) => {
  const { db } = await buildTestApp(t)
  const areas: AreaSeed[] = [
    BGD_TOP,
    KHM_TOP,
    under(BGD_TOP, { pcode: 'BD4001', name_en: 'West', admin_level: 2, bbox: [88.3, 22.4, 88.5, 22.6] }),
    // A BGD area nowhere near Bangladesh (bad data): outside B, so no projection of it is attempted.
    under(BGD_TOP, { pcode: 'BD9901', name_en: 'Misplaced', admin_level: 2, bbox: [-20.2, 64.0, -19.8, 64.2] }),
    under(KHM_TOP, { pcode: 'KH12', name_en: 'Phnom Penh', admin_level: 2, bbox: [104.7, 11.4, 105.1, 11.7] }),
  ]
  for (const a of areas) await insertArea(db, a)
  const here = await repPoint(db, 'BD4001')
  const providers: Placed[] = []
  // health: six providers 20 km away in six directions: ties the proof cannot separate.
  for (const az of [0, 60, 120, 180, 240, 300]) providers.push({ ...(await project(db, here, 20_000, az + 7)), categories: ['health'] })
  // legal: the only one 400 km east, inside R but beyond G_MAX_M.
  providers.push({ ...(await project(db, here, 400_000, 95)), categories: ['legal'] })
  // counselling: only in Cambodia (outside Bangladesh's R), and one in Chile (outside every zone's domain).
  providers.push({ lat: 11.56, lon: 104.92, categories: ['counselling'] }, { lat: -33.45, lon: -70.66, categories: ['counselling', 'legal'] })
  // livelihood: near, and a suspended one nearer (not counted).
  providers.push({ ...(await project(db, here, 3_000, 45)), categories: ['livelihood'] })
  providers.push({ ...(await project(db, here, 1_000, 45)), categories: ['livelihood'], status: 'suspended' })
  // shelter: none anywhere.
  for (const p of providers) await insertProvider(db, p)

  const loops = await indexLoops(db, statement('BGD', 2))
  t.ok((loops.get('providers_nearest_health') ?? 0) > 0, 'health (ties): the fallback ran')
  t.ok((loops.get('providers_nearest_legal') ?? 0) > 0, 'legal (beyond G_MAX_M): the fallback ran')
  t.ok((loops.get('providers_nearest_counselling') ?? 0) > 0, 'counselling (none in R): the fallback ran')
  t.equal(loops.get('providers_coverage_bgd_livelihood'), 1, 'the misplaced area makes no planar lookup')
  await checkAgainstBruteForce(t, db, 'BGD', 2, ['BD4001', 'BD9901'], providers)
  await checkAgainstBruteForce(t, db, 'KHM', 2, ['KH12'], providers)
})

t.test('dense clusters with many near ties: the same as brute force, area by area', async (t) => {
  const { db } = await buildTestApp(t)
  const areas: AreaSeed[] = []
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      const lon = 90.3 + i * 0.04
      const lat = 23.7 + j * 0.04
      areas.push(under(BGD_TOP, { pcode: `BD30260${i}${j}`, name_en: `Cell ${i}${j}`, admin_level: 3, bbox: [lon, lat, lon + 0.04, lat + 0.04] }))
    }
  }
  for (const a of [BGD_TOP, ...areas]) await insertArea(db, a)
  const rnd = seededRandom(77)
  const providers: Placed[] = []
  for (let i = 0; i < 400; i++) {
    // Clustered on a coarse lattice, so that several providers sit at almost the same distance from an area.
    const lon = 90.28 + Math.round(rnd() * 60) * 0.004 + rnd() * 0.0002
    const lat = 23.68 + Math.round(rnd() * 60) * 0.004 + rnd() * 0.0002
    providers.push({ lon, lat, categories: CATEGORIES.filter((c, k) => k === i % 5 || rnd() < 0.3) })
  }
  await db.execute(sql`
    INSERT INTO providers (name, search_text, kind, categories, location, status)
    SELECT 'P' || n, 'p' || n, 'ngo', string_to_array(c, ',')::text[], ST_SetSRID(ST_MakePoint(lon, lat), 4326), 'active'
    FROM unnest(${sql.param(providers.map((p) => p.lon))}::float8[], ${sql.param(providers.map((p) => p.lat))}::float8[],
                ${sql.param(providers.map((p) => p.categories.join(',')))}::text[]) WITH ORDINALITY AS v (lon, lat, c, n)`)
  await checkAgainstBruteForce(t, db, 'BGD', 3, areas.map((a) => a.pcode), providers)
})
