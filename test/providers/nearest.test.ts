import { PgDialect } from 'drizzle-orm/pg-core'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { nearestProvidersSql } from '../../src/modules/providers/repo.js'
import { NearestQuery, type ProviderInput } from '../../src/modules/providers/schemas.js'
import { providersService } from '../../src/modules/providers/service.js'
import { haversineM, minimalProvider, relDiff, seededRandom, vincentyM } from './helpers.js'

type Near = { id: string; name: string; distance_m: number; location: { lat: number; lon: number } }
const here = { lat: 23.81, lon: 90.41 }

t.test('nearest orders by distance and reports distance_m', async (t) => {
  const { app, db } = await buildTestApp(t)
  const random = seededRandom(3)
  const inputs: ProviderInput[] = Array.from({ length: 300 }, (_, i) => ({
    name: `P${i}`,
    kind: 'ngo',
    categories: i % 2 ? ['health'] : ['shelter'],
    location: { lat: here.lat + (random() - 0.5) * 2, lon: here.lon + (random() - 0.5) * 2 },
  }))
  const { ids } = await providersService(db).createMany(inputs)
  const byId = new Map(ids.map((id, i) => [id, inputs[i]]))

  const res = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}` })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.next_cursor, null)
  t.equal(body.items.length, 5, 'limit defaults to 5')

  // Ranked on the WGS 84 spheroid (Vincenty) like the API; haversine on a sphere may swap near-ties.
  const expected = ids
    .map((id) => ({ id, d: vincentyM(here, byId.get(id)!.location), h: haversineM(here, byId.get(id)!.location) }))
    .sort((a, b) => a.d - b.d)
  const items: Near[] = body.items
  t.same(items.map((p) => p.id), expected.slice(0, 5).map((e) => e.id), 'same order as a brute-force geodesic ranking')
  const byHaversine = [...expected].sort((a, b) => a.h - b.h)
  items.forEach((p, i) => {
    const h = haversineM(here, p.location)
    t.ok(p.id === byHaversine[i].id || relDiff(h, byHaversine[i].h) < 0.005, `rank ${i}: haversine agrees or it is a near-tie`)
  })
  for (const p of items) {
    t.ok(relDiff(p.distance_m, haversineM(here, p.location)) < 0.005, `${p.name}: within 0.5 % of haversine`)
    t.ok(relDiff(p.distance_m, vincentyM(here, p.location!)) < 1e-6, `${p.name}: matches Vincenty on WGS 84`)
  }

  const health = (await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&category=health&limit=100` })).json()
  t.equal(health.items.length, 100)
  t.ok(health.items.every((p: { categories: string[] }) => p.categories.includes('health')))
  t.same(
    health.items.map((p: Near) => p.id),
    expected.filter((e) => byId.get(e.id)!.categories.includes('health')).slice(0, 100).map((e) => e.id),
  )
  for (let i = 1; i < 100; i++) t.ok(health.items[i - 1].distance_m <= health.items[i].distance_m)

  const over = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=101` })
  t.equal(over.statusCode, 400)
  t.match(over.json(), { errors: [{ path: 'limit' }] })

  const within = (await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&max_km=20&limit=100` })).json()
  const inRadius = expected.filter((e) => e.d < 20_000)
  t.ok(expected.every((e) => Math.abs(e.d - 20_000) > 150), 'no provider sits on the radius edge')
  t.same(within.items.map((p: Near) => p.id), inRadius.map((e) => e.id), `max_km=20 keeps ${inRadius.length}`)
})

t.test('nearest filters: gender, age, cost, kind, status', async (t) => {
  const { app, db } = await buildTestApp(t)
  const at = (km: number) => ({ lat: here.lat, lon: here.lon + km / 101.9 })
  const service = providersService(db)
  const named: Record<string, string> = {}
  const add = async (name: string, km: number, extra: Partial<ProviderInput>) => {
    named[name] = (await service.create({ ...(minimalProvider({ name, location: at(km) }) as ProviderInput), ...extra })).id
  }
  await add('women only', 1, { eligibility: { genders: ['female'], min_age: null, max_age: null, requires: [] }, cost: 'free' })
  await add('everyone', 2, { cost: 'paid', kind: 'government' })
  await add('adults', 3, { eligibility: { genders: [], min_age: 18, max_age: null, requires: [] }, cost: 'free' })
  await add('children', 4, { eligibility: { genders: ['female', 'male'], min_age: null, max_age: 17, requires: [] }, kind: 'government' })
  await add('suspended', 0.5, { status: 'suspended' })
  await add('closed', 0.2, { status: 'closed' })

  const names = async (query: string) => {
    const res = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=10&${query}` })
    t.equal(res.statusCode, 200, query)
    return res.json().items.map((p: Near) => p.name)
  }
  t.same(await names(''), ['women only', 'everyone', 'adults', 'children'], 'active only by default')
  t.same(await names('gender=male'), ['everyone', 'adults', 'children'])
  t.same(await names('gender=third_gender'), ['everyone', 'adults'])
  t.same(await names('age=16'), ['women only', 'everyone', 'children'])
  t.same(await names('age=18&gender=female'), ['women only', 'everyone', 'adults'])
  t.same(await names('cost=free'), ['women only', 'adults'])
  t.same(await names('kind=government'), ['everyone', 'children'])
  t.same(await names('status=suspended'), ['suspended'])
  t.same(await names('status=closed&category=health'), ['closed'])
  t.same(await names('max_km=2.5'), ['women only', 'everyone'])

  for (const [query, path] of [
    ['lat=91&lon=90', 'lat'],
    ['lat=23&lon=181', 'lon'],
    ['lat=23', 'lon'],
    ['lat=x&lon=90', 'lat'],
    ['lat=23&lon=90&category=food', 'category'],
    ['lat=23&lon=90&kind=church', 'kind'],
    ['lat=23&lon=90&gender=other', 'gender'],
    ['lat=23&lon=90&max_km=-1', 'max_km'],
    ['lat=23&lon=90&limit=0', 'limit'],
    ['lat=23&lon=90&radius=5', 'radius'],
  ]) {
    const res = await app.inject({ url: `/v1/providers/nearest?${query}` })
    t.equal(res.statusCode, 400, query)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { errors: [{ path }] }, query)
  }
  const lat = await app.inject({ url: '/v1/providers/nearest?lat=91&lon=90' })
  t.same(lat.json().errors, [{ path: 'lat', message: 'latitude must be between -90 and 90' }])
})

t.test('nearest answers GeoJSON with distance_m in the properties', async (t) => {
  const { app, db } = await buildTestApp(t)
  const p = await providersService(db).create(minimalProvider({ location: { lat: 23.8, lon: 90.4 } }) as ProviderInput)
  for (const req of [
    { url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&format=geojson` },
    { url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}`, headers: { accept: 'application/geo+json' } },
  ]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/geo\+json/)
    const fc = res.json()
    t.equal(fc.type, 'FeatureCollection')
    t.equal(fc.features.length, 1)
    const [f] = fc.features
    t.same(f.geometry, { type: 'Point', coordinates: [90.4, 23.8] })
    t.equal(f.id, p.id)
    t.notOk('location' in f.properties)
    t.ok(relDiff(f.properties.distance_m, vincentyM(here, p.location!)) < 1e-6)
    t.equal(f.properties.name, p.name)
  }
})

t.test('EXPLAIN: the nearest query is an index-ordered KNN scan', async (t) => {
  const { db } = await buildTestApp(t)
  const random = seededRandom(11)
  const cats = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
  const inputs: ProviderInput[] = Array.from({ length: 4000 }, (_, i) => ({
    name: `P${i}`,
    kind: 'ngo',
    categories: [cats[i % 5], cats[(i * 7 + 1) % 5]].filter((c, j, a) => a.indexOf(c) === j),
    location: { lat: 20.6 + random() * 6, lon: 88 + random() * 4.6 },
    status: i % 10 === 0 ? 'closed' : 'active',
  }))
  await providersService(db).createMany(inputs)
  await db.$client.query('ANALYZE providers')

  const explain = async (query: Record<string, string>) => {
    const built = nearestProvidersSql(NearestQuery.parse(query), 'json', { exact: 'none' })
    const { sql: text, params } = new PgDialect().sqlToQuery(built)
    const { rows } = await db.$client.query(`EXPLAIN (FORMAT JSON) ${text}`, params)
    return rows[0]['QUERY PLAN'][0].Plan
  }
  type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] }
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)]
  const scans = (plan: PlanNode) => nodes(plan).filter((n) => String(n['Node Type']).includes('Index Scan'))
  const seqScansOfProviders = (plan: PlanNode) =>
    nodes(plan).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'providers')

  for (const category of cats) {
    const plan = await explain({ lat: '23.8', lon: '90.4', category, limit: '10' })
    const indexScans = scans(plan).filter((s) => s['Index Name'] === `providers_nearest_${category}`)
    t.equal(indexScans.length, 1, `${category}: Index Scan on providers_nearest_${category}`)
    t.match(indexScans[0]?.['Order By'], /<->/, `${category}: ordered by <-> in the index`)
    t.same(seqScansOfProviders(plan), [], `${category}: no sequential scan over providers`)
  }
  const filtered = await explain({ lat: '23.8', lon: '90.4', category: 'shelter', gender: 'female', age: '20', max_km: '50' })
  t.equal(scans(filtered).filter((s) => s['Index Name'] === 'providers_nearest_shelter').length, 1, 'filters keep the partial index')

  for (const query of [{ lat: '23.8', lon: '90.4' }, { lat: '23.8', lon: '90.4', status: 'closed', category: 'legal' }] as Array<Record<string, string>>) {
    const plan = await explain(query)
    const indexScans = scans(plan).filter((s) => s['Index Name'] === 'providers_location_geog_gist')
    t.equal(indexScans.length, 1, `${JSON.stringify(query)}: Index Scan on providers_location_geog_gist`)
    t.match(indexScans[0]?.['Order By'], /<->/)
  }
})
