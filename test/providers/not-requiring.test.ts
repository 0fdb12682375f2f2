// GET /v1/providers/nearest?not_requiring=…: only providers whose eligibility requires none of the given documents
// (the field page's "no court order needed" / "no ID card needed"), a post-filter on the KNN scan like gender and age.
import { PgDialect } from 'drizzle-orm/pg-core'
import t from 'tap'
import { nearestProvidersSql } from '../../src/modules/providers/repo.js'
import { NearestQuery, type ProviderInput } from '../../src/modules/providers/schemas.js'
import { providersService } from '../../src/modules/providers/service.js'
import { buildTestApp } from '../helpers/app.js'
import { minimalProvider, seededRandom } from './helpers.js'

type Requirement = 'formal_identification' | 'court_order' | 'referral_letter'
const REQUIREMENTS: Requirement[] = ['formal_identification', 'court_order', 'referral_letter']
const here = { lat: 23.81, lon: 90.41 }

t.test('not_requiring keeps the providers that require none of the documents, nearest first', async (t) => {
  const { app, db } = await buildTestApp(t, {}, { auth: 'none' })
  const random = seededRandom(7)
  // East of the point along its parallel, one every 0.7 km: the order by distance is the order of km.
  const inputs = Array.from({ length: 40 }, (_, i) => {
    const requires = REQUIREMENTS.filter(() => random() < 0.35)
    const km = 0.5 + i * 0.7
    return {
      km,
      requires,
      input: {
        ...(minimalProvider({ name: `P${i}`, location: { lat: here.lat, lon: here.lon + km / 101.9 } }) as ProviderInput),
        categories: i % 3 === 0 ? ['legal'] : ['shelter'],
        eligibility: { genders: [], min_age: null, max_age: null, requires },
      } as ProviderInput,
    }
  })
  const { ids } = await providersService(db).createMany(inputs.map((p) => p.input))
  const rows = inputs.map((p, i) => ({ ...p, id: ids[i], category: p.input.categories[0] }))

  const ask = async (query: string) => {
    const res = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=100&${query}` })
    t.equal(res.statusCode, 200, query)
    return res.json().items.map((p: { id: string }) => p.id) as string[]
  }
  const expected = (excluded: Requirement[], category?: string) =>
    rows
      .filter((r) => !r.requires.some((req) => excluded.includes(req)) && (!category || r.category === category))
      .sort((a, b) => a.km - b.km)
      .map((r) => r.id)

  t.same(await ask(''), expected([]), 'no filter: all of them')
  t.same(await ask('not_requiring=court_order'), expected(['court_order']))
  t.same(await ask('not_requiring=formal_identification'), expected(['formal_identification']))
  const both = expected(['court_order', 'formal_identification'])
  t.ok(both.length > 0 && both.length < rows.length, 'the sample has providers on both sides of the filter')
  t.same(await ask('not_requiring=court_order,formal_identification'), both, 'comma-separated')
  t.same(await ask('not_requiring=formal_identification&not_requiring=court_order'), both, 'repeated')
  t.same(await ask('not_requiring=court_order,court_order,formal_identification'), both, 'repeats are harmless')
  t.same(await ask('not_requiring=referral_letter,court_order,formal_identification'), expected(REQUIREMENTS))
  t.same(await ask('not_requiring=court_order&category=shelter'), expected(['court_order'], 'shelter'), 'with a category (its partial index)')

  // Every provider returned really requires none of them, read back one by one.
  for (const id of both.slice(0, 5)) {
    const p = (await app.inject({ url: `/v1/providers/${id}` })).json()
    t.notOk(p.eligibility.requires.some((r: string) => r === 'court_order' || r === 'formal_identification'), `${p.name}`)
  }

  const geojson = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=100&format=geojson&not_requiring=court_order` })
  t.same(geojson.json().features.map((f: { id: string; properties: { id: string } }) => f.properties.id ?? f.id), expected(['court_order']), 'GeoJSON too')
})

t.test('not_requiring takes only the Requirement values', async (t) => {
  const { app } = await buildTestApp(t, {}, { auth: 'none' })
  for (const value of ['passport', 'court_order,', '', 'court_order,nid', 'COURT_ORDER']) {
    const res = await app.inject({ url: `/v1/providers/nearest?lat=23&lon=90&not_requiring=${encodeURIComponent(value)}` })
    t.equal(res.statusCode, 400, JSON.stringify(value))
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { errors: [{ path: 'not_requiring' }] }, JSON.stringify(value))
  }
})

t.test('EXPLAIN: not_requiring keeps the per-category partial index of the KNN scan', async (t) => {
  const { db } = await buildTestApp(t)
  const random = seededRandom(13)
  const inputs: ProviderInput[] = Array.from({ length: 3000 }, (_, i) => ({
    ...(minimalProvider({ name: `P${i}`, location: { lat: 20.6 + random() * 6, lon: 88 + random() * 4.6 } }) as ProviderInput),
    categories: [(['health', 'shelter', 'legal'] as const)[i % 3]],
    eligibility: { genders: [], min_age: null, max_age: null, requires: REQUIREMENTS.filter(() => random() < 0.3) },
  }))
  await providersService(db).createMany(inputs)
  await db.$client.query('ANALYZE providers')
  const query = NearestQuery.parse({ lat: '23.8', lon: '90.4', category: 'shelter', not_requiring: 'court_order,formal_identification', limit: '10' })
  const { sql: text, params } = new PgDialect().sqlToQuery(nearestProvidersSql(query, 'json', { exact: 'none' }))
  const { rows } = await db.$client.query(`EXPLAIN (FORMAT JSON) ${text}`, params)
  type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] }
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)]
  const plan = nodes(rows[0]['QUERY PLAN'][0].Plan)
  const scan = plan.find((n) => n['Index Name'] === 'providers_nearest_shelter')
  t.ok(scan, 'Index Scan on providers_nearest_shelter')
  t.match(scan?.['Order By'], /<->/, 'ordered by <-> in the index')
  t.match(String(scan?.Filter), /requires/, 'the requirements are a filter on that scan')
  t.notOk(plan.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'providers'), 'no sequential scan')
})
