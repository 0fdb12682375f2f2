// HSDS round trip: a small directory exported as HSDS (GET /v1/providers/export?format=hsds), imported into an empty
// directory (POST /v1/providers/import?format=hsds), exported again. Every provider arrives as it left (compared
// with the source directory's own answers, field by field: also cost, capacity, opening hours, funding and
// verification), its HSDS id kept as external id hsds:<id>; importing either export again changes nothing, a record
// whose location or capacity changed updates its provider, and setu attributes that setu cannot store reject their
// record with the attribute's path, changing nothing.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertAreas } from '../access/fixtures.js'

type Json = Record<string, any>

// Four providers that use every field the round trip carries: scripts, several services and categories, phones,
// BCP-47 tags with a region, eligibility, external ids, an address with commas and a line break, a confidential
// shelter (hidden), a provider outside every known area, each status, each cost, capacity, opening hours, funding,
// a verification with and one without who verified, and a provider with none of these.
const SOURCE: Json[] = [
  {
    name: 'নারী সহায়তা কেন্দ্র',
    names: { bn: 'নারী সহায়তা কেন্দ্র', km: 'មណ្ឌលជំនួយស្ត្រី', en: "Women's Support Centre" },
    kind: 'ngo',
    categories: ['health', 'counselling'],
    services: [
      { category: 'health', name: 'Clinic', description: 'Check-ups, "free"; on Sundays' },
      { category: 'counselling', name: 'Trauma counselling' },
    ],
    location: { lat: 23.2104, lon: 89.2601 },
    address: 'Road 4, Bagherpara\nsecond line',
    phones: ['+8801700000000', '01711-000000'],
    email: 'centre@example.org',
    website: 'https://example.org/centre',
    languages: ['bn', 'en-GB'],
    eligibility: { genders: ['female'], min_age: 18, max_age: 60, requires: ['referral_letter'] },
    external_ids: [{ scheme: 'ngoab', id: '2214' }],
    cost: 'free',
    capacity: 24,
    opening_hours: 'Sa-Th 09:00-17:00; Fr closed',
    funded_until: '2026-06-30',
    verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator, Jessore' },
  },
  {
    name: 'Heron Haven',
    kind: 'ngo',
    categories: ['shelter'],
    location: { lat: 23.2418263, lon: 89.1872519 },
    address: 'Plot 9B, Heronsgate Road',
    phones: ['+8801800000000'],
    location_visibility: 'hidden',
    cost: 'subsidised',
    capacity: 0,
    opening_hours: '24/7',
    verification: { on: '2024-11-02', method: 'phone_call' },
  },
  { name: 'Legal desk', kind: 'government', categories: ['legal'], location: { lat: 21.9, lon: 91.2 }, status: 'suspended', cost: 'paid', funded_until: '2025-12-31' },
  {
    name: 'Skills centre',
    names: { en: 'Skills centre (Khulna)' },
    kind: 'community_group',
    categories: ['livelihood'],
    location: { lat: 22.6, lon: 89.7 },
    address: 'House 12, Road 3, Sonadanga',
    status: 'closed',
  },
]

/** The fields an HSDS import carries: what must be equal in the source and the destination directory. */
const CARRIED = [
  'name', 'names', 'kind', 'categories', 'services', 'location', 'location_visibility', 'address', 'phones', 'email', 'website', 'languages',
  'eligibility', 'status', 'areas', 'cost', 'capacity', 'opening_hours', 'funded_until', 'verification',
] as const
const carried = (p: Json) => Object.fromEntries(CARRIED.map((k) => [k, p[k]]))

const exportHsds = async (app: FastifyInstance): Promise<Json[]> => {
  const res = await app.inject({ url: '/v1/providers/export?format=hsds' })
  if (res.statusCode !== 200) throw new Error(`export: ${res.statusCode} ${res.body}`)
  return res.json()
}
const importHsds = async (app: FastifyInstance, records: unknown) => {
  const res = await app.inject({ method: 'POST', url: '/v1/providers/import?format=hsds', payload: records as object })
  if (res.statusCode !== 200) throw new Error(`import: ${res.statusCode} ${res.body}`)
  return res.json()
}
const providers = async (app: FastifyInstance): Promise<Json[]> => (await app.inject({ url: '/v1/providers?limit=100' })).json().items
const identifiers = (r: Json) => r.organization.organization_identifiers.map((x: Json) => `${x.identifier_scheme}:${x.identifier}`)
const attributeValues = (r: Json, term: string) => r.attributes.filter((a: Json) => a.link_type === term).map((a: Json) => a.value).sort()

t.test('HSDS export → import into an empty directory → export: the same directory', async (t) => {
  const source = await buildTestApp(t)
  const target = await buildTestApp(t)
  await insertAreas(source.db)
  await insertAreas(target.db)
  for (const p of SOURCE) {
    const res = await source.app.inject({ method: 'POST', url: '/v1/providers', payload: p })
    t.equal(res.statusCode, 201, `${p.name} created in the source`)
  }
  const first = await exportHsds(source.app)
  t.equal(first.length, SOURCE.length)

  const report = await importHsds(target.app, first)
  t.same(report, { created: SOURCE.length, updated: 0, unchanged: 0, rejected: [] }, 'every record is created')

  const sourceProviders = await providers(source.app)
  const targetProviders = await providers(target.app)
  t.equal(targetProviders.length, SOURCE.length)
  // The fields are really there to compare (a provider of each kind: with all of them, with none).
  t.same(
    SOURCE.map((p) => CARRIED.filter((k) => ['cost', 'capacity', 'opening_hours', 'funded_until', 'verification'].includes(k) && p[k] != null).length),
    [5, 4, 2, 0],
  )
  for (const from of sourceProviders) {
    const to = targetProviders.find((p) => p.external_ids.some((x: Json) => x.scheme === 'hsds' && x.id === from.id))
    t.ok(to, `${from.name}: found by external id hsds:${from.id}`)
    if (!to) continue
    t.same(carried(to), carried(from), `${from.name}: every carried field equal`)
    t.same(to.external_ids, [...from.external_ids, { scheme: 'hsds', id: from.id }], `${from.name}: its external ids and hsds:<id>`)
  }

  const second = await exportHsds(target.app)
  t.equal(second.length, first.length)
  for (const a of first) {
    const b = second.find((r) => identifiers(r).includes(`hsds:${a.id}`))
    t.ok(b, `${a.name}: exported again with identifier hsds:${a.id}`)
    if (!b) continue
    const location = (r: Json) => r.service_at_locations[0].location
    t.same(
      {
        name: b.name,
        alternate_name: b.alternate_name,
        status: b.status,
        phones: b.phones.map((p: Json) => p.number),
        languages: b.languages.map((l: Json) => [l.code, l.note]),
        point: [location(b).latitude, location(b).longitude],
        address: location(b).addresses?.map((x: Json) => x.address_1),
        service_areas: b.service_areas.map((x: Json) => x.extent),
        ages: [b.minimum_age, b.maximum_age],
        fees: b.fees_description,
        schedules: b.schedules.map((x: Json) => x.description),
        assured_date: b.assured_date,
      },
      {
        name: a.name,
        alternate_name: a.alternate_name,
        status: a.status,
        phones: a.phones.map((p: Json) => p.number),
        languages: a.languages.map((l: Json) => [l.code, l.note]),
        point: [location(a).latitude, location(a).longitude],
        address: location(a).addresses?.map((x: Json) => x.address_1),
        service_areas: a.service_areas.map((x: Json) => x.extent),
        ages: [a.minimum_age, a.maximum_age],
        fees: a.fees_description,
        schedules: a.schedules.map((x: Json) => x.description),
        assured_date: a.assured_date,
      },
      `${a.name}: names, status, phones, languages, point, address, areas, ages, fees, schedules and assured date`,
    )
    for (const term of [
      'category', 'kind', 'name', 'service', 'eligible_gender', 'requires', 'location_visibility',
      'cost', 'capacity', 'funded_until', 'verified_on', 'verification_method', 'verified_by',
    ]) {
      t.same(attributeValues(b, term), attributeValues(a, term), `${a.name}: setu attribute ${term}`)
    }
    t.same(identifiers(b), [...identifiers(a), `hsds:${a.id}`], `${a.name}: organization identifiers`)
  }

  const hidden = targetProviders.find((p) => p.name === 'Heron Haven')!
  const anonymous = await target.app.inject({ url: `/v1/providers/${hidden.id}`, headers: { authorization: '' } })
  t.equal(anonymous.statusCode, 200)
  t.match(anonymous.json(), { location: null, address: null, location_masked: true }, 'the hidden shelter stays hidden from the public')

  const again = await importHsds(target.app, second)
  t.same(again, { created: 0, updated: 0, unchanged: SOURCE.length, rejected: [] }, 're-importing the second export changes nothing')
  const firstAgain = await importHsds(target.app, first)
  t.same(firstAgain, { created: 0, updated: 0, unchanged: SOURCE.length, rejected: [] }, 're-importing the first export changes nothing')
  t.same(await providers(target.app), targetProviders, 'the destination directory is as it was, versions included')
})

t.test('an exported record imported with its location changed updates its provider', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertAreas(db)
  for (const p of SOURCE) t.equal((await app.inject({ method: 'POST', url: '/v1/providers', payload: p })).statusCode, 201)
  const records = await exportHsds(app)
  const before = await providers(app)
  const moved = structuredClone(records.find((r) => r.name === 'Skills centre')!)
  // From Khulna Sadar (BD4047) into Bagherpara (BD404190).
  Object.assign(moved.service_at_locations[0].location, { latitude: 23.2, longitude: 89.25 })
  const report = await importHsds(app, [moved, ...records.filter((r) => r.id !== moved.id)])
  t.same(report, { created: 0, updated: 1, unchanged: SOURCE.length - 1, rejected: [] })
  const after = await providers(app)
  const old = before.find((p) => p.id === moved.id)!
  const now = after.find((p) => p.id === moved.id)!
  t.same(now.location, { lat: 23.2, lon: 89.25 }, 'the new point')
  t.same(now.areas.map((a: Json) => a.pcode), ['BD40', 'BD4041', 'BD404190'], 'its areas computed again')
  t.equal(now.version, old.version + 1)
  t.same({ ...now, location: old.location, areas: old.areas, version: old.version, updated_at: old.updated_at }, old, 'nothing else changed')
  t.same(now.external_ids, old.external_ids, 'matched on its setu id: no hsds id added')
  t.same(
    after.filter((p) => p.id !== moved.id),
    before.filter((p) => p.id !== moved.id),
    'the other providers are untouched',
  )
})

t.test('setu attributes count only under their fixed term ids; what setu only peeks at never rejects a record', async (t) => {
  const { app } = await buildTestApp(t)
  const record = {
    id: 'other-directory-1',
    name: 'Partner clinic',
    attributes: [
      { taxonomy_term: { code: 'health' } },
      // A look-alike of setu's terms from another directory: not setu's, so neither read nor refused.
      { link_type: 'location_visibility', taxonomy_term_id: 'not-setu', value: 'hidden' },
      { link_type: 42, taxonomy_term_id: null, value: 'x' },
    ],
    languages: [{ code: 'en', note: 7 }],
    organization: { id: 'o-1', name: 'Partner', organization_identifiers: [{ identifier_scheme: 3, identifier: null }] },
    service_at_locations: [{ id: 'sal-1', location: { id: 'l-1', latitude: 23.2, longitude: 89.25, addresses: [{ address_1: 'Road 1', city: 'Jessore', country: 'BD' }] } }],
  }
  t.same(await importHsds(app, [record]), { created: 1, updated: 0, unchanged: 0, rejected: [] })
  const [p] = await providers(app)
  t.match(p, {
    categories: ['health'],
    location_visibility: 'exact',
    languages: ['en'],
    address: 'Road 1, Jessore, BD',
    external_ids: [{ scheme: 'hsds', id: 'other-directory-1' }],
    services: [{ category: 'health', name: 'Partner clinic' }],
  })
})

/** Where the attribute of a setu term is in a record: its index, and its value's path as the import reports it. */
const attributeAt = (r: Json, term: string) => {
  const index = r.attributes.findIndex((a: Json) => a.link_type === term)
  if (index < 0) throw new Error(`${r.name} has no ${term} attribute`)
  return { index, path: `attributes.${index}.value` }
}
const withAttribute = (r: Json, term: string, value: string) => {
  const copy = structuredClone(r)
  copy.attributes[attributeAt(r, term).index].value = value
  return copy
}

t.test('an exported record whose capacity changed updates its provider; one without a setu fact clears it', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertAreas(db)
  for (const p of SOURCE) t.equal((await app.inject({ method: 'POST', url: '/v1/providers', payload: p })).statusCode, 201)
  const records = await exportHsds(app)
  const centre = records.find((r) => r.name === SOURCE[0].name)!
  const before = (await app.inject({ url: `/v1/providers/${centre.id}` })).json()
  const capacity = Number(centre.attributes[attributeAt(centre, 'capacity').index].value) + 6

  const report = await importHsds(app, [withAttribute(centre, 'capacity', String(capacity)), ...records.filter((r) => r.id !== centre.id)])
  t.same(report, { created: 0, updated: 1, unchanged: SOURCE.length - 1, rejected: [] })
  const after = (await app.inject({ url: `/v1/providers/${centre.id}` })).json()
  t.equal(after.capacity, capacity, 'GET /v1/providers/{id} shows the new capacity')
  t.equal(after.version, before.version + 1)
  t.same({ ...after, capacity: before.capacity, version: before.version, updated_at: before.updated_at }, before, 'nothing else changed')

  // setu's export writes every value a provider has, so a setu record without one says the provider has none.
  const without = structuredClone(centre)
  without.attributes = without.attributes.filter((a: Json) => !['funded_until', 'verified_on', 'verification_method', 'verified_by'].includes(a.link_type))
  without.schedules = []
  t.same(await importHsds(app, [without]), { created: 0, updated: 1, unchanged: 0, rejected: [] })
  t.match((await app.inject({ url: `/v1/providers/${centre.id}` })).json(), { funded_until: null, verification: null, opening_hours: null, capacity: before.capacity })
})

t.test('setu attributes that setu cannot store reject their record with the attribute’s path, changing nothing', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertAreas(db)
  for (const p of SOURCE) t.equal((await app.inject({ method: 'POST', url: '/v1/providers', payload: p })).statusCode, 201)
  const records = await exportHsds(app)
  const centre = records.find((r) => r.name === SOURCE[0].name)!
  const before = await providers(app)

  const withoutTerm = (term: string) => ({ ...structuredClone(centre), attributes: centre.attributes.filter((a: Json) => a.link_type !== term) })
  const twoCapacities = structuredClone(centre)
  const second = { ...centre.attributes[attributeAt(centre, 'capacity').index], id: 'another-capacity', value: '30' }
  twoCapacities.attributes.push(second)
  const cases: Array<[string, Json, string, RegExp]> = [
    ['capacity lots', withAttribute(centre, 'capacity', 'lots'), attributeAt(centre, 'capacity').path, /capacity must be a whole number.*"lots"/],
    ['capacity -3', withAttribute(centre, 'capacity', '-3'), attributeAt(centre, 'capacity').path, /whole number/],
    ['capacity too large', withAttribute(centre, 'capacity', '2000000'), attributeAt(centre, 'capacity').path, /1000000.*setu field capacity/],
    ['funded_until 2025-13-40', withAttribute(centre, 'funded_until', '2025-13-40'), attributeAt(centre, 'funded_until').path, /YYYY-MM-DD.*setu field funded_until/],
    ['verified_on 2025-02-30', withAttribute(centre, 'verified_on', '2025-02-30'), attributeAt(centre, 'verified_on').path, /YYYY-MM-DD.*setu field verification\.on/],
    ['method telepathy', withAttribute(centre, 'verification_method', 'telepathy'), attributeAt(centre, 'verification_method').path, /field_visit.*setu field verification\.method/],
    ['cost expensive', withAttribute(centre, 'cost', 'expensive'), attributeAt(centre, 'cost').path, /free.*setu field cost/],
    ['no verified_on', withoutTerm('verified_on'), attributeAt(withoutTerm('verified_on'), 'verification_method').path, /needs both verified_on.*no verified_on/],
    ['two capacities', twoCapacities, `attributes.${twoCapacities.attributes.length - 1}.value`, /more than one capacity attribute/],
  ]
  const twoErrors = { ...withAttribute(centre, 'capacity', 'lots'), email: 'not an email' }
  const report = await importHsds(app, [...cases.map(([, record]) => record), twoErrors, ...records])
  t.match(report, { created: 0, updated: 0, unchanged: records.length })
  t.equal(report.rejected.length, cases.length + 1)
  t.match(
    report.rejected.find((r: Json) => r.index === cases.length)?.errors,
    [{ path: attributeAt(centre, 'capacity').path, message: /whole number/ }, { path: 'email', message: /email/i }],
    'an unreadable attribute is reported with the record’s other errors',
  )
  cases.forEach(([what, , path, message], index) => {
    const rejection = report.rejected.find((r: Json) => r.index === index)
    t.match(rejection, { id: centre.id, errors: [{ path, message }] }, what)
    t.equal(rejection?.errors.length, 1, `${what}: one error`)
  })
  t.same(await providers(app), before, 'nothing changed')
})

t.test('a directory imported into itself again is unchanged, whatever order its categories were stored in', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertAreas(db)
  for (const p of SOURCE) t.equal((await app.inject({ method: 'POST', url: '/v1/providers', payload: p })).statusCode, 201)
  // Not in setu's order of categories (health, legal, counselling, shelter, livelihood), as the demo data stores some.
  const unordered = { ...SOURCE[0], name: 'Unordered categories', categories: ['shelter', 'counselling', 'health'] }
  t.equal((await app.inject({ method: 'POST', url: '/v1/providers', payload: unordered })).statusCode, 201)
  const before = await providers(app)
  const report = await importHsds(app, await exportHsds(app))
  t.same(report, { created: 0, updated: 0, unchanged: SOURCE.length + 1, rejected: [] })
  t.same(await providers(app), before, 'no provider changed, not even its version')

  const target = await buildTestApp(t)
  await insertAreas(target.db)
  await importHsds(target.app, await exportHsds(app))
  const copied = (await providers(target.app)).find((p) => p.name === 'Unordered categories')!
  t.same(copied.categories, unordered.categories, 'imported elsewhere, in the order it was stored in')
})
