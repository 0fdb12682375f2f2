import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertLink, insertMou, insertVerifiedProvider } from '../helpers/factories.js'

t.test('the referral network of an area: nodes, edges with health, and its gaps', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89, 23, 89.5, 23.5] })
  const fp = await insertVerifiedProvider(db, { name: 'A focal point', kind: 'focal_point', categories: ['counselling'], lat: 23.1, lon: 89.1 })
  const idle = await insertVerifiedProvider(db, { name: 'B idle focal point', kind: 'focal_point', categories: ['counselling'], lat: 23.2, lon: 89.1 })
  const clinic = await insertVerifiedProvider(db, { name: 'C clinic', categories: ['health'], lat: 23.3, lon: 89.2 })
  const legal = await insertVerifiedProvider(db, { name: 'D legal aid', categories: ['legal'], lat: 23.3, lon: 89.3, verified_on: null })
  await insertVerifiedProvider(db, { name: 'E closed', categories: ['shelter'], lat: 23.4, lon: 89.4, status: 'closed' })
  const outside = await insertVerifiedProvider(db, { name: 'Z Khulna shelter', categories: ['shelter', 'health'], lat: 22.8, lon: 89.55 })
  await insertVerifiedProvider(db, { name: 'Y unrelated', categories: ['legal'], lat: 22.7, lon: 89.6 })
  await insertMou(db, { provider_id: clinic, categories: ['health'] })
  await insertMou(db, { provider_id: outside, categories: ['shelter'] })

  const toClinic = await insertLink(db, { from: fp, to: clinic, categories: ['health'], basis: 'mou' })
  const toOutside = await insertLink(db, { from: clinic, to: outside, categories: ['shelter'] })
  const toLegal = await insertLink(db, { from: outside, to: legal, categories: ['legal'] })

  const res = await app.inject({ url: '/v1/areas/BD4041/network' })
  t.equal(res.statusCode, 200)
  const net = res.json()
  t.same(net.area, { pcode: 'BD4041', name_en: 'Jessore' })
  t.same(
    net.nodes.map((n: { name: string; inside: boolean }) => [n.name, n.inside]),
    [['A focal point', true], ['B idle focal point', true], ['C clinic', true], ['D legal aid', true], ['E closed', true], ['Z Khulna shelter', false]],
  )
  t.same(net.nodes[2].mou_status, { health: 'signed' })
  t.same(net.nodes[3].mou_status, { legal: 'none' })
  t.same(net.nodes[5].mou_status, { shelter: 'signed', health: 'none' })
  t.same(net.edges.map((e: { id: string; health: string }) => [e.id, e.health]), [
    [toClinic, 'ok'],
    [toOutside, 'ok'],
    [toLegal, 'broken'],
  ])
  t.same(net.summary, {
    categories_without_provider: ['shelter', 'livelihood'],
    providers_without_healthy_incoming_link: [{ id: legal, name: 'D legal aid' }],
    focal_points_without_outgoing_link: [{ id: idle, name: 'B idle focal point' }],
    categories_without_mou_backed_provider: ['legal', 'counselling', 'shelter', 'livelihood'],
  })

  const missing = await app.inject({ url: '/v1/areas/XX000/network' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().detail, 'Area XX000 does not exist')
})

t.test('an area with no providers reports every gap', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'KH17', name_en: 'Siem Reap', country: 'KHM', admin_level: 1, bbox: [103.5, 13, 104.2, 13.8] })
  const net = (await app.inject({ url: '/v1/areas/KH17/network' })).json()
  t.same(net.nodes, [])
  t.same(net.edges, [])
  t.same(net.summary.categories_without_provider, ['health', 'legal', 'counselling', 'shelter', 'livelihood'])
})
