// The area network shows confidential providers masked, in its nodes and its edges alike.
import t from 'tap'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertLink } from '../helpers/factories.js'
import { insertOwnedProvider, repPoint } from '../referral-links/util.js'

type Point = { lat: number; lon: number }
type End = { id: string; location: Point | null; location_visibility: string; location_masked: boolean }

const SHELTER_AT = { lat: 23.13, lon: 89.17 }
const HIDDEN_AT = { lat: 23.15, lon: 89.05 }

t.test('network nodes and edges are masked for viewers and other organisations, exact for admins, analysts and the owner', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89, 23, 89.5, 23.5] })
  const key = {
    viewer: await keyFor(db, 'viewer', { organisation: 'org-b' }),
    editorA: await keyFor(db, 'editor', { organisation: 'org-a' }),
    editorB: await keyFor(db, 'editor', { organisation: 'org-b' }),
    analyst: await keyFor(db, 'analyst', { organisation: 'org-c' }),
  }
  const A = key.editorA.organisationId
  const B = key.editorB.organisationId
  const focal = await insertOwnedProvider(db, { name: 'A focal point', kind: 'focal_point', categories: ['counselling'], lat: 23.1, lon: 89.1 }, { organisationId: A })
  const shelter = await insertOwnedProvider(db, { name: 'B shelter', categories: ['shelter'], ...SHELTER_AT }, { organisationId: B })
  const hidden = await insertOwnedProvider(db, { name: 'C legal aid', categories: ['legal'], ...HIDDEN_AT }, { organisationId: B, visibility: 'hidden' })
  await insertLink(db, { from: focal, to: shelter, categories: ['shelter'] })
  await insertLink(db, { from: focal, to: hidden, categories: ['legal'] })
  const district = await repPoint(db, 'BD4041')

  const network = (authorization?: string) =>
    app.inject({ url: '/v1/areas/BD4041/network', ...(authorization ? { headers: { authorization } } : {}) })
  const located = (ends: End[]) => Object.fromEntries(ends.map((e) => [e.id, [e.location, e.location_masked]]))

  for (const [who, authorization] of [['viewer', key.viewer.authorization], ['editor of org A', key.editorA.authorization]] as const) {
    const res = await network(authorization)
    t.equal(res.statusCode, 200, who)
    const net = res.json()
    t.same(located(net.nodes), {
      [focal]: [{ lat: 23.1, lon: 89.1 }, false],
      [shelter]: [district, true],
      [hidden]: [null, true],
    }, `${who}: nodes masked`)
    t.same(net.nodes.map((n: End) => n.location_visibility), ['exact', 'approximate', 'hidden'])
    t.same(located(net.edges.map((e: { to_provider: End }) => e.to_provider)), { [shelter]: [district, true], [hidden]: [null, true] }, `${who}: edges masked`)
    for (const at of [SHELTER_AT, HIDDEN_AT]) {
      t.notOk(res.body.includes(String(at.lat)) || res.body.includes(String(at.lon)), `${who}: no real coordinate`)
    }
  }
  for (const [who, authorization] of [['admin', undefined], ['analyst', key.analyst.authorization], ['editor of org B (the owner)', key.editorB.authorization]] as const) {
    const net = (await network(authorization)).json()
    t.same(located(net.nodes), { [focal]: [{ lat: 23.1, lon: 89.1 }, false], [shelter]: [SHELTER_AT, false], [hidden]: [HIDDEN_AT, false] }, `${who}: exact nodes`)
    t.same(located(net.edges.map((e: { to_provider: End }) => e.to_provider)), { [shelter]: [SHELTER_AT, false], [hidden]: [HIDDEN_AT, false] }, `${who}: exact edges`)
  }
})
