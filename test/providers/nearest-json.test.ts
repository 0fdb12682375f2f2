// The nearest body that PostgreSQL writes (nearest-json.ts) against what the generic path makes of the same
// rows: providerSelect, rowToProvider, the zod response schema and JSON.stringify, as the serializer would;
// for each kind of viewer (sees every location, sees none, sees its own organisation's).
import { sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import t from 'tap'
import { z } from 'zod'
import type { Db } from '../../src/db/client.js'
import { FeatureCollection, featureCollection } from '../../src/lib/geojson.js'
import { shownDistance, type Viewer } from '../../src/lib/location-visibility.js'
import { MAX_PREPARED, nearestStatement } from '../../src/modules/providers/nearest-json.js'
import { nearestProvidersSql, providerSelect, rowToProvider, type ProviderRow } from '../../src/modules/providers/repo.js'
import { NearestProvider, NearestQuery, NearestResult, type ProviderInput } from '../../src/modules/providers/schemas.js'
import { providersService } from '../../src/modules/providers/service.js'
import { nearestSql } from '../../src/modules/providers/spatial.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertMou } from '../helpers/factories.js'
import { seededRandom } from './helpers.js'

const dialect = new PgDialect()

const SEES_ALL: Viewer = { exact: 'all' }

async function generic(db: Db, query: Record<string, string>, viewer: Viewer = SEES_ALL) {
  const ranked = nearestSql(NearestQuery.parse(query), providerSelect(viewer), viewer)
  const { sql: text, params } = dialect.sqlToQuery(
    sql`SELECT n.*, ${shownDistance('n', viewer, sql`n.distance_m`)} AS shown_distance_m FROM (${ranked}) n`,
  )
  const { rows } = await db.$client.query<ProviderRow & { shown_distance_m: number }>(text, params)
  const items = rows.map((r) => ({ ...rowToProvider(r), distance_m: r.shown_distance_m }))
  const json = JSON.stringify(z.encode(NearestResult, { items, next_cursor: null }))
  const features = featureCollection(
    items,
    (p) => (p.location ? { type: 'Point', coordinates: [p.location.lon, p.location.lat] } : null),
    ({ location: _location, ...properties }) => properties,
  )
  return { json, geojson: z.encode(FeatureCollection, features) }
}

// Strings that JSON escaping, jsonb's own printing and the compaction of jsonb text could get wrong.
const AWKWARD = [
  'quote " and backslash \\ and slash /',
  'looks like separators: ", " and ": " and "," inside',
  'ends with a backslash \\',
  'নারী সহায়তা কেন্দ্র',
  'មណ្ឌលសុខភាព',
  '{"not": "json"}',
  'emoji 🧭',
]
// Written with SQL only: input validation may refuse them, but stored text has to come out right all the same.
const CONTROLS = ['controls \u0001 \u0008 \t \n \r \u001f and DEL \u007f', 'line separators \u2028 \u2029, RTL override \u202e']

t.test('PostgreSQL writes the nearest body the schema would, byte for byte, for every kind of viewer', async (t) => {
  const { app, db, adminAuthorization } = await buildTestApp(t, {}, { auth: 'none' })
  await insertArea(db, { pcode: 'BD30', name_en: 'Dhaka "Division"', country: 'BGD', admin_level: 1, bbox: [89.5, 23, 91, 24.5] })
  await insertArea(db, { pcode: 'BD3026', name_en: 'Dhaka \\ District', country: 'BGD', admin_level: 2, parent_pcode: 'BD30', bbox: [90, 23.5, 90.8, 24.2] })

  const random = seededRandom(7)
  const cats = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
  const inputs: ProviderInput[] = Array.from({ length: 240 }, (_, i) => {
    const full = i % 3 === 0
    return {
      name: `P${i} ${AWKWARD[i % AWKWARD.length]}`,
      ...(i % 4 === 0 ? { names: { en: `English ${i}`, bn: AWKWARD[3], km: AWKWARD[4], 'en-GB': AWKWARD[1] } } : {}),
      kind: i % 5 === 0 ? 'government' : 'ngo',
      categories: [cats[i % 5], ...(i % 2 ? [cats[(i + 2) % 5]] : [])],
      location: { lat: 23.2 + random() * 1.4, lon: 89.8 + random() * 1.4 },
      ...(full
        ? {
            services: [
              { category: cats[i % 5], name: AWKWARD[1], description: AWKWARD[0] },
              { category: cats[i % 5], name: 'No description' },
              { category: cats[i % 5], name: 'Null description', description: null },
            ],
            address: AWKWARD[2],
            phones: ['+8801700000000', '+8801800000000'],
            email: 'desk@example.org',
            website: 'https://example.org/a?b=c&d=e',
            languages: ['bn', 'en-GB'],
            eligibility: { genders: ['female', 'third_gender'], min_age: 12, max_age: 60, requires: ['referral_letter'] },
            cost: 'subsidised',
            capacity: i,
            opening_hours: 'Sa-Th 09:00-17:00',
            status: i % 9 === 0 ? 'suspended' : 'active',
            funded_until: '2027-06-30',
            verification: { on: '2025-03-14', method: 'field_visit', by: i % 2 ? AWKWARD[6] : null },
            external_ids: [
              { scheme: 'ngoab', id: String(i) },
              { scheme: 'osm', id: AWKWARD[1] },
            ],
            notes: AWKWARD[5],
          }
        : {}),
    } as ProviderInput
  })
  const { ids } = await providersService(db).createMany(inputs)
  for (const [k, text] of CONTROLS.entries()) {
    await db.execute(sql`UPDATE providers SET name = ${text}, notes = ${text}, address = ${text},
                           names = ${JSON.stringify({ en: text, bn: AWKWARD[2] })}::jsonb,
                           services = ${JSON.stringify([{ category: 'health', name: text, description: text }])}::jsonb,
                           external_ids = ${JSON.stringify([{ scheme: text, id: text }])}::jsonb
                         WHERE id IN (${ids[1 + k]}::uuid, ${ids[3 + k]}::uuid)`)
  }
  await insertMou(db, { provider_id: ids[0], categories: [cats[0]], status: 'signed' })
  await insertMou(db, { provider_id: ids[6], categories: [cats[1]], status: 'negotiating' })
  await insertMou(db, { provider_id: ids[10], categories: [cats[0]], status: 'signed', signed_on: '2000-01-01', expires_on: '2001-01-01' })
  // Confidential providers: every shelter without a setting is approximate (the database's default); some hidden,
  // some approximate health providers, one exact shelter; and an organisation owning some of each.
  await db.execute(sql`UPDATE providers SET location_visibility = 'hidden' WHERE id = ANY(${sql.param(ids.filter((_, i) => i % 7 === 2))}::uuid[])`)
  await db.execute(sql`UPDATE providers SET location_visibility = 'approximate' WHERE id = ANY(${sql.param(ids.filter((_, i) => i % 11 === 4))}::uuid[])`)
  await db.execute(sql`UPDATE providers SET location_visibility = 'exact' WHERE id = ${ids[8]}::uuid`)
  const editor = await keyFor(db, 'editor', { organisation: 'org-a' })
  await db.execute(sql`UPDATE providers SET organisation_id = ${editor.organisationId}::uuid WHERE id = ANY(${sql.param(ids.filter((_, i) => i % 3 === 1))}::uuid[])`)
  const viewers: Array<{ label: string; viewer: Viewer; authorization?: string }> = [
    { label: 'admin', viewer: SEES_ALL, authorization: adminAuthorization },
    { label: 'anonymous', viewer: { exact: 'none' } },
    { label: 'editor of org-a', viewer: { exact: 'own', organisationId: editor.organisationId }, authorization: editor.authorization },
  ]
  const onTop = inputs[0].location

  const queries: Array<Record<string, string>> = [
    { lat: '23.81', lon: '90.41' },
    { lat: String(onTop.lat), lon: String(onTop.lon), limit: '3' }, // distance_m 0
    { lat: '23.81', lon: '90.41', limit: '100' },
    { lat: '23.5', lon: '90.1', category: 'health', limit: '50' },
    { lat: '24.5', lon: '90.9', category: 'legal', limit: '100', max_km: '60' },
    { lat: '23.81', lon: '90.41', status: 'suspended', limit: '100' },
    { lat: '23.81', lon: '90.41', gender: 'female', age: '30', cost: 'subsidised', limit: '20' },
    { lat: '23.81', lon: '90.41', mou_status: 'signed', limit: '20' },
    { lat: '23.81', lon: '90.41', kind: 'government', category: 'health', limit: '20' },
    { lat: '10', lon: '100', max_km: '1' }, // nothing
  ]
  type Item = {
    areas: unknown[]
    outside_known_areas: boolean
    mou_status: Record<string, string>
    services: unknown[]
    name: string
    location: unknown
    location_visibility: string
    location_masked: boolean
    distance_m: number
  }
  const seen: Item[] = []
  const masked: Item[] = []
  for (const query of queries) {
    for (const { label, viewer, authorization } of viewers) {
      const expected = await generic(db, query, viewer)
      const qs = new URLSearchParams(query).toString()
      const headers = authorization ? { authorization } : {}
      const res = await app.inject({ url: `/v1/providers/nearest?${qs}`, headers })
      t.equal(res.statusCode, 200, qs)
      t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
      t.equal(res.body, expected.json, `${label}, ${qs}: the same bytes as the schema's serialisation`)
      const items: Item[] = res.json().items
      seen.push(...items)
      masked.push(...items.filter((p) => p.location_masked))

      const geo = await app.inject({ url: `/v1/providers/nearest?${qs}&format=geojson`, headers })
      t.equal(geo.headers['content-type'], 'application/geo+json; charset=utf-8')
      const fc = geo.json()
      t.same(fc, expected.geojson, `${label}, ${qs}: the same GeoJSON`)
      const propertyKeys = Object.keys(NearestProvider.shape).filter((k) => k !== 'location')
      for (const f of fc.features) {
        t.same(Object.keys(f), ['type', 'id', 'geometry', 'properties'])
        t.same(Object.keys(f.properties), propertyKeys, 'properties in the documented order')
      }
      t.same(Object.keys(fc), ['type', 'features', 'numberReturned'])
    }
  }
  t.ok(seen.some((p) => p.areas.length === 2), 'compared: providers in two areas')
  t.ok(seen.some((p) => p.outside_known_areas), 'compared: providers outside every area')
  for (const status of ['signed', 'negotiating', 'expired']) {
    t.ok(seen.some((p) => Object.values(p.mou_status).includes(status)), `compared: an MOU status ${status}`)
  }
  t.ok(seen.some((p) => p.services.length === 3), 'compared: services')
  for (const [k, text] of CONTROLS.entries()) t.ok(seen.some((p) => p.name === text), `compared: stored text ${k}`)
  t.ok(masked.some((p) => p.location_visibility === 'approximate' && p.location !== null), 'compared: approximate points')
  t.ok(masked.some((p) => p.location_visibility === 'approximate' && p.location === null), 'compared: approximate outside every area')
  t.ok(masked.some((p) => p.location_visibility === 'hidden' && p.location === null), 'compared: hidden providers')
  t.ok(masked.some((p) => p.distance_m > 0 && p.distance_m % 1000 === 0), 'compared: distances rounded to kilometres')
  t.ok(seen.some((p) => !p.location_masked && p.location_visibility !== 'exact'), 'compared: confidential providers shown exactly')
})

t.test('numbers below 1e-4 are written in exponent form, as the same numbers', async (t) => {
  const { app, db } = await buildTestApp(t)
  const service = providersService(db)
  await service.create({ name: 'Null Island', kind: 'ngo', categories: ['health'], location: { lat: 0.00001, lon: -0.00002 } } as ProviderInput)
  // Admins see the point as stored; the default app sends an admin key.
  const query = { lat: '0', lon: '0.0000001' }
  const expected = await generic(db, query)
  const res = await app.inject({ url: `/v1/providers/nearest?${new URLSearchParams(query)}` })
  t.match(res.body, /"lat":1e-05,"lon":-2e-05/)
  t.same(res.json(), JSON.parse(expected.json))
})

t.test('a statement built once per shape gives every request the SQL and values built for it', async (t) => {
  const random = seededRandom(13)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]
  const shapes = new Set<string>()
  const names = new Set<string>()
  let unnamed = 0
  let differences = 0
  const organisations = ['00000000-0000-4000-8000-000000000001', '6f1c1b7e-4c59-4f8e-9a3e-2b1d7c3e5a10']
  const viewers: Viewer[] = [{ exact: 'all' }, { exact: 'none' }, ...organisations.map((id) => ({ exact: 'own' as const, organisationId: id }))]
  for (let i = 0; i < 1200; i++) {
    const raw: Record<string, string> = { lat: String(-90 + random() * 180), lon: String(-180 + random() * 360) }
    if (random() < 0.7) raw.category = pick(['health', 'legal', 'counselling', 'shelter', 'livelihood'])
    if (random() < 0.5) raw.limit = pick(['10', '100'])
    if (random() < 0.3) raw.max_km = String(0.1 + random() * 200)
    if (random() < 0.3) raw.age = String(Math.floor(random() * 100))
    if (random() < 0.1) raw.gender = pick(['female', 'male', 'third_gender'])
    if (random() < 0.1) raw.cost = pick(['free', 'subsidised', 'paid'])
    if (random() < 0.1) raw.kind = pick(['ngo', 'government'])
    if (random() < 0.1) raw.status = pick(['active', 'suspended', 'closed'])
    if (random() < 0.1) raw.mou_status = pick(['signed', 'negotiating', 'expired', 'none'])
    const q = NearestQuery.parse(raw)
    const form = random() < 0.5 ? 'json' : 'geojson'
    const viewer = pick(viewers)
    const direct = dialect.sqlToQuery(nearestProvidersSql(q, form, viewer))
    const cached = nearestStatement(q, form, viewer)
    shapes.add(JSON.stringify({ ...raw, lat: 0, lon: 0, max_km: 'max_km' in raw, age: 'age' in raw, form, viewer: viewer.exact }))
    if (cached.name) names.add(cached.name)
    else unnamed++
    if (cached.text !== direct.sql || JSON.stringify(cached.values) !== JSON.stringify(direct.params)) {
      differences++
      if (differences <= 3) t.fail(`${JSON.stringify(raw)} ${form}: ${JSON.stringify(cached.values)} vs ${JSON.stringify(direct.params)}`)
    }
  }
  t.equal(differences, 0, 'the same text and values as building the query for the request')
  t.ok(shapes.size < 900, `requests with other coordinates, ages, distances and organisations shared statements (${shapes.size} shapes, 1200 requests)`)
  t.ok(names.size > 0 && names.size <= MAX_PREPARED, `at most ${MAX_PREPARED} prepared statements (${names.size} here)`)
  t.ok(unnamed > 0, `the rarer shapes past them run unnamed (${unnamed} requests)`)
})

t.test('editors of every organisation share one statement per shape, their organisation bound per request', async (t) => {
  const q = NearestQuery.parse({ lat: '23.8', lon: '90.4', category: 'shelter' })
  const [a, b] = ['00000000-0000-4000-8000-000000000001', '6f1c1b7e-4c59-4f8e-9a3e-2b1d7c3e5a10'].map((organisationId) =>
    nearestStatement(q, 'json', { exact: 'own', organisationId }),
  )
  t.equal(a.text, b.text)
  t.equal(a.name, b.name)
  t.ok(a.values.includes('00000000-0000-4000-8000-000000000001') && b.values.includes('6f1c1b7e-4c59-4f8e-9a3e-2b1d7c3e5a10'))
  const anonymous = nearestStatement(q, 'json', { exact: 'none' })
  t.not(anonymous.text, a.text, 'another kind of viewer, another statement')
  t.same(anonymous.values, a.values.filter((v) => v !== '00000000-0000-4000-8000-000000000001'), 'the same values but the organisation')
})
