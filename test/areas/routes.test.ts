import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { importAreas } from '../../src/modules/areas/import.js'
import { buildTestApp } from '../helpers/app.js'
import { collection, divisions, feature, readShared, rect, skipWithoutBoundaries } from './fixtures.js'

const PHNOM_PENH_KM = 'ភ្នំពេញ'
const WEST_BN = 'পশ্চিম জেলা'

async function seed(db: Db) {
  await importAreas(db, divisions(), { country: 'BGD', level: 1, codeField: 'code', nameField: 'name', nameLocalField: 'bn', codePrefix: 'BD' })
  await importAreas(
    db,
    collection(
      feature({ code: '1001', name: 'West', bn: WEST_BN, parent: '10' }, rect(90, 23, 90.5, 24)),
      feature({ code: '1002', name: 'Middle', parent: '10' }, rect(90.5, 23, 91, 24)),
      feature({ code: '2001', name: 'East', parent: '20' }, rect(91, 23, 92, 24)),
    ),
    { country: 'BGD', level: 2, codeField: 'code', nameField: 'name', nameLocalField: 'bn', parentField: 'parent', codePrefix: 'BD' },
  )
  await importAreas(db, collection(feature({ code: 'KH12', name: 'Phnom Penh', km: PHNOM_PENH_KM }, rect(104.7, 11.4, 105, 11.7))), {
    country: 'KHM', level: 1, codeField: 'code', nameField: 'name', nameLocalField: 'km', source: 'test',
  })
}

const pcodes = (res: { json(): { items: { pcode: string }[] } }) => res.json().items.map((a) => a.pcode)

t.test('list filters by country, level, parent and name', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const list = (qs: string) => app.inject({ url: `/v1/areas?${qs}` })
  t.same(pcodes(await list('')), ['BD10', 'BD1001', 'BD1002', 'BD20', 'BD2001', 'KH12'])
  t.same(pcodes(await list('country=BGD&admin_level=2')), ['BD1001', 'BD1002', 'BD2001'])
  t.same(pcodes(await list('parent=BD10')), ['BD1001', 'BD1002'])
  t.same(pcodes(await list('country=KHM')), ['KH12'])
  t.same(pcodes(await list('q=ALPH')), ['BD10'])
  t.same(pcodes(await list(`q=${encodeURIComponent('ভ্নোম')}`)), [], 'a string in no name matches nothing')
  t.same(pcodes(await list(`q=${encodeURIComponent('পশ্চিম')}`)), ['BD1001'])
  t.same(pcodes(await list(`q=${encodeURIComponent('ភ្នំ')}`)), ['KH12'])
  t.same(pcodes(await list('q=100%25')), [], 'LIKE wildcards in q are literal')

  const first = (await list('country=BGD&admin_level=2&limit=1')).json()
  t.same(first.items[0], {
    pcode: 'BD1001', name_en: 'West', name_local: WEST_BN, country: 'BGD', admin_level: 2, level_name: 'district',
    parent_pcode: 'BD10', source: null, source_id: null, rep_point: { lat: 23.5, lon: 90.25 },
  })
})

t.test('an unknown parent is a 404 problem', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const res = await app.inject({ url: '/v1/areas?parent=BD99' })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.same(res.json(), {
    type: 'urn:setu:problem:not-found', title: 'Not Found', status: 404, detail: 'Area BD99 does not exist', instance: '/v1/areas?parent=BD99',
    request_id: res.headers['x-request-id'],
  })
})

t.test('pagination walks every area once, in pcode order, ending with a null cursor', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: { statusCode: number; json(): { items: { pcode: string }[]; next_cursor: string | null } } = await app.inject({ url: `/v1/areas?limit=4${cursor ? `&cursor=${cursor}` : ''}` })
    t.equal(res.statusCode, 200)
    const body = res.json()
    seen.push(...body.items.map((a: { pcode: string }) => a.pcode))
    cursor = body.next_cursor
    pages++
  } while (cursor)
  t.equal(pages, 2)
  t.same(seen, ['BD10', 'BD1001', 'BD1002', 'BD20', 'BD2001', 'KH12'])

  const exact = (await app.inject({ url: '/v1/areas?limit=6' })).json()
  t.equal(exact.next_cursor, null, 'a page that holds the last row has no next cursor')
  const bad = await app.inject({ url: '/v1/areas?cursor=nonsense' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { status: 400, errors: [{ path: 'cursor' }] })
})

t.test('one area comes with its parents, and its polygon only when asked', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const plain = await app.inject({ url: '/v1/areas/BD1001' })
  t.equal(plain.statusCode, 200)
  t.same(plain.json(), {
    pcode: 'BD1001', name_en: 'West', name_local: WEST_BN, country: 'BGD', admin_level: 2, level_name: 'district',
    parent_pcode: 'BD10', source: null, source_id: null, rep_point: { lat: 23.5, lon: 90.25 },
    parents: [{ pcode: 'BD10', name_en: 'Alpha', admin_level: 1, level_name: 'division' }],
  })
  t.same((await app.inject({ url: '/v1/areas/BD10' })).json().parents, [])

  const withGeometry = (await app.inject({ url: '/v1/areas/BD1001?geometry=true' })).json()
  t.same(withGeometry.geometry, { type: 'MultiPolygon', coordinates: [[[[90, 23], [90.5, 23], [90.5, 24], [90, 24], [90, 23]]]] })

  const geo = await app.inject({ url: '/v1/areas/KH12', headers: { accept: 'application/geo+json' } })
  t.equal(geo.statusCode, 200)
  t.match(geo.headers['content-type'], /^application\/geo\+json/)
  t.same(geo.json(), {
    type: 'Feature',
    id: 'KH12',
    geometry: { type: 'MultiPolygon', coordinates: [[[[104.7, 11.4], [105, 11.4], [105, 11.7], [104.7, 11.7], [104.7, 11.4]]]] },
    properties: {
      pcode: 'KH12', name_en: 'Phnom Penh', name_local: PHNOM_PENH_KM, country: 'KHM', admin_level: 1, level_name: 'province',
      parent_pcode: null, source: 'test', source_id: null, parents: [],
    },
  })
  t.same((await app.inject({ url: '/v1/areas/KH12?format=geojson' })).json(), geo.json())
})

t.test('Bangla and Khmer names round-trip byte for byte', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const km = await app.inject({ url: '/v1/areas/KH12' })
  t.equal(km.json().name_local, PHNOM_PENH_KM)
  t.ok(km.rawPayload.includes(Buffer.from(JSON.stringify(PHNOM_PENH_KM).slice(1, -1), 'utf8')), 'raw UTF-8, not escapes')
  t.equal((await app.inject({ url: '/v1/areas/BD20' })).json().name_local, 'বেটা')
  t.equal((await app.inject({ url: '/v1/areas/BD1001' })).json().name_local, WEST_BN)
})

t.test('the list as GeoJSON: representative points, or polygons with geometry=true', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const points = await app.inject({ url: '/v1/areas?parent=BD10&format=geojson' })
  t.equal(points.statusCode, 200)
  t.match(points.headers['content-type'], /^application\/geo\+json/)
  const fc = points.json()
  t.match(fc, { type: 'FeatureCollection', numberReturned: 2, next_cursor: null })
  t.same(fc.features[0].geometry, { type: 'Point', coordinates: [90.25, 23.5] })
  t.same(fc.features.map((f: { id: string }) => f.id), ['BD1001', 'BD1002'])
  t.equal(fc.features[0].properties.name_local, WEST_BN)

  const polygons = (await app.inject({ url: '/v1/areas?parent=BD20&geometry=true', headers: { accept: 'application/geo+json' } })).json()
  t.same(polygons.features[0].geometry, { type: 'MultiPolygon', coordinates: [[[[91, 23], [92, 23], [92, 24], [91, 24], [91, 23]]]] })
})

t.test('unknown pcodes and bad coordinates are problems', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const missing = await app.inject({ url: '/v1/areas/BD4242' })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-type'], /^application\/problem\+json/)
  t.same(missing.json(), {
    type: 'urn:setu:problem:not-found', title: 'Not Found', status: 404, detail: 'Area BD4242 does not exist', instance: '/v1/areas/BD4242',
    request_id: missing.headers['x-request-id'],
  })
  const lat = await app.inject({ url: '/v1/areas/locate?lat=95&lon=90' })
  t.equal(lat.statusCode, 400)
  t.match(lat.headers['content-type'], /^application\/problem\+json/)
  t.same(lat.json(), {
    type: 'urn:setu:problem:validation', title: 'Bad Request', status: 400,
    detail: 'The query string is invalid: lat: latitude must be between -90 and 90',
    instance: '/v1/areas/locate?lat=95&lon=90',
    request_id: lat.headers['x-request-id'],
    errors: [{ path: 'lat', message: 'latitude must be between -90 and 90' }],
  })
  const lon = await app.inject({ url: '/v1/areas/locate?lat=23&lon=-181' })
  t.equal(lon.statusCode, 400)
  t.same(lon.json().errors, [{ path: 'lon', message: 'longitude must be between -180 and 180' }])
  const unknownField = await app.inject({ url: '/v1/areas?colour=red' })
  t.equal(unknownField.statusCode, 400)
  t.same(unknownField.json().errors, [{ path: 'colour', message: 'unknown field "colour"' }])
  const level = await app.inject({ url: '/v1/areas?admin_level=5' })
  t.equal(level.statusCode, 400)
})

t.test('locate answers every containing area, deepest first', async (t) => {
  const { app, db } = await buildTestApp(t)
  await seed(db)
  const res = await app.inject({ url: '/v1/areas/locate?lat=23.5&lon=90.25' })
  t.equal(res.statusCode, 200)
  t.same(pcodes(res), ['BD1001', 'BD10'])
  t.equal(res.json().next_cursor, null)
  t.same((await app.inject({ url: '/v1/areas/locate?lat=0&lon=0' })).json(), { items: [], next_cursor: null })
})

const dhakaFiles = ['BGD_ADM1.geojson', 'BGD_ADM2.geojson', 'BGD_ADM3.geojson', 'BGD_ADM4.geojson']
t.test('locate in real Dhaka polygons answers union, upazila, district, division', { skip: skipWithoutBoundaries(...dhakaFiles) }, async (t) => {
  const { app, db } = await buildTestApp(t)
  const chain = [
    { file: 'BGD_ADM1.geojson', field: 'ADM1_PCODE', code: '30', name: 'Division', parent: undefined },
    { file: 'BGD_ADM2.geojson', field: 'ADM2_PCODE', code: '3026', name: 'District', parent: 'ADM1_PCODE' },
    { file: 'BGD_ADM3.geojson', field: 'ADM3_PCODE', code: '302640', name: 'Upazila', parent: 'ADM2_PCODE' },
    { file: 'BGD_ADM4.geojson', field: 'ADM4_PCODE', code: 'BD30264073', name: 'Union', parent: 'ADM3_PCODE' },
  ]
  for (const [i, level] of chain.entries()) {
    const all = readShared(level.file) as { features: { properties: Record<string, string> }[] }
    const one = all.features.filter((f) => f.properties[level.field] === level.code)
    t.equal(one.length, 1, `${level.code} is in ${level.file}`)
    const report = await importAreas(db, collection(...one), {
      country: 'BGD', level: (i + 1) as 1 | 2 | 3 | 4, codeField: level.field, nameField: level.name, parentField: level.parent, codePrefix: 'BD',
    })
    t.equal(report.inserted, 1)
  }
  const res = await app.inject({ url: '/v1/areas/locate?lat=23.7104&lon=90.4074' })
  t.same(
    res.json().items.map((a: { pcode: string; admin_level: number; name_en: string }) => [a.pcode, a.admin_level, a.name_en]),
    [['BD30264073', 4, 'Ward No-73'], ['BD302640', 3, 'Kotwali'], ['BD3026', 2, 'Dhaka'], ['BD30', 1, 'Dhaka']],
  )
  const union = (await app.inject({ url: '/v1/areas/BD30264073' })).json()
  t.same(union.parents.map((p: { pcode: string }) => p.pcode), ['BD30', 'BD3026', 'BD302640'])
})
