import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'
import { providersService } from '../../src/modules/providers/service.js'
import type { ProviderInput } from '../../src/modules/providers/schemas.js'
import { haversineM, minimalProvider, seededRandom } from './helpers.js'

type Item = { id: string; name: string }

t.test('list filters, each with a real count, and pagination across pages', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: '30', name_en: 'Dhaka', country: 'BGD', admin_level: 1, bbox: [89.5, 23, 91, 24.5] })
  await insertArea(db, { pcode: '3026', name_en: 'Dhaka district', country: 'BGD', admin_level: 2, parent_pcode: '30', bbox: [90.2, 23.6, 90.6, 24] })

  const random = seededRandom(42)
  const kinds = ['government', 'ngo', 'community_group', 'focal_point'] as const
  const cats = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
  const statuses = ['active', 'active', 'suspended', 'closed'] as const
  const inputs: ProviderInput[] = []
  for (let i = 0; i < 137; i++) {
    inputs.push({
      // duplicate names on purpose: pagination must still be stable via the id tie-breaker
      name: `Provider ${String(i % 60).padStart(3, '0')}`,
      kind: kinds[i % kinds.length],
      categories: [cats[i % 5], ...(i % 3 === 0 ? [cats[(i + 2) % 5]] : [])],
      location: { lat: 23 + random() * 1.5, lon: 89.5 + random() * 1.5 },
      status: statuses[i % statuses.length],
      funded_until: i % 4 === 0 ? null : `2025-${String((i % 12) + 1).padStart(2, '0')}-15`,
      verification: i % 5 === 0 ? null : { on: `2024-${String((i % 12) + 1).padStart(2, '0')}-01`, method: 'phone_call', by: null },
      external_ids: [{ scheme: 'test', id: String(i) }],
    })
  }
  const { ids } = await providersService(db).createMany(inputs)
  const all = inputs.map((p, i) => ({ ...p, id: ids[i] }))

  async function listAll(query: string): Promise<Item[]> {
    const items: Item[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: { statusCode: number; body: string; json: () => unknown } = await app.inject({
        url: `/v1/providers?${query}&limit=10${cursor ? `&cursor=${cursor}` : ''}`,
      })
      t.equal(res.statusCode, 200, query)
      const page = res.json() as { items: Item[]; next_cursor: string | null }
      items.push(...page.items)
      cursor = page.next_cursor
      pages++
    } while (cursor && pages < 100)
    return items
  }

  const expectIds = (items: Item[], expected: typeof all, label: string) => {
    const sorted = [...expected].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
    t.equal(items.length, expected.length, `${label}: ${expected.length} providers`)
    t.same(items.map((p) => p.id), sorted.map((p) => p.id), `${label}: same providers, ordered by name then id`)
  }

  const everything = await listAll('')
  expectIds(everything, all, 'no filter, 14 pages')
  t.equal(new Set(everything.map((p) => p.id)).size, 137, 'no duplicates across pages')

  expectIds(await listAll('category=shelter'), all.filter((p) => p.categories.includes('shelter')), 'category')
  expectIds(await listAll('kind=focal_point'), all.filter((p) => p.kind === 'focal_point'), 'kind')
  expectIds(await listAll('status=suspended'), all.filter((p) => p.status === 'suspended'), 'status')
  expectIds(await listAll('category=legal&status=active'), all.filter((p) => p.categories.includes('legal') && p.status === 'active'), 'category AND status')
  expectIds(await listAll('funded_after=2025-06-01'), all.filter((p) => p.funded_until && p.funded_until >= '2025-06-01'), 'funded_after (null does not match)')
  expectIds(await listAll('verified_since=2024-10-01'), all.filter((p) => p.verification && p.verification.on >= '2024-10-01'), 'verified_since')
  expectIds(await listAll('external_id=test:17'), all.filter((p) => p.external_ids![0].id === '17'), 'external_id')

  const inBox = (p: (typeof all)[number]) => p.location.lon >= 90 && p.location.lon <= 90.5 && p.location.lat >= 23.5 && p.location.lat <= 24
  expectIds(await listAll('bbox=90,23.5,90.5,24'), all.filter(inBox), 'bbox')

  const inDistrict = (p: (typeof all)[number]) => p.location.lon >= 90.2 && p.location.lon <= 90.6 && p.location.lat >= 23.6 && p.location.lat <= 24
  expectIds(await listAll('area=3026'), all.filter(inDistrict), 'area at level 2')
  expectIds(await listAll('area=30'), all, 'area at level 1')

  // haversine is within 0.6 % of the spheroid; stay clear of the edge when counting
  const centre = { lat: 23.75, lon: 90.25 }
  const near = all.filter((p) => haversineM(centre, p.location) < 30_000)
  t.ok(all.every((p) => Math.abs(haversineM(centre, p.location) - 30_000) > 200), 'no provider sits on the radius edge')
  expectIds(await listAll('lat=23.75&lon=90.25&radius_km=30'), near, 'lat+lon+radius_km')

  const unknownArea = await app.inject({ url: '/v1/providers?area=9999' })
  t.equal(unknownArea.statusCode, 404)
  t.equal(unknownArea.json().detail, 'Area 9999 does not exist')

  for (const [query, path] of [
    ['lat=23&lon=90', 'radius_km'],
    ['radius_km=5', 'radius_km'],
    ['q=a', 'q'],
    ['category=food', 'category'],
    ['kind=church', 'kind'],
    ['bbox=1,2,3', 'bbox'],
    ['funded_after=soon', 'funded_after'],
    ['external_id=nocolon', 'external_id'],
    ['limit=501', 'limit'],
    ['colour=red', 'colour'],
  ]) {
    const res = await app.inject({ url: `/v1/providers?${query}` })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { type: 'urn:setu:problem:validation', errors: [{ path }] }, query)
  }
  const badCursor = await app.inject({ url: '/v1/providers?cursor=garbage' })
  t.equal(badCursor.statusCode, 400)
  t.same(badCursor.json().errors, [{ path: 'cursor', message: 'invalid cursor' }])
})

t.test('list answers GeoJSON when asked', async (t) => {
  const { app } = await buildTestApp(t)
  const a = (await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider({ name: 'A' }) })).json()
  await app.inject({ method: 'POST', url: '/v1/providers', payload: minimalProvider({ name: 'B' }) })
  for (const req of [{ url: '/v1/providers?limit=1&format=geojson' }, { url: '/v1/providers?limit=1', headers: { accept: 'application/geo+json' } }]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/geo\+json/)
    const fc = res.json()
    t.equal(fc.type, 'FeatureCollection')
    t.equal(fc.numberReturned, 1)
    t.type(fc.next_cursor, 'string')
    const { location, ...properties } = a
    t.same(fc.features, [{ type: 'Feature', id: a.id, geometry: { type: 'Point', coordinates: [location.lon, location.lat] }, properties }])
  }
  const json = await app.inject({ url: '/v1/providers?limit=1' })
  t.match(json.headers['content-type'], /^application\/json/)
  t.same(Object.keys(json.json()), ['items', 'next_cursor'])
})
