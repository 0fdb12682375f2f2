// Referral links under access control: confidential ends are masked for callers who may not see them (in JSON, in
// GeoJSON, in a provider's links, and in what a writer is answered), and only the owner of the referring provider
// may write a link.
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertLink } from '../helpers/factories.js'
import { insertOwnedProvider, problemJson, repPoint } from './util.js'

type Point = { lat: number; lon: number }
type End = { id: string; location: Point | null; location_visibility: string; location_masked: boolean }
type Link = { id: string; from_provider: End; to_provider: End; version: number }

const SHELTER_AT = { lat: 23.13, lon: 89.17 }
const HIDDEN_AT = { lat: 23.15, lon: 89.05 }

/**
 * Two organisations in the union BD404101 (inside the district BD4041): org A's focal point links to org B's
 * approximate shelter and to its hidden legal aid; org B's clinic links to the shelter.
 */
async function fixture(t: Test) {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89, 23, 89.5, 23.5] })
  await insertArea(db, { pcode: 'BD404101', name_en: 'Union 1', country: 'BGD', admin_level: 4, parent_pcode: 'BD4041', bbox: [89, 23, 89.2, 23.2] })
  await insertArea(db, { pcode: 'BD4042', name_en: 'Satkhira', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89, 22.5, 89.5, 23] })
  const key = {
    viewer: await keyFor(db, 'viewer', { organisation: 'org-a' }),
    analyst: await keyFor(db, 'analyst', { organisation: 'org-c' }),
    editorA: await keyFor(db, 'editor', { organisation: 'org-a' }),
    editorB: await keyFor(db, 'editor', { organisation: 'org-b' }),
    editorAInUnion: await keyFor(db, 'editor', { organisation: 'org-a', areas: ['BD404101'] }),
  }
  const A = key.editorA.organisationId
  const B = key.editorB.organisationId
  const id = {
    focal: await insertOwnedProvider(db, { name: 'A focal point', kind: 'focal_point', categories: ['counselling'], lat: 23.1, lon: 89.1 }, { organisationId: A }),
    farA: await insertOwnedProvider(db, { name: 'A outreach in Satkhira', categories: ['health'], lat: 22.8, lon: 89.3 }, { organisationId: A }),
    shelter: await insertOwnedProvider(db, { name: 'B shelter', categories: ['shelter', 'health'], ...SHELTER_AT }, { organisationId: B }),
    hidden: await insertOwnedProvider(db, { name: 'B legal aid', categories: ['legal'], ...HIDDEN_AT }, { organisationId: B, visibility: 'hidden' }),
    clinic: await insertOwnedProvider(db, { name: 'B clinic', categories: ['health'], lat: 23.3, lon: 89.4 }, { organisationId: B }),
  }
  const link = {
    toShelter: await insertLink(db, { from: id.focal, to: id.shelter, categories: ['shelter'] }),
    toHidden: await insertLink(db, { from: id.focal, to: id.hidden, categories: ['legal'] }),
    bToShelter: await insertLink(db, { from: id.clinic, to: id.shelter, categories: ['health'] }),
  }
  return { app, db, key, id, link, A, B, union: await repPoint(db, 'BD404101') }
}

const get = (app: FastifyInstance, url: string, authorization: string, accept?: string) =>
  app.inject({ url, headers: { authorization, ...(accept ? { accept } : {}) } })

/** The real coordinates of the confidential providers appear nowhere in the body, at any precision down to 0.01°. */
function assertNoLeak(t: Test, body: string, what: string) {
  for (const at of [SHELTER_AT, HIDDEN_AT]) {
    t.notOk(body.includes(String(at.lat)) || body.includes(String(at.lon)), `${what}: no real coordinate of a masked provider`)
  }
}

t.test('link ends are masked for viewers and other organisations, exact for admins, analysts and the owner', async (t) => {
  const { app, key, id, link, union } = await fixture(t)
  const masked = { viewer: key.viewer, 'editor of org A': key.editorA }
  const exact = { admin: undefined, analyst: key.analyst, 'editor of org B (the owner)': key.editorB }

  for (const [who, k] of Object.entries(masked)) {
    const res = await get(app, `/v1/referral-links/${link.toShelter}`, k.authorization)
    t.equal(res.statusCode, 200, who)
    t.equal(res.headers.etag, '"1"', `${who}: the single link sends its ETag`)
    const l: Link = res.json()
    t.same(l.to_provider, { ...l.to_provider, id: id.shelter, location: union, location_visibility: 'approximate', location_masked: true }, `${who}: approximate shelter at the union's point`)
    t.same(l.from_provider.location, { lat: 23.1, lon: 89.1 }, `${who}: an exact provider is shown exactly`)
    t.equal(l.from_provider.location_masked, false)
    assertNoLeak(t, res.body, who)

    const hidden: Link = (await get(app, `/v1/referral-links/${link.toHidden}`, k.authorization)).json()
    t.same([hidden.to_provider.location, hidden.to_provider.location_visibility, hidden.to_provider.location_masked], [null, 'hidden', true], `${who}: hidden end has no point`)
  }
  for (const [who, k] of Object.entries(exact)) {
    const res = k ? await get(app, `/v1/referral-links/${link.toShelter}`, k.authorization) : await app.inject({ url: `/v1/referral-links/${link.toShelter}` })
    const l: Link = res.json()
    t.same([l.to_provider.location, l.to_provider.location_visibility, l.to_provider.location_masked], [SHELTER_AT, 'approximate', false], `${who} sees the shelter exactly`)
    const hidden: Link = (k ? await get(app, `/v1/referral-links/${link.toHidden}`, k.authorization) : await app.inject({ url: `/v1/referral-links/${link.toHidden}` })).json()
    t.same(hidden.to_provider.location, HIDDEN_AT, `${who} sees the hidden provider exactly`)
  }

  const list = await get(app, '/v1/referral-links', key.viewer.authorization)
  t.same(
    list.json().items.map((l: Link) => [l.id, l.to_provider.location]),
    [[link.toShelter, union], [link.toHidden, null], [link.bToShelter, union]],
    'the list masks the same way',
  )
  assertNoLeak(t, list.body, 'list')
  const anonymous = await app.inject({ url: '/v1/referral-links', headers: { authorization: '' } })
  t.equal(anonymous.statusCode, 401, 'links need a key')
})

t.test('GeoJSON lines end at the masked point; a hidden end leaves the link without geometry', async (t) => {
  const { app, key, link, union } = await fixture(t)
  const res = await get(app, '/v1/referral-links?format=geojson', key.editorA.authorization)
  t.equal(res.statusCode, 200)
  const geometry = Object.fromEntries(res.json().features.map((f: { id: string; geometry: unknown }) => [f.id, f.geometry]))
  t.same(geometry[link.toShelter], { type: 'LineString', coordinates: [[89.1, 23.1], [union.lon, union.lat]] })
  t.equal(geometry[link.toHidden], null)
  t.same(geometry[link.bToShelter], { type: 'LineString', coordinates: [[89.4, 23.3], [union.lon, union.lat]] })
  assertNoLeak(t, res.body, 'GeoJSON as another organisation')

  const owner = await get(app, '/v1/referral-links', key.editorB.authorization, 'application/geo+json')
  const ownerGeometry = Object.fromEntries(owner.json().features.map((f: { id: string; geometry: unknown }) => [f.id, f.geometry]))
  t.same(ownerGeometry[link.toShelter], { type: 'LineString', coordinates: [[89.1, 23.1], [SHELTER_AT.lon, SHELTER_AT.lat]] })
  t.same(ownerGeometry[link.toHidden], { type: 'LineString', coordinates: [[89.1, 23.1], [HIDDEN_AT.lon, HIDDEN_AT.lat]] }, 'the owner sees its hidden provider')
})

t.test("a provider's referral links are masked the same way, in JSON and GeoJSON", async (t) => {
  const { app, key, id, link, union } = await fixture(t)
  const url = `/v1/providers/${id.shelter}/referral-links`
  const res = await get(app, url, key.viewer.authorization)
  t.equal(res.statusCode, 200)
  t.same(
    res.json().items.map((l: Link & { direction: string }) => [l.id, l.direction, l.to_provider.location, l.to_provider.location_masked]),
    [[link.toShelter, 'incoming', union, true], [link.bToShelter, 'incoming', union, true]],
  )
  assertNoLeak(t, res.body, 'provider links')
  const geo = await get(app, `${url}?format=geojson`, key.viewer.authorization)
  t.same(geo.json().features.map((f: { geometry: { coordinates: number[][] } }) => f.geometry.coordinates[1]), [[union.lon, union.lat], [union.lon, union.lat]])
  assertNoLeak(t, geo.body, 'provider links GeoJSON')
  const hidden = await get(app, `/v1/providers/${id.hidden}/referral-links?format=geojson`, key.viewer.authorization)
  t.same(hidden.json().features.map((f: { geometry: unknown }) => f.geometry), [null])

  const analyst = await get(app, url, key.analyst.authorization)
  t.same(analyst.json().items.map((l: Link) => l.to_provider.location), [SHELTER_AT, SHELTER_AT])
})

const countRows = async (db: Db) => {
  const { rows } = await db.execute<{ links: number; audit: number; versions: number }>(sql`
    SELECT (SELECT count(*) FROM referral_links) AS links, (SELECT count(*) FROM audit_log) AS audit,
           (SELECT sum(version) FROM referral_links) AS versions`)
  return rows[0]
}

t.test('an editor links from its own providers to anyone, never from another organisation’s', async (t) => {
  const { app, db, key, id, link, A, union } = await fixture(t)
  const post = (authorization: string, from: string, to: string, categories = ['health']) =>
    app.inject({ method: 'POST', url: '/v1/referral-links', headers: { authorization }, payload: { from_provider_id: from, to_provider_id: to, categories, basis: 'informal' } })

  const ok = await post(key.editorA.authorization, id.focal, id.clinic)
  t.equal(ok.statusCode, 201, 'from its own provider to another organisation’s')
  const { rows: audit } = await db.execute<{ key_id: string; organisation_id: string; role: string; action: string }>(
    sql`SELECT key_id, organisation_id, role, action FROM audit_log WHERE entity = 'referral_link' AND entity_id = ${ok.json().id}`,
  )
  t.same(audit, [{ key_id: key.editorA.id, organisation_id: A, role: 'editor', action: 'create' }], 'the audit trail names the editor')

  const toShelter = await post(key.editorA.authorization, id.farA, id.shelter)
  t.equal(toShelter.statusCode, 201)
  t.same(toShelter.json().to_provider.location, union, 'the writer is answered with the masked end')
  t.equal(toShelter.json().to_provider.location_masked, true)

  const before = await countRows(db)
  const refused = await post(key.editorA.authorization, id.clinic, id.focal)
  t.equal(refused.statusCode, 403, 'from another organisation’s provider')
  t.match(refused.headers['content-type'], problemJson)
  t.match(refused.json(), { status: 403, detail: new RegExp(`referring provider ${id.clinic} belongs to another organisation`) })
  for (const [who, k] of [['viewer', key.viewer], ['analyst', key.analyst]] as const) {
    t.equal((await post(k.authorization, id.focal, id.hidden, ['legal'])).statusCode, 403, `a ${who} writes nothing`)
  }
  const outside = await post(key.editorAInUnion.authorization, id.farA, id.focal, ['counselling'])
  t.equal(outside.statusCode, 403, 'an area-limited editor may not link from its own provider outside its areas')
  t.match(outside.json().detail, /outside the areas this key may write \(BD404101\)/)
  t.same(await countRows(db), before, 'refused writes wrote nothing, not even an audit entry')

  const inside = await post(key.editorAInUnion.authorization, id.focal, id.farA)
  t.equal(inside.statusCode, 201, 'inside its areas it may, to a provider outside them')

  const patch = (authorization: string, linkId: string, payload: object, ifMatch?: string) =>
    app.inject({ method: 'PATCH', url: `/v1/referral-links/${linkId}`, headers: { authorization, ...(ifMatch ? { 'if-match': ifMatch } : {}) }, payload })
  const beforePatch = await countRows(db)
  const notTheirs = await patch(key.editorA.authorization, link.bToShelter, { notes: 'taken over' }, '"1"')
  t.equal(notTheirs.statusCode, 403, 'org A may not change org B’s link')
  t.equal((await patch(key.editorB.authorization, link.toShelter, { status: 'inactive' })).statusCode, 403, 'nor org B a link from org A’s provider to its own')
  t.equal((await patch(key.editorA.authorization, link.bToShelter, { notes: 'x' }, '"7"')).statusCode, 403, 'ownership is checked before the version')
  t.same(await countRows(db), beforePatch, 'refused PATCHes changed nothing')

  const own = await patch(key.editorA.authorization, link.toShelter, { notes: 'weekly call' }, '"1"')
  t.equal(own.statusCode, 200)
  t.equal(own.headers.etag, '"2"')
  t.match(own.json(), { notes: 'weekly call', version: 2, to_provider: { location: union, location_masked: true } })
  t.equal((await patch(key.editorA.authorization, link.toShelter, { notes: 'stale' }, '"1"')).statusCode, 412, 'the owner still gets 412 when stale')
  t.equal((await patch(key.editorB.authorization, link.bToShelter, { notes: 'ours' })).statusCode, 200)
  const byAdmin = await app.inject({ method: 'PATCH', url: `/v1/referral-links/${link.bToShelter}`, payload: { notes: 'admin' } })
  t.equal(byAdmin.statusCode, 200, 'an admin writes any link')
  const { rows: updates } = await db.execute<{ role: string; organisation_id: string; before: { notes: string | null }; after: { notes: string } }>(sql`
    SELECT role, organisation_id, before, after FROM audit_log WHERE entity = 'referral_link' AND entity_id = ${link.bToShelter} AND action = 'update' ORDER BY id`)
  t.same(updates.map((u) => [u.role, u.before.notes, u.after.notes]), [['editor', null, 'ours'], ['admin', 'ours', 'admin']])
})
