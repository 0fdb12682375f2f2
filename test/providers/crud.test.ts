import t from 'tap'
import { DEMO_ORGANISATION_ID } from '../../src/modules/access/keys.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'
import { minimalProvider, providerCount, tableSnapshot } from './helpers.js'

const BANGLA = 'নারী সহায়তা কেন্দ্র'
const KHMER = 'មជ្ឈមណ្ឌលជំនួយ'

const fullInput = {
  name: BANGLA,
  names: { en: "Women's Support Centre", bn: BANGLA, km: KHMER },
  kind: 'ngo',
  categories: ['health', 'counselling'],
  services: [
    { category: 'counselling', name: 'Trauma counselling', description: 'Individual sessions in Bangla' },
    { category: 'health', name: 'Clinic' },
  ],
  location: { lat: 23.1667, lon: 89.2083 },
  address: 'যশোর সদর, যশোর',
  phones: ['+8801700000000', '+8801800000000'],
  email: 'info@example.org',
  website: 'https://example.org/centre',
  languages: ['bn', 'en-GB'],
  eligibility: { genders: ['female', 'third_gender'], min_age: 16, max_age: 60, requires: ['referral_letter'] },
  cost: 'free',
  capacity: 24,
  opening_hours: 'Sa-Th 09:00-17:00',
  status: 'active',
  funded_until: '2026-06-30',
  verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
  external_ids: [{ scheme: 'ngoab', id: '2214' }],
  notes: 'ভবনের দ্বিতীয় তলা',
}

async function jessoreAreas(db: Parameters<typeof insertArea>[0]) {
  await insertArea(db, { pcode: '40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: '4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: '40', bbox: [88.9, 22.8, 89.5, 23.4] })
  await insertArea(db, { pcode: '404190', name_en: 'Jessore Sadar', country: 'BGD', admin_level: 3, parent_pcode: '4041', bbox: [89.1, 23.1, 89.3, 23.3] })
}

const jessoreRefs = [
  { pcode: '40', admin_level: 1, name_en: 'Khulna' },
  { pcode: '4041', admin_level: 2, name_en: 'Jessore' },
  { pcode: '404190', admin_level: 3, name_en: 'Jessore Sadar' },
]

t.test('create, get, patch and close round-trip exact values', async (t) => {
  const { app, db } = await buildTestApp(t)
  await jessoreAreas(db)

  const created = await app.inject({ method: 'POST', url: '/v1/providers', payload: fullInput })
  t.equal(created.statusCode, 201, created.body)
  const p = created.json()
  t.match(p.id, /^[0-9a-f-]{36}$/)
  t.equal(created.headers.location, `/v1/providers/${p.id}`)
  t.equal(created.headers.etag, '"1"')
  const { id, created_at, updated_at, ...rest } = p
  t.same(rest, {
    ...fullInput, organisation_id: DEMO_ORGANISATION_ID, location_visibility: 'exact', location_masked: false,
    areas: jessoreRefs, outside_known_areas: false, mou_status: { health: 'none', counselling: 'none' }, version: 1,
  })
  t.equal(created_at, updated_at)

  const got = await app.inject({ url: `/v1/providers/${id}` })
  t.equal(got.statusCode, 200)
  t.same(got.json(), p, 'GET answers exactly what POST answered')
  t.equal(got.headers.etag, '"1"')
  t.equal(got.json().name, BANGLA)
  t.equal(got.json().names.km, KHMER)

  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/providers/${id}`,
    headers: { 'if-match': '"1"' },
    payload: { notes: null, cost: 'subsidised', eligibility: { genders: ['female'] }, location: { lat: 24.5, lon: 89.2 } },
  })
  t.equal(patched.statusCode, 200, patched.body)
  const q = patched.json()
  t.equal(q.version, 2)
  t.equal(patched.headers.etag, '"2"')
  t.equal(q.notes, null, 'null clears a nullable field')
  t.equal(q.cost, 'subsidised')
  t.same(q.eligibility, { genders: ['female'], min_age: null, max_age: null, requires: [] }, 'nested objects are replaced whole')
  t.same(q.location, { lat: 24.5, lon: 89.2 })
  t.same(q.areas, [], 'areas recomputed from the new location')
  t.equal(q.outside_known_areas, true)
  t.equal(q.name, BANGLA, 'fields left out stay')
  t.same(q.services, fullInput.services)
  t.ok(q.updated_at > p.updated_at, 'updated_at moves forward')

  const stale = await tableSnapshot(db)
  const conflict = await app.inject({ method: 'PATCH', url: `/v1/providers/${id}`, headers: { 'if-match': '"1"' }, payload: { name: 'x' } })
  t.equal(conflict.statusCode, 412)
  t.match(conflict.headers['content-type'], /^application\/problem\+json/)
  t.match(conflict.json(), { status: 412, title: 'Precondition Failed', detail: /version 2, not 1/ })
  t.equal(await tableSnapshot(db), stale, 'a 412 writes nothing')

  const back = await app.inject({ method: 'PATCH', url: `/v1/providers/${id}`, payload: { location: fullInput.location } })
  t.same(back.json().areas, jessoreRefs)
  t.equal(back.json().version, 3)

  const closed = await app.inject({ method: 'DELETE', url: `/v1/providers/${id}` })
  t.equal(closed.statusCode, 200)
  t.equal(closed.json().status, 'closed')
  t.equal(closed.json().version, 4)
  const again = await app.inject({ method: 'DELETE', url: `/v1/providers/${id}` })
  t.equal(again.statusCode, 200)
  t.equal(again.json().version, 4, 'closing a closed provider changes nothing')
  t.equal(await providerCount(db), 1, 'never hard-deleted')

  const reopened = await app.inject({ method: 'PATCH', url: `/v1/providers/${id}`, headers: { 'if-match': '"4"' }, payload: { status: 'active' } })
  t.equal(reopened.statusCode, 200)
  t.equal(reopened.json().status, 'active')
  t.equal(reopened.json().version, 5)
})

t.test('minimal input gets defaults; a location outside every area is flagged', async (t) => {
  const { app, db } = await buildTestApp(t)
  await jessoreAreas(db)
  const res = await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider({ kind: 'focal_point', location: { lat: 11.55, lon: 104.92 } }) })
  t.equal(res.statusCode, 201)
  const { id, created_at, updated_at, ...rest } = res.json()
  t.same(rest, {
    organisation_id: DEMO_ORGANISATION_ID, name: 'Test provider', names: {}, kind: 'focal_point', categories: ['health'], services: [],
    location: { lat: 11.55, lon: 104.92 }, location_visibility: 'exact', location_masked: false, address: null, phones: [], email: null, website: null, languages: [],
    eligibility: { genders: [], min_age: null, max_age: null, requires: [] }, cost: null, capacity: null,
    opening_hours: null, status: 'active', funded_until: null, verification: null, external_ids: [], notes: null,
    areas: [], outside_known_areas: true, mou_status: { health: 'none' }, version: 1,
  })
})

t.test('Bangla, Khmer and English spellings are all searchable', async (t) => {
  const { app } = await buildTestApp(t)
  const a = (await app.inject({ method: 'POST', url: '/v1/providers', payload: fullInput })).json()
  await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider({ name: 'Legal Aid Office', categories: ['legal'] }) })
  for (const q of ['সহায়তা', 'ជំនួយ', 'SUPPORT centre', "women's"]) {
    const res = await app.inject({ url: `/v1/providers?q=${encodeURIComponent(q)}` })
    t.equal(res.statusCode, 200)
    t.same(res.json().items.map((p: { id: string }) => p.id), [a.id], `q=${q}`)
  }
  const none = await app.inject({ url: `/v1/providers?q=${encodeURIComponent('%_')}` })
  t.same(none.json().items, [], 'LIKE wildcards in q are matched literally')
})

t.test('bad input is a 4xx problem and writes nothing', async (t) => {
  const { app, db } = await buildTestApp(t)
  const existing = (await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider() })).json()
  const before = await tableSnapshot(db)

  const cases: Array<{ name: string; method?: 'POST' | 'PATCH'; url?: string; body: unknown; raw?: boolean; paths: string[] }> = [
    { name: 'wrong type', body: minimalProvider({ name: 42 }), paths: ['name'] },
    { name: 'lat 91', body: minimalProvider({ location: { lat: 91, lon: 90 } }), paths: ['location.lat'] },
    { name: 'lon 181', body: minimalProvider({ location: { lat: 23, lon: 181 } }), paths: ['location.lon'] },
    { name: 'location as strings', body: minimalProvider({ location: { lat: '23', lon: '90' } }), paths: ['location.lat', 'location.lon'] },
    { name: 'unknown category', body: minimalProvider({ categories: ['food'] }), paths: ['categories.0'] },
    { name: 'empty categories', body: minimalProvider({ categories: [] }), paths: ['categories'] },
    { name: 'unknown kind', body: minimalProvider({ kind: 'church' }), paths: ['kind'] },
    { name: 'unknown field', body: minimalProvider({ colour: 'red' }), paths: ['colour'] },
    { name: 'unknown nested field', body: minimalProvider({ location: { lat: 1, lon: 2, alt: 3 } }), paths: ['location.alt'] },
    { name: 'bad names key', body: minimalProvider({ names: { English: 'x' } }), paths: ['names.English'] },
    { name: 'bad language', body: minimalProvider({ languages: ['bangla!'] }), paths: ['languages.0'] },
    { name: 'min_age above max_age', body: minimalProvider({ eligibility: { min_age: 30, max_age: 18 } }), paths: ['eligibility.max_age'] },
    { name: 'bad date', body: minimalProvider({ funded_until: '2025-13-40' }), paths: ['funded_until'] },
    { name: 'name too long', body: minimalProvider({ name: 'x'.repeat(301) }), paths: ['name'] },
    { name: 'missing location', body: { name: 'x', kind: 'ngo', categories: ['health'] }, paths: ['location'] },
    { name: 'patch: null name', method: 'PATCH', url: `/v1/providers/${existing.id}`, body: { name: null }, paths: ['name'] },
    { name: 'patch: unknown field', method: 'PATCH', url: `/v1/providers/${existing.id}`, body: { id: existing.id }, paths: ['id'] },
    { name: 'patch: lat 91', method: 'PATCH', url: `/v1/providers/${existing.id}`, body: { location: { lat: 91, lon: 1 } }, paths: ['location.lat'] },
  ]
  for (const c of cases) {
    const res = await app.inject({ method: c.method ?? 'POST', url: c.url ?? '/v1/providers', payload: c.body as object })
    t.equal(res.statusCode, 400, `${c.name}: ${res.body}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    const body = res.json()
    t.equal(body.type, 'urn:setu:problem:validation', c.name)
    t.same(body.errors.map((e: { path: string }) => e.path).sort(), [...c.paths].sort(), `${c.name}: error paths`)
    t.ok(body.errors.every((e: { message: string }) => e.message.length > 0))
  }

  const unknownField = await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider({ colour: 'red' }) })
  t.same(unknownField.json().errors, [{ path: 'colour', message: 'unknown field "colour"' }])
  const lat = await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider({ location: { lat: 91, lon: 90 } }) })
  t.same(lat.json().errors, [{ path: 'location.lat', message: 'latitude must be between -90 and 90' }])

  const malformed = await app.inject({ method: 'POST', url: '/v1/providers', headers: { 'content-type': 'application/json' }, payload: '{"name": "x",' })
  t.equal(malformed.statusCode, 400)
  t.match(malformed.headers['content-type'], /^application\/problem\+json/)
  t.match(malformed.json(), { status: 400, detail: /JSON/ })

  const badId = await app.inject({ url: '/v1/providers/not-a-uuid' })
  t.equal(badId.statusCode, 400)
  t.same(badId.json().errors, [{ path: 'id', message: 'id must be a UUID' }])
  const badIdPatch = await app.inject({ method: 'PATCH', url: '/v1/providers/123', payload: {} })
  t.equal(badIdPatch.statusCode, 400)
  const badIdDelete = await app.inject({ method: 'DELETE', url: '/v1/providers/123' })
  t.equal(badIdDelete.statusCode, 400)

  const missing = '00000000-0000-4000-8000-000000000000'
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    const res = await app.inject({ method, url: `/v1/providers/${missing}`, ...(method === 'PATCH' ? { payload: { notes: 'x' } } : {}) })
    t.equal(res.statusCode, 404, method)
    t.same(res.json(), {
      type: 'urn:setu:problem:not-found', title: 'Not Found', status: 404,
      detail: `Provider ${missing} does not exist`, instance: `/v1/providers/${missing}`,
      request_id: res.headers['x-request-id'],
    })
  }

  const badIfMatch = await app.inject({ method: 'PATCH', url: `/v1/providers/${existing.id}`, headers: { 'if-match': 'abc' }, payload: { notes: 'x' } })
  t.equal(badIfMatch.statusCode, 412)

  t.equal(await tableSnapshot(db), before, 'no rejected request changed the table')
})

t.test('a body over BODY_LIMIT_BYTES (10 MiB by default) is a 413 problem', async (t) => {
  const { app, db } = await buildTestApp(t)
  const huge = JSON.stringify(minimalProvider({ notes: 'x'.repeat(11 * 1024 * 1024) }))
  const res = await app.inject({ method: 'POST', url: '/v1/providers', headers: { 'content-type': 'application/json' }, payload: huge })
  t.equal(res.statusCode, 413)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { type: 'urn:setu:problem:payload-too-large', status: 413 })
  t.equal(await providerCount(db), 0)
})
