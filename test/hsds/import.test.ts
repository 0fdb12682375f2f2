// POST /v1/providers/import?format=hsds: the specification's own examples (latitude 100 rejected with its reason,
// real coordinates imported, a second import unchanged), the mapping of every field read, categories from taxonomy
// terms, cost and opening hours from fees and schedules, per-record rejection that writes nothing, ownership, and
// the audit trail.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertProvider } from '../helpers/factories.js'

const HSDS = process.env.SETU_SHARED_HSDS || path.resolve(PROJECT_ROOT, '..', 'shared', 'hsds')
const example = (file: string) => JSON.parse(readFileSync(path.join(HSDS, 'examples', file), 'utf8')) as Record<string, any>
const skipWithoutHsds = existsSync(path.join(HSDS, 'examples', 'service_full.json')) ? false : `the HSDS examples are absent: no ${HSDS}/examples`

// Inside BD4041 (Jessore), outside BD4047 (Khulna Sadar).
const JESSORE = { latitude: 23.17, longitude: 89.21 }
const KHULNA = { latitude: 22.5, longitude: 89.7 }

async function areas(db: Db) {
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })
  await insertArea(db, { pcode: 'BD4047', name_en: 'Khulna Sadar', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89.55, 22.3, 89.9, 22.75] })
}

/** A small HSDS service of our own, located at `at`, with taxonomy terms naming `terms`. */
function service(id: string, at: { latitude: number; longitude: number } | null, terms: string[] = ['counselling'], extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `Service ${id}`,
    description: 'Sessions in Bangla',
    status: 'active',
    phones: [{ number: '+8801700000001' }],
    languages: [{ code: 'bn' }],
    attributes: terms.map((code) => ({ taxonomy_term: { code, name: code } })),
    organization: { id: `org-${id}`, name: 'Partner directory org' },
    service_at_locations: at ? [{ id: `sal-${id}`, location: { id: `loc-${id}`, location_type: 'physical', ...at } }] : [],
    ...extra,
  }
}

/** The specification's example with its locations moved to `at` (both the service's and its organization's). */
function relocated(record: Record<string, any>, at: { latitude: number; longitude: number }) {
  const copy = structuredClone(record)
  for (const sal of copy.service_at_locations ?? []) Object.assign(sal.location, at)
  for (const l of copy.organization?.locations ?? []) Object.assign(l, at)
  return copy
}

const providerCount = async (db: Db) => (await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM providers`)).rows[0].n

const importing = (app: FastifyInstance, payload: unknown, query = '', headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `/v1/providers/import?format=hsds${query}`, payload: payload as object, headers })

async function byHsdsId(app: FastifyInstance, id: string) {
  const res = await app.inject({ url: `/v1/providers?external_id=hsds:${encodeURIComponent(id)}` })
  return res.json().items as Array<Record<string, any>>
}

t.test('the specification’s examples', { skip: skipWithoutHsds }, async (t) => {
  const { app, db } = await buildTestApp(t)
  await areas(db)
  const full = example('service_full.json')

  await t.test('latitude 100 is rejected with its reason, and nothing is written', async (t) => {
    const before = await providerCount(db)
    const res = await importing(app, [full], '&category=counselling')
    t.equal(res.statusCode, 200, res.body)
    const report = res.json()
    t.match(report, { created: 0, updated: 0, unchanged: 0 })
    t.equal(report.rejected.length, 1)
    t.equal(report.rejected[0].index, 0)
    t.equal(report.rejected[0].id, full.id)
    const latitude = report.rejected[0].errors.find((e: { path: string }) => e.path === 'service_at_locations.0.location.latitude')
    t.ok(latitude, 'an error at the service location’s latitude')
    t.match(latitude.message, /latitude must be between -90 and 90.*got 100/)
    t.equal(await providerCount(db), before, 'nothing written')
  })

  await t.test('without a category among its taxonomy terms, and none given, it is rejected with what to do', async (t) => {
    const res = await importing(app, [relocated(full, JESSORE)])
    t.equal(res.statusCode, 200)
    t.match(res.json().rejected, [{ index: 0, errors: [{ path: 'attributes', message: /no setu category.*category query parameter/ }] }])
  })

  await t.test('with real coordinates it imports, field by field', async (t) => {
    const before = await providerCount(db)
    const res = await importing(app, [relocated(full, JESSORE)], '&category=counselling')
    t.same(res.json(), { created: 1, updated: 0, unchanged: 0, rejected: [] })
    t.equal(await providerCount(db), before + 1)
    const [p] = await byHsdsId(app, full.id)
    t.match(p, {
      name: 'Community Counselling',
      kind: 'ngo',
      categories: ['counselling'],
      services: [{ category: 'counselling', name: 'Community Counselling', description: full.description }],
      location: { lat: JESSORE.latitude, lon: JESSORE.longitude },
      address: '1-30 Main Street, MyVillage, MyCity, MyRegion, MyState, ABC 1234, US',
      phones: ['+44 1234 234567'],
      email: 'email@example.com',
      website: 'http://example.com/counselling',
      languages: ['ur'],
      eligibility: { genders: [], min_age: 12, max_age: 100, requires: [] },
      // Its schedule's description; its fees are free text ("… £50 per hour …"), which is no setu cost.
      opening_hours: full.schedules[0].description,
      cost: null,
      status: 'active',
      external_ids: [{ scheme: 'hsds', id: full.id }],
      areas: [{ pcode: 'BD40' }, { pcode: 'BD4041' }],
      version: 1,
    })
  })

  await t.test('importing it twice creates nothing new', async (t) => {
    const before = await providerCount(db)
    const res = await importing(app, [relocated(full, JESSORE)], '&category=counselling')
    t.same(res.json(), { created: 0, updated: 0, unchanged: 1, rejected: [] })
    t.equal(await providerCount(db), before)
    const [p] = await byHsdsId(app, full.id)
    t.equal(p.version, 1, 'not even a new version')
  })

  await t.test('an HSDS page is read from its contents; a service without any location is rejected', async (t) => {
    const list = example('service_list.json')
    const res = await importing(app, list, '&category=health')
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json(), { created: 0, rejected: [{ index: 0, id: list.contents[0].id, errors: [{ path: 'service_at_locations', message: /no location with latitude and longitude/ }] }] })
  })
})

t.test('mapping, upserts and rejections', async (t) => {
  const { app, db } = await buildTestApp(t)
  await areas(db)

  await t.test('categories and kind from taxonomy terms', async (t) => {
    const res = await importing(app, [
      service('terms-1', JESSORE, ['Legal Aid', 'setu:shelter', 'unrelated']),
      service('terms-2', JESSORE, ['mental_health', 'kind:community-group']),
    ])
    t.same(res.json(), { created: 2, updated: 0, unchanged: 0, rejected: [] })
    t.match((await byHsdsId(app, 'terms-1'))[0], { categories: ['legal', 'shelter'], kind: 'ngo', location_visibility: 'approximate' })
    t.match((await byHsdsId(app, 'terms-2'))[0], { categories: ['counselling'], kind: 'community_group' })
  })

  await t.test('a changed record updates its provider, keeping what HSDS does not say', async (t) => {
    const [before] = await byHsdsId(app, 'terms-1')
    await db.execute(sql`UPDATE providers SET notes = 'checked by phone', verified_on = '2025-01-02', verification_method = 'phone_call' WHERE id = ${before.id}::uuid`)
    const res = await importing(app, [service('terms-1', KHULNA, ['legal aid', 'shelter'], { name: 'Renamed service', status: 'temporarily closed' })])
    t.same(res.json(), { created: 0, updated: 1, unchanged: 0, rejected: [] })
    const [after] = await byHsdsId(app, 'terms-1')
    t.equal(after.id, before.id)
    t.match(after, {
      name: 'Renamed service',
      status: 'suspended',
      location: { lat: KHULNA.latitude, lon: KHULNA.longitude },
      areas: [{ pcode: 'BD40' }, { pcode: 'BD4047' }],
      notes: 'checked by phone',
      verification: { on: '2025-01-02', method: 'phone_call' },
      version: before.version + 1,
    })
  })

  await t.test('invalid records are rejected with paths into the record; the valid ones beside them import', async (t) => {
    const before = await providerCount(db)
    const res = await importing(app, [
      service('bad-lat', { latitude: 100, longitude: 101 }),
      service('ok-1', JESSORE),
      service('bad-lon', { latitude: 23, longitude: 200 }),
      service('no-terms', JESSORE, []),
      service('bad-email', JESSORE, ['health'], { email: 'not an email' }),
      service('bad-language', JESSORE, ['health'], { languages: [{ code: 'not a language' }] }),
      service('', JESSORE),
      { name: 'no id', service_at_locations: [] },
      null,
      'a string',
      service('bad-age', JESSORE, ['health'], { minimum_age: 30, maximum_age: 20 }),
    ])
    t.equal(res.statusCode, 200, res.body)
    const report = res.json()
    t.match(report, { created: 1, updated: 0, unchanged: 0 })
    const byIndex = Object.fromEntries(report.rejected.map((r: { index: number }) => [r.index, r]))
    t.same(Object.keys(byIndex).map(Number), [0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    t.match(byIndex[0], { id: 'bad-lat', errors: [{ path: 'service_at_locations.0.location.latitude', message: /got 100/ }] })
    t.match(byIndex[2], { id: 'bad-lon', errors: [{ path: 'service_at_locations.0.location.longitude', message: /got 200/ }] })
    t.match(byIndex[3], { errors: [{ path: 'attributes' }] })
    t.match(byIndex[4], { errors: [{ path: 'email', message: /email/i }] })
    t.match(byIndex[5], { errors: [{ path: 'languages', message: /BCP-47/ }] })
    t.match(byIndex[6], { id: '', errors: [{ path: 'id', message: /id is required/ }] })
    t.match(byIndex[7], { id: null, errors: [{ path: 'id' }] })
    t.match(byIndex[8], { id: null, errors: [{ path: 'record' }] })
    t.match(byIndex[10], { errors: [{ path: 'maximum_age', message: /min_age must not exceed max_age/ }] })
    t.equal(await providerCount(db), before + 1, 'only the valid record was written')
  })

  await t.test('a record setu exported (its id is the provider id) updates that provider instead of duplicating it', async (t) => {
    const id = await insertProvider(db, { name: 'Exported clinic', lat: 23.2, lon: 89.2, categories: ['health'] })
    const before = await providerCount(db)
    const res = await importing(app, [service(id, { latitude: 23.2, longitude: 89.2 }, ['health'], { name: 'Exported clinic' })])
    t.same(res.json(), { created: 0, updated: 1, unchanged: 0, rejected: [] })
    t.equal(await providerCount(db), before)
  })

  await t.test('a later record with the same id updates what an earlier one created', async (t) => {
    const res = await importing(app, { contents: [service('twice', JESSORE), service('twice', JESSORE, ['counselling'], { name: 'Second' })] })
    t.same(res.json(), { created: 1, updated: 1, unchanged: 0, rejected: [] })
  })

  await t.test('bad bodies and parameters are 400 problems', async (t) => {
    for (const [what, payload, query] of [
      ['an empty list', [], ''],
      ['an object without contents', {}, ''],
      ['a bad category', [service('x', JESSORE)], '&category=food'],
    ] as const) {
      const res = await importing(app, payload, query)
      t.equal(res.statusCode, 400, what)
      t.match(res.headers['content-type'], /application\/problem\+json/)
    }
    const noFormat = await app.inject({ method: 'POST', url: '/v1/providers/import', payload: [service('x', JESSORE)] })
    t.equal(noFormat.statusCode, 400, 'format is required')
  })
})

t.test('ownership and the audit trail', async (t) => {
  const { app, db } = await buildTestApp(t)
  await areas(db)
  const editor = await keyFor(db, 'editor', { organisation: 'partner-a' })
  const other = await keyFor(db, 'editor', { organisation: 'partner-b', areas: ['BD4047'] })
  const as = (k: { authorization: string }) => ({ authorization: k.authorization })

  await t.test('an editor imports into its own organisation, audited under its key', async (t) => {
    const res = await importing(app, [service('own-1', JESSORE)], '', as(editor))
    t.same(res.json(), { created: 1, updated: 0, unchanged: 0, rejected: [] })
    const [p] = await byHsdsId(app, 'own-1')
    t.equal(p.organisation_id, editor.organisationId)
    const { rows } = await db.execute<{ action: string }>(
      sql`SELECT action FROM audit_log WHERE entity = 'provider' AND entity_id = ${p.id} AND key_id = ${editor.id}::uuid`,
    )
    t.same(rows.map((r) => r.action), ['create'])
  })

  await t.test('an editor naming another organisation is refused whole, and nothing changes', async (t) => {
    const before = await providerCount(db)
    const res = await importing(app, [service('own-2', JESSORE)], `&organisation_id=${other.organisationId}`, as(editor))
    t.equal(res.statusCode, 403)
    t.equal(await providerCount(db), before)
  })

  await t.test('records another organisation owns, or outside the key’s areas, are rejected one by one', async (t) => {
    const res = await importing(app, [service('own-1', KHULNA, ['legal']), service('b-outside', JESSORE), service('b-inside', KHULNA)], '', as(other))
    const report = res.json()
    t.match(report, { created: 1, updated: 0, unchanged: 0 })
    t.match(report.rejected, [
      { index: 0, errors: [{ path: 'id', message: /may not change.*another organisation/ }] },
      { index: 1, errors: [{ path: 'service_at_locations.0.location', message: /outside the areas/ }] },
    ])
    t.match((await byHsdsId(app, 'own-1'))[0], { categories: ['counselling'], version: 1 }, 'the other organisation’s provider is as it was')
    t.same(await byHsdsId(app, 'b-outside'), [])
  })

  await t.test('an admin may name the owner; an unknown one is a 422', async (t) => {
    const res = await importing(app, [service('admin-1', JESSORE)], `&organisation_id=${other.organisationId}`)
    t.equal(res.json().created, 1)
    t.equal((await byHsdsId(app, 'admin-1'))[0].organisation_id, other.organisationId)
    const unknown = await importing(app, [service('admin-2', JESSORE)], '&organisation_id=7f0c8b1e-0000-4000-8000-000000000000')
    t.equal(unknown.statusCode, 422)
  })

  await t.test('viewers and analysts may not import (anonymous callers: test/access/roles.test.ts)', async (t) => {
    for (const role of ['viewer', 'analyst'] as const) {
      const k = await keyFor(db, role, { organisation: 'partner-a' })
      t.equal((await importing(app, [service('v', JESSORE)], '', as(k))).statusCode, 403, role)
    }
  })
})

t.test('Idempotency-Key replays the report; 1,000 records in one request', async (t) => {
  const { app, db } = await buildTestApp(t)
  await areas(db)
  const headers = { 'idempotency-key': 'hsds-import-1' }
  const first = await importing(app, [service('idem-1', JESSORE)], '', headers)
  const again = await importing(app, [service('idem-1', JESSORE)], '', headers)
  t.same(first.json(), { created: 1, updated: 0, unchanged: 0, rejected: [] })
  t.same(again.json(), first.json(), 'the same answer, not "unchanged"')
  t.equal(again.headers['idempotent-replayed'], 'true')

  const many = Array.from({ length: 1000 }, (_, i) =>
    service(`bulk-${i}`, { latitude: 22.4 + (i % 40) * 0.02, longitude: 88.6 + Math.floor(i / 40) * 0.03 }, [['health', 'legal', 'shelter'][i % 3]]),
  )
  const started = performance.now()
  const created = await importing(app, many)
  const createMs = performance.now() - started
  t.match(created.json(), { created: 1000, rejected: [] })
  const again2 = performance.now()
  const unchanged = await importing(app, many)
  const unchangedMs = performance.now() - again2
  t.match(unchanged.json(), { unchanged: 1000, created: 0, updated: 0 })
  t.comment(`1,000 HSDS services: created in ${Math.round(createMs)} ms, re-imported unchanged in ${Math.round(unchangedMs)} ms`)
})

t.test('another directory’s fees and schedules: cost only from setu’s own words, opening hours from descriptions', async (t) => {
  const { app, db } = await buildTestApp(t)
  await areas(db)
  const weekdays = 'Mo-Fr 09:00-17:00'
  const saturday = 'Sa 10:00-13:00'
  const rrule = { freq: 'WEEKLY', byday: 'MO,TU', opens_at: '09:00', closes_at: '17:00' }
  const sal = (schedules: unknown[]) => [{ id: 'sal', location: { id: 'loc', location_type: 'physical', ...JESSORE }, schedules }]

  await t.test('on create', async (t) => {
    const res = await importing(app, [
      service('fees-1', JESSORE, ['health'], { fees_description: 'free', schedules: [{ description: weekdays }, { description: saturday }] }),
      service('fees-2', JESSORE, ['health'], { fees_description: ' Paid ' }),
      service('fees-3', JESSORE, ['health'], { fees_description: 'Free for survivors, 100 taka otherwise', schedules: [rrule], service_at_locations: sal([{ description: weekdays }]) }),
      service('fees-4', JESSORE, ['health'], { fees_description: 42, schedules: [rrule] }),
    ])
    t.same(res.json(), { created: 4, updated: 0, unchanged: 0, rejected: [] })
    t.match((await byHsdsId(app, 'fees-1'))[0], { cost: 'free', opening_hours: `${weekdays}; ${saturday}` }, 'a cost value; every schedule described')
    t.match((await byHsdsId(app, 'fees-2'))[0], { cost: 'paid', opening_hours: null }, 'case and spaces aside')
    t.match((await byHsdsId(app, 'fees-3'))[0], { cost: null, opening_hours: weekdays }, 'free text is no cost; the service_at_location’s schedule when the service’s has no description')
    t.match((await byHsdsId(app, 'fees-4'))[0], { cost: null, opening_hours: null }, 'a fee that is not text, and an RRULE alone, say nothing setu reads')
  })

  await t.test('on update, what the record does not state is kept', async (t) => {
    const [p] = await byHsdsId(app, 'fees-1')
    const patch = await app.inject({ method: 'PATCH', url: `/v1/providers/${p.id}`, payload: { capacity: 12, funded_until: '2026-01-31', verification: { on: '2025-05-01', method: 'field_visit' } } })
    t.equal(patch.statusCode, 200, patch.body)
    const kept = await importing(app, [service('fees-1', JESSORE, ['health'], { fees_description: 'Ask at the desk', schedules: [rrule] })])
    t.same(kept.json(), { created: 0, updated: 0, unchanged: 1, rejected: [] }, 'free-text fees and an RRULE alone change nothing')
    t.match((await byHsdsId(app, 'fees-1'))[0], {
      cost: 'free',
      opening_hours: `${weekdays}; ${saturday}`,
      capacity: 12,
      funded_until: '2026-01-31',
      verification: { on: '2025-05-01', method: 'field_visit', by: null },
    })

    const changed = await importing(app, [service('fees-1', JESSORE, ['health'], { fees_description: 'subsidised', schedules: [{ description: saturday }] })])
    t.same(changed.json(), { created: 0, updated: 1, unchanged: 0, rejected: [] })
    const [after] = await byHsdsId(app, 'fees-1')
    t.match(after, { cost: 'subsidised', opening_hours: saturday, capacity: 12, funded_until: '2026-01-31', verification: { on: '2025-05-01' }, version: p.version + 2 })
  })

  await t.test('opening hours longer than setu keeps reject the record at the schedule', async (t) => {
    const long = 'x'.repeat(501)
    const res = await importing(app, [
      service('long-1', JESSORE, ['health'], { schedules: [{ description: long }] }),
      service('long-2', JESSORE, ['health'], { schedules: [{ description: long.slice(0, 300) }, { description: long.slice(0, 300) }] }),
    ])
    t.match(res.json(), {
      created: 0,
      rejected: [
        { index: 0, errors: [{ path: 'schedules.0.description', message: /500.*setu field opening_hours/ }] },
        { index: 1, errors: [{ path: 'schedules', message: /500.*setu field opening_hours/ }] },
      ],
    })
    t.same(await byHsdsId(app, 'long-1'), [])
  })
})
