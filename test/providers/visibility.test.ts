// Confidential locations on every provider read: detail, list (with each filter), nearest, and the GeoJSON of each,
// as callers who may not see exact locations (anonymous, a viewer, another organisation's editor) and as those who
// may (the owning organisation's editor, an analyst, an admin).
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'
import { vincentyM } from './helpers.js'

type LatLon = { lat: number; lon: number }
type Shown = {
  id: string
  name: string
  organisation_id: string
  location: LatLon | null
  location_visibility: string
  location_masked: boolean
  address: string | null
  distance_m?: number
}
type Feature = { id: string; geometry: { type: string; coordinates: number[] } | null; properties: Omit<Shown, 'location'> }

// Coordinates with digits that appear nowhere else, so that a leak of them into any body can be searched for.
const providers = {
  approximate: {
    name: 'Approximate shelter', kind: 'ngo', categories: ['shelter'], location_visibility: 'approximate',
    location: { lat: 23.351713, lon: 89.453129 }, address: 'Safe house lane 7',
  },
  hidden: {
    name: 'Hidden counselling', kind: 'ngo', categories: ['counselling'], location_visibility: 'hidden',
    location: { lat: 23.338247, lon: 89.441863 }, address: 'Unmarked door 12',
  },
  byDefault: {
    name: 'Default shelter', kind: 'ngo', categories: ['shelter', 'health'],
    location: { lat: 23.362419, lon: 89.461537 }, address: 'Quiet road 3',
  },
  clinic: {
    name: 'Open clinic', kind: 'government', categories: ['health'],
    location: { lat: 23.301157, lon: 89.401733 }, address: 'Main road 1',
  },
} as const
type Key = keyof typeof providers
const CONFIDENTIAL: Key[] = ['approximate', 'hidden', 'byDefault']
const here = { lat: 23.36, lon: 89.46 }

async function setup(t: Test) {
  const { app, db, adminAuthorization } = await buildTestApp(t, {}, { auth: 'none' })
  // Two levels: the approximate point is the district's (the smallest area), not the division's.
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 22, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })
  const owner = await keyFor(db, 'editor', { organisation: 'org-a' })
  const other = await keyFor(db, 'editor', { organisation: 'org-b' })
  const viewer = await keyFor(db, 'viewer', { organisation: 'org-b' })
  const analyst = await keyFor(db, 'analyst', { organisation: 'org-b' })

  const ids = {} as Record<Key, string>
  for (const [key, input] of Object.entries(providers) as Array<[Key, (typeof providers)[Key]]>) {
    const res = await app.inject({ method: 'POST', url: '/v1/providers', headers: { authorization: owner.authorization }, payload: input })
    t.equal(res.statusCode, 201, res.body)
    ids[key] = res.json().id
  }
  const repPoint = await repPointOf(db, 'BD4041')
  const callers = {
    masked: [
      { label: 'anonymous', headers: {} },
      { label: 'viewer', headers: { authorization: viewer.authorization } },
      { label: "another organisation's editor", headers: { authorization: other.authorization } },
    ],
    exact: [
      { label: 'owner editor', headers: { authorization: owner.authorization } },
      { label: 'analyst', headers: { authorization: analyst.authorization } },
      { label: 'admin', headers: { authorization: adminAuthorization } },
    ],
  }
  return { app, db, ids, repPoint, callers, owner }
}

t.test('box and radius filters cannot be narrowed onto a masked provider', async (t) => {
  const { app, ids, repPoint, callers } = await setup(t)
  const around = (p: LatLon, d: number) => [p.lon - d, p.lat - d, p.lon + d, p.lat + d].map((v) => v.toFixed(6)).join(',')
  const listed = async (query: string, headers: { authorization?: string }) =>
    ((await app.inject({ url: `/v1/providers?${query}`, headers })).json().items as Shown[]).map((p) => keyOf(ids, p.id)).sort()

  const tinyBoxOnReal = `bbox=${around(providers.approximate.location, 0.0005)}`
  const tinyBoxOnRepPoint = `bbox=${around(repPoint, 0.0005)}`
  // 1.6 km from the approximate shelter: its rounded distance is 2 km, outside a 1.7 km radius.
  const from = { lat: providers.approximate.location.lat + 0.0144, lon: providers.approximate.location.lon }
  const real = vincentyM(from, providers.approximate.location)
  t.ok(real > 1500 && real < 1700, `the query point is ${real.toFixed(0)} m away`)
  const radius = `lat=${from.lat}&lon=${from.lon}&radius_km=1.7&category=shelter`
  const nearest = `/v1/providers/nearest?lat=${from.lat}&lon=${from.lon}&max_km=1.7&category=shelter&limit=10`

  for (const { label, headers } of callers.masked) {
    t.same(await listed(tinyBoxOnReal, headers), [], `${label}: a box around the real point alone finds nothing`)
    t.same(await listed(tinyBoxOnRepPoint, headers), ['approximate', 'byDefault'], `${label}: a box around the shown point finds the approximate ones`)
    t.notOk((await listed(radius, headers)).includes('approximate'), `${label}: the radius filter compares the rounded distance`)
    const items: Shown[] = (await app.inject({ url: nearest, headers })).json().items
    t.notOk(items.some((p) => p.id === ids.approximate), `${label}: so does nearest's max_km`)
  }
  for (const { label, headers } of callers.exact) {
    t.same(await listed(tinyBoxOnReal, headers), ['approximate'], `${label}: sees the real point, so the box finds it`)
    t.ok((await listed(radius, headers)).includes('approximate'), `${label}: the real distance is within the radius`)
    const items: Shown[] = (await app.inject({ url: nearest, headers })).json().items
    t.ok(items.some((p) => p.id === ids.approximate), `${label}: and within max_km`)
  }
})

async function repPointOf(db: Db, pcode: string): Promise<LatLon> {
  const { rows } = await db.execute<{ lat: number; lon: number }>(
    sql`SELECT ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas WHERE pcode = ${pcode}`,
  )
  return rows[0]
}

const keyOf = (ids: Record<Key, string>, id: string) => (Object.keys(ids) as Key[]).find((k) => ids[k] === id)

/** Digits of a coordinate as they could appear in a body, down to 3 decimals (about 100 m). */
const TIMESTAMPS = /"(created|updated)_at":"[^"]*"/g
const coordinateTexts = (p: LatLon) => [p.lat, p.lon].flatMap((v) => [String(v), v.toFixed(5), v.toFixed(4), v.toFixed(3)])

t.test('callers who may not see exact locations get the mask on every read and format', async (t) => {
  const { app, ids, repPoint, callers } = await setup(t)
  t.not(repPoint.lat.toFixed(3), providers.approximate.location.lat.toFixed(3), 'the district point is far from every provider')

  const expectMasked = (shown: Shown, where: string) => {
    const key = keyOf(ids, shown.id)!
    const input = providers[key]
    if (key === 'clinic') {
      t.same(shown.location, input.location, `${where}: an exact provider is shown exactly`)
      t.equal(shown.address, input.address)
      t.equal(shown.location_masked, false)
      t.equal(shown.location_visibility, 'exact')
      return
    }
    t.equal(shown.location_masked, true, `${where}: ${key} is masked`)
    t.equal(shown.address, null, `${where}: ${key} shows no address`)
    if (key === 'hidden') {
      t.equal(shown.location_visibility, 'hidden')
      t.equal(shown.location, null, `${where}: hidden shows no point`)
    } else {
      t.equal(shown.location_visibility, 'approximate', `${where}: ${key} is approximate${key === 'byDefault' ? ' by default' : ''}`)
      t.same(shown.location, repPoint, `${where}: ${key} shows the representative point of the smallest area`)
    }
  }
  const fromFeature = (f: Feature): Shown => ({
    ...f.properties,
    id: f.id,
    location: f.geometry ? { lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] } : null,
  })

  const lists = [
    '',
    'bbox=89.43,23.33,89.47,23.37', // around the confidential providers' real points, far from the district's point
    `lat=${here.lat}&lon=${here.lon}&radius_km=5`,
    'area=BD4041',
    'q=shelter',
    'category=shelter',
  ]
  // Filters answer about what the caller is shown: a box around the real points but not the district's point holds
  // none of the masked providers (narrowing a box step by step would otherwise find the real point); the 5 km
  // radius holds them by their rounded distances.
  const expectedInList: Record<string, Key[]> = {
    '': ['approximate', 'byDefault', 'hidden', 'clinic'],
    'bbox=89.43,23.33,89.47,23.37': [],
    [`lat=${here.lat}&lon=${here.lon}&radius_km=5`]: ['approximate', 'byDefault', 'hidden'],
    'area=BD4041': ['approximate', 'byDefault', 'hidden', 'clinic'],
    'q=shelter': ['approximate', 'byDefault'],
    'category=shelter': ['approximate', 'byDefault'],
  }

  for (const { label, headers } of callers.masked) {
    const bodies: string[] = []
    for (const key of Object.keys(ids) as Key[]) {
      const res = await app.inject({ url: `/v1/providers/${ids[key]}`, headers })
      t.equal(res.statusCode, 200)
      expectMasked(res.json(), `${label}, detail`)
      bodies.push(res.body)
    }

    for (const query of lists) {
      const res = await app.inject({ url: `/v1/providers?${query}`, headers })
      t.equal(res.statusCode, 200, `${label}: ${query}`)
      const items: Shown[] = res.json().items
      t.same(items.map((p) => keyOf(ids, p.id)).sort(), [...expectedInList[query]].sort(), `${label}, list ${query}: filtered by what the caller is shown`)
      for (const p of items) expectMasked(p, `${label}, list ${query}`)
      const geo = await app.inject({ url: `/v1/providers?${query}&format=geojson`, headers })
      t.equal(geo.statusCode, 200)
      const features: Feature[] = geo.json().features
      t.same(features.map((f) => f.id).sort(), items.map((p) => p.id).sort())
      for (const f of features) {
        t.notOk('location' in f.properties)
        expectMasked(fromFeature(f), `${label}, list GeoJSON ${query}`)
        if (keyOf(ids, f.id) === 'hidden') t.equal(f.geometry, null, `${label}: a hidden provider is a feature without geometry`)
      }
      bodies.push(res.body, geo.body)
    }

    for (const query of [`lat=${here.lat}&lon=${here.lon}&limit=10`, `lat=${here.lat}&lon=${here.lon}&limit=10&category=shelter`]) {
      const res = await app.inject({ url: `/v1/providers/nearest?${query}`, headers })
      t.equal(res.statusCode, 200)
      const items: Shown[] = res.json().items
      for (const p of items) {
        expectMasked(p, `${label}, nearest`)
        const real = vincentyM(here, providers[keyOf(ids, p.id)!].location)
        if (p.location_masked) {
          t.equal(p.distance_m! % 1000, 0, `${label}: a masked distance is whole kilometres (${p.distance_m})`)
          t.ok(Math.abs(p.distance_m! - real) <= 500 + 1e-6, `${label}: ${p.distance_m} is the real ${real.toFixed(1)} rounded`)
        } else t.ok(Math.abs(p.distance_m! - real) / real < 1e-6, `${label}: an exact provider's distance is exact`)
      }
      // Ranked by the real point: the default shelter is nearest, though the point shown for it is 30 km away.
      const expected = (query.includes('shelter') ? ['byDefault', 'approximate'] : ['byDefault', 'approximate', 'hidden', 'clinic']) as Key[]
      t.same(items.map((p) => keyOf(ids, p.id)), expected, `${label}, nearest ${query}: ranked by the real point`)

      const geo = await app.inject({ url: `/v1/providers/nearest?${query}&format=geojson`, headers })
      const features: Feature[] = geo.json().features
      t.same(features.map((f) => f.id), items.map((p) => p.id))
      for (const f of features) {
        expectMasked(fromFeature(f), `${label}, nearest GeoJSON`)
        if (keyOf(ids, f.id) === 'hidden') t.equal(f.geometry, null)
      }
      t.same(features.map((f) => f.properties.distance_m), items.map((p) => p.distance_m))
      bodies.push(res.body, geo.body)
    }

    // Nothing of the real point or the address, at any precision down to about 100 m, anywhere in any body (but
    // the timestamps, whose seconds could spell a latitude by chance).
    const everything = bodies.join('\n').replace(TIMESTAMPS, '')
    for (const key of CONFIDENTIAL) {
      for (const text of [...coordinateTexts(providers[key].location), providers[key].address]) {
        t.notOk(everything.includes(text), `${label}: ${key}'s ${JSON.stringify(text)} appears in no body`)
      }
    }
  }
})

t.test('the owning editor, analysts and admins see exact locations and distances', async (t) => {
  const { app, ids, callers } = await setup(t)
  for (const { label, headers } of callers.exact) {
    const bodies: string[] = []
    for (const key of Object.keys(ids) as Key[]) {
      const res = await app.inject({ url: `/v1/providers/${ids[key]}`, headers })
      const p: Shown = res.json()
      t.same(p.location, providers[key].location, `${label}: ${key} exactly`)
      t.equal(p.address, providers[key].address)
      t.equal(p.location_masked, false)
      t.equal(p.location_visibility, key === 'clinic' ? 'exact' : key === 'hidden' ? 'hidden' : 'approximate', 'the stored setting is still said')
      bodies.push(res.body)
    }
    const list = await app.inject({ url: '/v1/providers?bbox=89.43,23.33,89.47,23.37&format=geojson', headers })
    const features: Feature[] = list.json().features
    t.equal(features.length, 3)
    for (const f of features) t.same(f.geometry?.coordinates, [providers[keyOf(ids, f.id)!].location.lon, providers[keyOf(ids, f.id)!].location.lat])

    const nearest = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=10`, headers })
    const items: Shown[] = nearest.json().items
    t.same(items.map((p) => keyOf(ids, p.id)), ['byDefault', 'approximate', 'hidden', 'clinic'])
    for (const p of items) {
      const real = vincentyM(here, providers[keyOf(ids, p.id)!].location)
      t.ok(Math.abs(p.distance_m! - real) / real < 1e-6, `${label}: exact distance to ${keyOf(ids, p.id)}`)
      t.equal(p.location_masked, false)
    }
    const geo = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=10&format=geojson`, headers })
    t.ok(geo.json().features.every((f: Feature) => f.geometry !== null), `${label}: every feature has its point`)
    bodies.push(list.body, nearest.body, geo.body)
    // The leak search of the previous test finds what is there: it would have seen a leak.
    const everything = bodies.join('\n')
    for (const key of CONFIDENTIAL) t.ok(everything.includes(String(providers[key].location.lat)), `${label}: ${key}'s latitude is found`)
  }
})

t.test('location_visibility is written, changed and reset to the default for the categories', async (t) => {
  const { app, ids, owner, repPoint } = await setup(t)
  const headers = { authorization: owner.authorization }
  const patch = (id: string, payload: object) => app.inject({ method: 'PATCH', url: `/v1/providers/${id}`, headers, payload })

  const shownToAnonymous = async (id: string) => (await app.inject({ url: `/v1/providers/${id}` })).json() as Shown
  t.equal((await shownToAnonymous(ids.clinic)).location_masked, false)

  const hidden = await patch(ids.clinic, { location_visibility: 'hidden' })
  t.equal(hidden.statusCode, 200)
  t.equal(hidden.json().location_visibility, 'hidden')
  t.same(hidden.json().location, providers.clinic.location, 'the owner still sees it')
  t.match(await shownToAnonymous(ids.clinic), { location: null, address: null, location_masked: true })

  const reset = await patch(ids.clinic, { location_visibility: null })
  t.equal(reset.json().location_visibility, 'exact', 'null: the default for a clinic')
  const shelter = await patch(ids.clinic, { categories: ['shelter'], location_visibility: null })
  t.equal(shelter.json().location_visibility, 'approximate', 'null: the default for a shelter')
  t.match(await shownToAnonymous(ids.clinic), { location: repPoint, address: null, location_masked: true })

  const kept = await patch(ids.clinic, { categories: ['health'] })
  t.equal(kept.json().location_visibility, 'approximate', 'a stored setting stays when the categories change')
  const exact = await patch(ids.byDefault, { location_visibility: 'exact' })
  t.equal(exact.json().location_visibility, 'exact', 'a shelter may choose to be shown exactly')
  t.match(await shownToAnonymous(ids.byDefault), { location: providers.byDefault.location, address: providers.byDefault.address, location_masked: false })

  const created = await app.inject({
    method: 'POST', url: '/v1/providers', headers,
    payload: { name: 'Outside', kind: 'ngo', categories: ['shelter'], location: { lat: 11.5, lon: 104.9 } },
  })
  t.equal(created.json().location_visibility, 'approximate')
  t.match(await shownToAnonymous(created.json().id), { location: null, location_masked: true }, 'approximate outside every known area shows no point')

  const bad = await patch(ids.clinic, { location_visibility: 'blurry' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { errors: [{ path: 'location_visibility' }] })
})
