// GET /v1/providers/nearest?not_kind=…: only providers of none of the given kinds. The field page asks with
// not_kind=focal_point, so that a Union Parishad member next door does not come before the nearest counsellor.
import t from 'tap'
import { ProviderKind, type ProviderInput } from '../../src/modules/providers/schemas.js'
import { providersService } from '../../src/modules/providers/service.js'
import { buildTestApp } from '../helpers/app.js'
import { minimalProvider } from './helpers.js'

const KINDS = ProviderKind.options
const here = { lat: 23.81, lon: 90.41 }

t.test('not_kind leaves out the kinds named, nearest first, with the other filters', async (t) => {
  const { app, db } = await buildTestApp(t, {}, { auth: 'none' })
  // East of the point along its parallel, one every 0.6 km, kinds in turn: the order by distance is the order of km.
  const rows = Array.from({ length: 28 }, (_, i) => ({
    km: 0.4 + i * 0.6,
    kind: KINDS[i % KINDS.length],
    category: i % 2 ? 'counselling' : 'legal',
  }))
  const inputs = rows.map((r, i) => ({
    ...(minimalProvider({ name: `P${i}`, location: { lat: here.lat, lon: here.lon + r.km / 101.9 } }) as ProviderInput),
    kind: r.kind,
    categories: [r.category],
  })) as ProviderInput[]
  const { ids } = await providersService(db).createMany(inputs)
  const withIds = rows.map((r, i) => ({ ...r, id: ids[i] }))

  const ask = async (query: string) => {
    const res = await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=100&${query}` })
    t.equal(res.statusCode, 200, query)
    return res.json().items.map((p: { id: string }) => p.id) as string[]
  }
  const expected = (excluded: string[], category?: string) =>
    withIds.filter((r) => !excluded.includes(r.kind) && (!category || r.category === category)).sort((a, b) => a.km - b.km).map((r) => r.id)

  t.same(await ask('not_kind=focal_point'), expected(['focal_point']))
  t.ok(expected(['focal_point']).length < rows.length, 'the sample has focal points to leave out')
  t.same(await ask('not_kind=focal_point,private'), expected(['focal_point', 'private']), 'comma-separated')
  t.same(await ask('not_kind=private&not_kind=focal_point'), expected(['focal_point', 'private']), 'repeated')
  t.same(await ask('not_kind=focal_point&category=counselling'), expected(['focal_point'], 'counselling'), 'with a category (its partial index)')
  t.same(await ask(`not_kind=${KINDS.join(',')}`), [], 'every kind left out: nothing')
  const first = (await app.inject({ url: `/v1/providers/nearest?lat=${here.lat}&lon=${here.lon}&limit=1` })).json().items[0]
  t.equal(first.kind, KINDS[0], 'without the filter the nearest is the first kind')
})

t.test('not_kind takes only the provider kinds', async (t) => {
  const { app } = await buildTestApp(t, {}, { auth: 'none' })
  for (const value of ['shop', 'focal_point,', '', 'FOCAL_POINT', 'ngo,teacher']) {
    const res = await app.inject({ url: `/v1/providers/nearest?lat=23&lon=90&not_kind=${encodeURIComponent(value)}` })
    t.equal(res.statusCode, 400, JSON.stringify(value))
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { errors: [{ path: 'not_kind' }] }, JSON.stringify(value))
  }
})
