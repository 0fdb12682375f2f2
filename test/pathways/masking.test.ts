// Pathways show confidential providers masked: their points, and every distance that could locate them, rounded.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertLink } from '../helpers/factories.js'
import { distanceBetween, insertOwnedProvider, repPoint } from '../referral-links/util.js'

type Point = { lat: number; lon: number }
type End = { id: string; location: Point | null; location_masked: boolean }
type Chain = { provider_ids: string[]; distance_m: number; providers: End[]; links: { to_provider: End }[] }

const SHELTER_AT = { lat: 23.12, lon: 90.15 }

t.test('a chain through a masked provider shows it masked and its distance in whole kilometres', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD30', name_en: 'Dhaka', country: 'BGD', admin_level: 1, bbox: [89.9, 22.9, 90.2, 23.2] })
  const key = {
    viewer: await keyFor(db, 'viewer', { organisation: 'org-a' }),
    editorA: await keyFor(db, 'editor', { organisation: 'org-a' }),
    editorB: await keyFor(db, 'editor', { organisation: 'org-b' }),
    analyst: await keyFor(db, 'analyst', { organisation: 'org-c' }),
  }
  const A = key.editorA.organisationId
  const B = key.editorB.organisationId
  const focal = await insertOwnedProvider(db, { name: 'F', kind: 'focal_point', categories: ['counselling'], lat: 23.0, lon: 90.0 }, { organisationId: A })
  const union = await insertOwnedProvider(db, { name: 'U', kind: 'government', categories: ['counselling'], lat: 23.03, lon: 90.02 }, { organisationId: A })
  const shelter = await insertOwnedProvider(db, { name: 'S', categories: ['shelter'], ...SHELTER_AT }, { organisationId: B })
  const clinic = await insertOwnedProvider(db, { name: 'C', categories: ['health'], lat: 23.01, lon: 90.013 }, { organisationId: B })
  // A focal point its organisation keeps approximate, in a place of its own.
  const quiet = await insertOwnedProvider(db, { name: 'Q', kind: 'focal_point', categories: ['counselling'], lat: 22.95, lon: 90.17 }, { organisationId: B, visibility: 'approximate' })
  await insertLink(db, { from: focal, to: shelter, categories: ['shelter'] })
  await insertLink(db, { from: focal, to: union, categories: ['counselling'] })
  await insertLink(db, { from: union, to: shelter, categories: ['shelter'] })
  await insertLink(db, { from: focal, to: clinic, categories: ['health'] })
  await insertLink(db, { from: quiet, to: clinic, categories: ['health'] })
  const areaPoint = await repPoint(db, 'BD30')

  const direct = await distanceBetween(db, focal, shelter)
  const viaUnion = (await distanceBetween(db, focal, union)) + (await distanceBetween(db, union, shelter))
  const toClinic = await distanceBetween(db, focal, clinic)
  t.ok(direct % 1000 > 1 && viaUnion % 1000 > 1 && toClinic % 1000 > 1, 'real distances are not whole kilometres, so rounding shows')

  const pathways = (app: FastifyInstance, query: string, authorization?: string) =>
    app.inject({ url: `/v1/pathways?${query}`, ...(authorization ? { headers: { authorization } } : {}) })

  for (const [who, authorization] of [['viewer', key.viewer.authorization], ['editor of org A', key.editorA.authorization]] as const) {
    const res = await pathways(app, `from=${focal}&category=shelter`, authorization)
    t.equal(res.statusCode, 200, who)
    const chains: Chain[] = res.json().items
    t.same(chains.map((c) => c.provider_ids), [[focal, shelter], [focal, union, shelter]], `${who}: the same chains, found on real points`)
    t.same(chains.map((c) => c.distance_m), [Math.round(direct / 1000) * 1000, Math.round(viaUnion / 1000) * 1000], `${who}: distances in whole kilometres`)
    for (const c of chains) {
      t.same(c.providers.at(-1), { ...c.providers.at(-1), location: areaPoint, location_masked: true }, `${who}: the shelter at its area's point`)
      t.same(c.links.at(-1)!.to_provider.location, areaPoint, `${who}: the link to it too`)
    }
    t.notOk(res.body.includes(String(SHELTER_AT.lat)) || res.body.includes(String(SHELTER_AT.lon)), `${who}: no real coordinate`)

    const exactChain = (await pathways(app, `from=${focal}&category=health`, authorization)).json().items
    t.same(exactChain.map((c: Chain) => c.distance_m), [toClinic], `${who}: a chain of exact providers keeps its exact distance`)
  }

  for (const [who, authorization] of [['admin', undefined], ['analyst', key.analyst.authorization], ['editor of org B (the owner)', key.editorB.authorization]] as const) {
    const chains: Chain[] = (await pathways(app, `from=${focal}&category=shelter`, authorization)).json().items
    t.ok(Math.abs(chains[0].distance_m - direct) < 1e-6 && Math.abs(chains[1].distance_m - viaUnion) < 1e-6, `${who}: exact distances`)
    t.same(chains[0].providers[1].location, SHELTER_AT, `${who}: the exact point`)
  }

  // From a point, the nearest focal point is Q, whose location org B keeps approximate.
  const here = { lat: 22.951, lon: 90.172 }
  const fromHere = (await pathways(app, `lat=${here.lat}&lon=${here.lon}&category=health`, key.viewer.authorization)).json()
  t.equal(fromHere.start.id, quiet, 'the start is chosen on the real points')
  t.same([fromHere.start.location, fromHere.start.location_masked], [areaPoint, true])
  t.equal(fromHere.start_distance_m % 1000, 0, 'the distance to a masked start is whole kilometres')
  t.equal(fromHere.items[0].distance_m % 1000, 0, 'and so is a chain from it')
  const ownerView = (await pathways(app, `lat=${here.lat}&lon=${here.lon}&category=health`, key.editorB.authorization)).json()
  t.ok(ownerView.start_distance_m > 0 && ownerView.start_distance_m < 500 && ownerView.start_distance_m % 1000 !== 0, 'the owner sees the exact distance')
})
