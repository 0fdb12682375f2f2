import { sql } from 'drizzle-orm'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { NETWORK_LIMITS } from '../../src/modules/network/service.js'
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

// The network is answered whole, so an area too large for one answer is refused with a 422 that says how to
// narrow it, before any link health is computed. Rows are written in one statement each: the factories would
// take a round trip per row.
const insertProvidersIn = (db: Db, pcode: string, n: number) =>
  db.execute(sql`
    INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes)
    SELECT 'Bulk ' || i, 'bulk ' || i, 'ngo', ARRAY['health'], ST_SetSRID(ST_MakePoint(89.1 + i * 1e-5, 23.1), 4326), ARRAY[${pcode}::text]
    FROM generate_series(1, ${n}::int) i`)

t.test('an area with more providers than one network answer holds is a 422 telling the caller to narrow it', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertProvidersIn(db, 'BD40', NETWORK_LIMITS.providers)
  const atLimit = await app.inject({ url: '/v1/areas/BD40/network' })
  t.equal(atLimit.statusCode, 200, 'exactly at the limit is answered')
  t.equal(atLimit.json().nodes.length, NETWORK_LIMITS.providers)

  await insertProvidersIn(db, 'BD40', 1)
  const res = await app.inject({ url: '/v1/areas/BD40/network' })
  t.equal(res.statusCode, 422)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.same(res.json(), {
    type: 'urn:setu:problem:network-too-large',
    title: 'Unprocessable Content',
    status: 422,
    detail:
      `Area BD40 has more than ${NETWORK_LIMITS.providers} providers, more than one network answer holds. Ask for the ` +
      'network of a smaller area: its children are listed by GET /v1/areas?parent=BD40.',
    instance: '/v1/areas/BD40/network',
    request_id: res.headers['x-request-id'],
    limit: NETWORK_LIMITS.providers,
    errors: [{ path: 'pcode', message: `the area has more than ${NETWORK_LIMITS.providers} providers` }],
  })
})

t.test('an area touched by more referral links than one network answer holds is a 422', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertProvidersIn(db, 'BD40', 60)
  // 60 providers make 60 × 59 ordered pairs, enough for limit + 1 links.
  await db.execute(sql`
    INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis)
    SELECT a.id, b.id, ARRAY['health'], 'informal'
    FROM providers a JOIN providers b ON a.id <> b.id
    ORDER BY a.name, b.name
    LIMIT ${NETWORK_LIMITS.links + 1}`)
  const res = await app.inject({ url: '/v1/areas/BD40/network' })
  t.equal(res.statusCode, 422)
  t.match(res.json(), {
    type: 'urn:setu:problem:network-too-large',
    limit: NETWORK_LIMITS.links,
    detail: new RegExp(`^Area BD40 has more than ${NETWORK_LIMITS.links} referral links`),
  })

  await db.execute(sql`DELETE FROM referral_links WHERE id = (SELECT id FROM referral_links ORDER BY created_at DESC, id LIMIT 1)`)
  const atLimit = await app.inject({ url: '/v1/areas/BD40/network' })
  t.equal(atLimit.statusCode, 200, 'exactly at the limit is answered')
  t.equal(atLimit.json().edges.length, NETWORK_LIMITS.links)
})
