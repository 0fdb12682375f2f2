import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertLink, insertVerifiedProvider } from '../helpers/factories.js'
import { dayOffset } from '../referral-links/util.js'

type LatLon = { lat: number; lon: number }
const haversineM = (a: LatLon, b: LatLon) => {
  const R = 6_371_008.8
  const rad = (d: number) => (d * Math.PI) / 180
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2
  return 2 * R * Math.asin(Math.sqrt(h))
}

/*
 * The graph (→ is a link, [..] what it carries):
 *   F (focal point) → U [counselling] → L1 [legal] → L2 [legal]
 *   F → N1 [health] → L2 [legal]
 *   F → X [health] → L2 [legal]            X offers legal, but F → X does not carry it
 *   U → L3 [legal]                          L3 suspended: broken
 *   N1 → L1 [legal], inactive
 *   F → D [legal], basis mou, D has no MOU: broken
 *   U's funding ends in 30 days: F → U and U → L1 are at risk, still usable
 * Legal from F, by hand: 2 hops F-N1-L2 (≈18.6 km), F-U-L1 (≈20.5 km), F-X-L2 (≈39.5 km); 3 hops F-U-L1-L2.
 */
t.test('pathways on a small hand-built graph', async (t) => {
  const { app, db } = await buildTestApp(t)
  const at: Record<string, LatLon> = {
    F: { lat: 23.0, lon: 90.0 },
    U: { lat: 23.0, lon: 90.1 },
    N1: { lat: 23.1, lon: 90.0 },
    L1: { lat: 23.0, lon: 90.2 },
    L2: { lat: 23.05, lon: 90.05 },
    L3: { lat: 23.01, lon: 90.11 },
    X: { lat: 23.2, lon: 90.0 },
    D: { lat: 23.0, lon: 90.01 },
    G: { lat: 24.0, lon: 91.0 },
  }
  const id: Record<string, string> = {}
  id.F = await insertVerifiedProvider(db, { name: 'F', kind: 'focal_point', categories: ['counselling'], ...at.F })
  id.U = await insertVerifiedProvider(db, { name: 'U', kind: 'government', categories: ['counselling'], funded_until: await dayOffset(db, 30), ...at.U })
  id.N1 = await insertVerifiedProvider(db, { name: 'N1', categories: ['health'], ...at.N1 })
  id.L1 = await insertVerifiedProvider(db, { name: 'L1', categories: ['legal'], ...at.L1 })
  id.L2 = await insertVerifiedProvider(db, { name: 'L2', categories: ['legal'], ...at.L2 })
  id.L3 = await insertVerifiedProvider(db, { name: 'L3', categories: ['legal'], status: 'suspended', ...at.L3 })
  id.X = await insertVerifiedProvider(db, { name: 'X', categories: ['health', 'legal'], ...at.X })
  id.D = await insertVerifiedProvider(db, { name: 'D', categories: ['legal'], ...at.D })
  id.G = await insertVerifiedProvider(db, { name: 'G', kind: 'focal_point', categories: ['counselling'], ...at.G })
  const link = async (from: string, to: string, categories: string[], extra: { basis?: string; status?: string } = {}) =>
    insertLink(db, { from: id[from], to: id[to], categories, ...extra })
  await link('F', 'U', ['counselling'])
  await link('U', 'L1', ['legal'])
  await link('L1', 'L2', ['legal'])
  await link('F', 'N1', ['health'])
  await link('N1', 'L2', ['legal'])
  await link('F', 'X', ['health'])
  await link('X', 'L2', ['legal'])
  await link('U', 'L3', ['legal'])
  await link('N1', 'L1', ['legal'], { status: 'inactive' })
  await link('F', 'D', ['legal'], { basis: 'mou' })

  const name = Object.fromEntries(Object.entries(id).map(([k, v]) => [v, k]))
  const chains = (items: { provider_ids: string[] }[]) => items.map((c) => c.provider_ids.map((p) => name[p]).join('-'))
  const expectedM = (path: string) =>
    path.split('-').slice(1).reduce((sum, p, i, rest) => sum + haversineM(at[i === 0 ? path.split('-')[0] : rest[i - 1]], at[p]), 0)

  const res = await app.inject({ url: `/v1/pathways?from=${id.F}&category=legal` })
  t.equal(res.statusCode, 200)
  const answer = res.json()
  t.equal(answer.start.id, id.F)
  t.equal(answer.start_distance_m, null)
  t.equal(answer.next_cursor, null)
  t.same(chains(answer.items), ['F-N1-L2', 'F-U-L1', 'F-X-L2', 'F-U-L1-L2'])
  t.same(answer.items.map((c: { hops: number }) => c.hops), [2, 2, 2, 3])
  for (const c of answer.items) {
    const path = chains([c])[0]
    t.ok(Math.abs(c.distance_m - expectedM(path)) / expectedM(path) < 0.005, `${path}: ${c.distance_m} m ≈ ${expectedM(path)} m`)
    t.same(c.providers.map((p: { id: string }) => p.id), c.provider_ids)
    t.same(c.links.map((l: { id: string }) => l.id), c.link_ids)
    c.links.forEach((l: { from_provider_id: string; to_provider_id: string; health: string }, i: number) => {
      t.equal(l.from_provider_id, c.provider_ids[i])
      t.equal(l.to_provider_id, c.provider_ids[i + 1])
      t.not(l.health, 'broken')
    })
  }
  const viaU = answer.items[1]
  t.same(viaU.links.map((l: { health: string }) => l.health), ['at_risk', 'at_risk'], 'at-risk links are used and shown')
  t.equal(viaU.links[0].health_reasons[0].code, 'to_funding_ends_soon')

  const two = (await app.inject({ url: `/v1/pathways?from=${id.F}&category=legal&max_hops=2&limit=2` })).json()
  t.same(chains(two.items), ['F-N1-L2', 'F-U-L1'])
  const one = (await app.inject({ url: `/v1/pathways?from=${id.F}&category=legal&max_hops=1` })).json()
  t.same(one.items, [], 'the only direct legal link (to D) is broken')
  const health = (await app.inject({ url: `/v1/pathways?from=${id.F}&category=health` })).json()
  t.same(chains(health.items), ['F-N1', 'F-X'])
  const fromL1 = (await app.inject({ url: `/v1/pathways?from=${id.L1}&category=legal` })).json()
  t.same(chains(fromL1.items), ['L1-L2'])

  const byPoint = (await app.inject({ url: '/v1/pathways?lat=23.001&lon=90.002&category=legal' })).json()
  t.equal(byPoint.start.id, id.F, 'starts at the nearest active focal point')
  t.ok(Math.abs(byPoint.start_distance_m - haversineM({ lat: 23.001, lon: 90.002 }, at.F)) < 2)
  t.same(chains(byPoint.items), chains(answer.items))
  const nearG = (await app.inject({ url: '/v1/pathways?lat=23.9&lon=91.1&category=legal' })).json()
  t.equal(nearG.start.id, id.G)
  t.same(nearG.items, [])

  const missing = await app.inject({ url: '/v1/pathways?from=00000000-0000-4000-8000-000000000000&category=legal' })
  t.equal(missing.statusCode, 404)
  for (const q of [
    'category=legal',
    `from=${id.F}&lat=23&lon=90&category=legal`,
    'lat=23&category=legal',
    `from=${id.F}`,
    `from=${id.F}&category=legal&max_hops=6`,
    `from=${id.F}&category=legal&limit=21`,
    `from=${id.F}&category=legal&max_hops=0`,
  ]) {
    const bad = await app.inject({ url: `/v1/pathways?${q}` })
    t.equal(bad.statusCode, 400, q)
  }
})

t.test('no active focal point to start from is a 404', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertVerifiedProvider(db, { kind: 'focal_point', status: 'closed', categories: ['counselling'], lat: 23, lon: 90 })
  const res = await app.inject({ url: '/v1/pathways?lat=23&lon=90&category=legal' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().detail, 'there is no active focal point to start a pathway from')
})
