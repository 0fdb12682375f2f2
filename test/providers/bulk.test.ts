import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'
import { minimalProvider, providerCount, seededRandom } from './helpers.js'

const rows = (n: number, seed = 1) => {
  const random = seededRandom(seed)
  return Array.from({ length: n }, (_, i) =>
    minimalProvider({
      name: `Bulk ${i}`,
      names: { bn: `সেবা ${i}` },
      categories: i % 2 ? ['health'] : ['shelter', 'legal'],
      location: { lat: 20.6 + random() * 6, lon: 88 + random() * 4.6 },
      external_ids: [{ scheme: 'import', id: String(i) }],
    }),
  )
}

t.test('one bad row among 100: 422 listing every bad row, nothing written', async (t) => {
  const { app, db } = await buildTestApp(t)
  const providers: unknown[] = rows(100)
  providers[37] = { ...(providers[37] as object), location: { lat: 91, lon: 90 } }
  providers[64] = { ...(providers[64] as object), kind: 'church', colour: 'red' }
  const res = await app.inject({ method: 'POST', url: '/v1/providers/bulk', payload: { providers } })
  t.equal(res.statusCode, 422)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.detail, '2 of 100 providers are invalid; nothing was written')
  t.same(body.errors, [
    { index: 37, path: 'providers.37.location.lat', message: 'latitude must be between -90 and 90' },
    { index: 64, path: 'providers.64.kind', message: body.errors[1].message },
    { index: 64, path: 'providers.64.colour', message: 'unknown field "colour"' },
  ])
  t.match(body.errors[1].message, /government/)
  t.equal(await providerCount(db), 0)
})

t.test('a malformed bulk envelope is a 400', async (t) => {
  const { app, db } = await buildTestApp(t)
  for (const payload of [{}, { providers: [] }, { providers: {} }, { providers: rows(1), extra: 1 }]) {
    const res = await app.inject({ method: 'POST', url: '/v1/providers/bulk', payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
  }
  const tooMany = await app.inject({ method: 'POST', url: '/v1/providers/bulk', payload: { providers: Array(5001).fill({}) } })
  t.equal(tooMany.statusCode, 400)
  t.same(tooMany.json().errors, [{ path: 'providers', message: 'at most 5,000 providers per request' }])
  t.equal(await providerCount(db), 0)
})

t.test('5,000 rows in one request are all written with their areas', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: '30', name_en: 'Dhaka', country: 'BGD', admin_level: 1, bbox: [88, 20.6, 90.3, 26.6] })
  const providers = rows(5000, 7)
  const started = performance.now()
  const res = await app.inject({ method: 'POST', url: '/v1/providers/bulk', payload: { providers } })
  const ms = performance.now() - started
  t.comment(`bulk insert of 5,000 providers: ${Math.round(ms)} ms (not asserted)`)
  t.equal(res.statusCode, 201, 'bulk answers 201')
  const body = res.json()
  t.equal(body.created, 5000)
  t.equal(body.items.length, 5000)
  t.same(body.items[4999].name, 'Bulk 4999')
  t.equal(await providerCount(db), 5000)

  const west = providers.filter((p) => (p.location as { lon: number }).lon <= 90.3).length
  const inArea = await app.inject({ url: '/v1/providers?area=30&limit=1' })
  t.equal(inArea.statusCode, 200)
  const got = await app.inject({ url: `/v1/providers/${body.items[123].id}` })
  t.same(got.json().location, providers[123].location)
  t.equal(got.json().names.bn, 'সেবা 123')
  t.same(got.json().areas.map((a: { pcode: string }) => a.pcode), (providers[123].location as { lon: number }).lon <= 90.3 ? ['30'] : [])
  const { rows: counted } = await db.$client.query(`SELECT count(*)::int AS n FROM providers WHERE area_pcodes @> '{30}'`)
  t.equal(counted[0].n, west, 'area_pcodes computed for every bulk row')
})
