// Who may write which provider: editors their own organisation's (inside their areas when the key is limited),
// admins any; a refused write answers 403 and changes nothing, and every write is recorded as made by its key.
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'
import { minimalProvider, providerCount, tableSnapshot } from './helpers.js'

// Two districts of one division; the area-limited editor may write only in Jessore.
const inJessore = { lat: 23.17, lon: 89.21 }
const alsoInJessore = { lat: 23.25, lon: 89.3 }
const inNarail = { lat: 23.17, lon: 89.7 }
const nowhere = { lat: 11.55, lon: 104.92 }

async function setup(t: Test) {
  const { app, db, adminAuthorization } = await buildTestApp(t, {}, { auth: 'none' })
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 22, 90.5, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })
  await insertArea(db, { pcode: 'BD4065', name_en: 'Narail', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89.5, 22.8, 90, 23.4] })
  const keys = {
    admin: { authorization: adminAuthorization },
    editorA: await keyFor(db, 'editor', { organisation: 'org-a' }),
    editorB: await keyFor(db, 'editor', { organisation: 'org-b' }),
    limitedA: await keyFor(db, 'editor', { organisation: 'org-a', areas: ['BD4041'] }),
    analyst: await keyFor(db, 'analyst', { organisation: 'org-a' }),
    viewer: await keyFor(db, 'viewer', { organisation: 'org-a' }),
  }
  const as = (key: keyof typeof keys) => ({ authorization: keys[key].authorization })
  const create = async (key: keyof typeof keys, payload: object) => {
    const res = await app.inject({ method: 'POST', url: '/v1/providers', headers: as(key), payload })
    t.equal(res.statusCode, 201, res.body)
    return res.json() as { id: string; organisation_id: string; version: number; updated_at: string }
  }
  const auditCount = async () => Number((await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_log`)).rows[0].n)
  /** Runs `refused` and checks it answers 403 and that neither the providers nor the audit trail changed. */
  const refused = async (label: string, request: () => Promise<{ statusCode: number; body: string; json(): unknown }>) => {
    const [before, audited] = [await tableSnapshot(db), await auditCount()]
    const res = await request()
    t.equal(res.statusCode, 403, `${label}: ${res.body}`)
    t.match(res.json(), { type: 'urn:setu:problem:forbidden', status: 403 })
    t.equal(await tableSnapshot(db), before, `${label}: nothing written`)
    t.equal(await auditCount(), audited, `${label}: nothing audited`)
    return res.json() as { detail: string; errors?: Array<{ index: number; path: string; message: string }> }
  }
  return { app, db, keys, as, create, refused }
}

t.test("an editor writes its own organisation's providers and no other's", async (t) => {
  const { app, keys, as, create, refused } = await setup(t)
  const a = await create('editorA', minimalProvider({ name: 'A clinic', location: inJessore }))
  t.equal(a.organisation_id, keys.editorA.organisationId, "an editor's provider belongs to its organisation")
  const b = await create('editorB', minimalProvider({ name: 'B clinic', location: inNarail, address: 'Road 2' }))
  t.equal(b.organisation_id, keys.editorB.organisationId)

  for (const request of [
    { method: 'PATCH' as const, payload: { notes: 'taken over' } },
    { method: 'PATCH' as const, payload: { organisation_id: keys.editorA.organisationId } },
    { method: 'DELETE' as const },
  ]) {
    const body = await refused(`editor A ${request.method} ${JSON.stringify(request.payload ?? {})} of B's provider`, () =>
      app.inject({ method: request.method, url: `/v1/providers/${b.id}`, headers: as('editorA'), ...(request.payload ? { payload: request.payload } : {}) }),
    )
    t.match(body.detail, /belongs to another organisation/)
  }
  const unchanged = (await app.inject({ url: `/v1/providers/${b.id}`, headers: as('editorB') })).json()
  t.match(unchanged, { version: b.version, updated_at: b.updated_at, status: 'active', notes: null })

  for (const role of ['analyst', 'viewer'] as const) {
    await refused(`${role} PATCH`, () => app.inject({ method: 'PATCH', url: `/v1/providers/${a.id}`, headers: as(role), payload: { notes: 'x' } }))
    await refused(`${role} POST`, () => app.inject({ method: 'POST', url: '/v1/providers', headers: as(role), payload: minimalProvider() }))
  }

  const patched = await app.inject({ method: 'PATCH', url: `/v1/providers/${a.id}`, headers: { ...as('editorA'), 'if-match': '"1"' }, payload: { notes: 'ours' } })
  t.equal(patched.statusCode, 200)
  t.equal(patched.json().version, 2)
  const admin = await app.inject({ method: 'PATCH', url: `/v1/providers/${b.id}`, headers: as('admin'), payload: { notes: 'checked' } })
  t.equal(admin.statusCode, 200, 'an admin writes any provider')
})

t.test('organisation_id: admins create for and transfer to any organisation, editors only their own', async (t) => {
  const { app, db, keys, as, create, refused } = await setup(t)
  const forB = await create('admin', minimalProvider({ organisation_id: keys.editorB.organisationId }))
  t.equal(forB.organisation_id, keys.editorB.organisationId, 'an admin creates for another organisation')
  const own = await create('editorA', minimalProvider({ organisation_id: keys.editorA.organisationId }))
  t.equal(own.organisation_id, keys.editorA.organisationId, 'an editor may name its own organisation')

  const body = await refused('editor A creating for org-b', () =>
    app.inject({ method: 'POST', url: '/v1/providers', headers: as('editorA'), payload: minimalProvider({ organisation_id: keys.editorB.organisationId }) }),
  )
  t.match(body.detail, /own organisation/)

  const before = await providerCount(db)
  const unknown = await app.inject({
    method: 'POST', url: '/v1/providers', headers: as('admin'),
    payload: minimalProvider({ organisation_id: '6f1c1b7e-4c59-4f8e-9a3e-2b1d7c3e5a10' }),
  })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.json(), { errors: [{ path: 'organisation_id', message: /does not exist/ }] })
  t.equal(await providerCount(db), before, 'an unknown organisation writes nothing')

  await refused('editor A transferring its own provider to org-b', () =>
    app.inject({ method: 'PATCH', url: `/v1/providers/${own.id}`, headers: as('editorA'), payload: { organisation_id: keys.editorB.organisationId } }),
  )
  const transferred = await app.inject({
    method: 'PATCH', url: `/v1/providers/${own.id}`, headers: as('admin'), payload: { organisation_id: keys.editorB.organisationId },
  })
  t.equal(transferred.statusCode, 200)
  t.equal(transferred.json().organisation_id, keys.editorB.organisationId, 'an admin transfers a provider')
  await refused('editor A after the transfer', () =>
    app.inject({ method: 'PATCH', url: `/v1/providers/${own.id}`, headers: as('editorA'), payload: { notes: 'x' } }),
  )
  const byB = await app.inject({ method: 'PATCH', url: `/v1/providers/${own.id}`, headers: as('editorB'), payload: { notes: 'ours now' } })
  t.equal(byB.statusCode, 200, "the new organisation's editor writes it")
})

t.test('an area-limited editor writes only inside its areas, as stored and as written', async (t) => {
  const { app, db, as, create, refused } = await setup(t)
  const inside = await create('limitedA', minimalProvider({ name: 'Inside', location: inJessore }))
  const outsideByA = await create('editorA', minimalProvider({ name: 'Narail office', location: inNarail }))

  for (const [label, location] of [['in another district', inNarail], ['outside every area', nowhere]] as const) {
    const body = await refused(`create ${label}`, () =>
      app.inject({ method: 'POST', url: '/v1/providers', headers: as('limitedA'), payload: minimalProvider({ location }) }),
    )
    t.match(body.detail, /outside the areas this key may write \(BD4041\)/)
  }
  await refused('a move out of its areas', () =>
    app.inject({ method: 'PATCH', url: `/v1/providers/${inside.id}`, headers: as('limitedA'), payload: { location: inNarail } }),
  )
  await refused("its organisation's provider outside its areas", () =>
    app.inject({ method: 'PATCH', url: `/v1/providers/${outsideByA.id}`, headers: as('limitedA'), payload: { notes: 'x' } }),
  )
  await refused('closing one outside its areas', () => app.inject({ method: 'DELETE', url: `/v1/providers/${outsideByA.id}`, headers: as('limitedA') }))
  await refused("moving one in from outside", () =>
    app.inject({ method: 'PATCH', url: `/v1/providers/${outsideByA.id}`, headers: as('limitedA'), payload: { location: inJessore } }),
  )

  const moved = await app.inject({ method: 'PATCH', url: `/v1/providers/${inside.id}`, headers: as('limitedA'), payload: { location: alsoInJessore } })
  t.equal(moved.statusCode, 200, 'a move inside its areas')
  t.same(moved.json().location, alsoInJessore)
  const closed = await app.inject({ method: 'DELETE', url: `/v1/providers/${inside.id}`, headers: { ...as('limitedA'), 'if-match': '"2"' } })
  t.equal(closed.statusCode, 200)
  t.equal(closed.json().status, 'closed')
  t.equal(await providerCount(db), 2)
})

t.test('bulk: one row the key may not write refuses the whole request, naming the rows', async (t) => {
  const { app, db, keys, as, refused } = await setup(t)
  const rows = [inJessore, inNarail, alsoInJessore, nowhere].map((location, i) => minimalProvider({ name: `Row ${i}`, location }))

  const outside = await refused('bulk with rows outside the areas', () =>
    app.inject({ method: 'POST', url: '/v1/providers/bulk', headers: as('limitedA'), payload: { providers: rows } }),
  )
  t.equal(outside.detail, '2 of 4 providers may not be written by this key; nothing was written')
  t.same(outside.errors!.map((e) => [e.index, e.path]), [[1, 'providers.1'], [3, 'providers.3']])
  t.ok(outside.errors!.every((e) => /outside the areas this key may write/.test(e.message)))

  const otherOrg = await refused('bulk naming another organisation', () =>
    app.inject({
      method: 'POST', url: '/v1/providers/bulk', headers: as('editorA'),
      payload: { providers: [rows[0], { ...rows[2], organisation_id: keys.editorB.organisationId }] },
    }),
  )
  t.same(otherOrg.errors!.map((e) => [e.index, e.path]), [[1, 'providers.1.organisation_id']])

  const inside = await app.inject({ method: 'POST', url: '/v1/providers/bulk', headers: as('limitedA'), payload: { providers: [rows[0], rows[2]] } })
  t.equal(inside.statusCode, 201)
  const forB = await app.inject({
    method: 'POST', url: '/v1/providers/bulk', headers: as('admin'),
    payload: { providers: rows.map((r) => ({ ...r, organisation_id: keys.editorB.organisationId })) },
  })
  t.equal(forB.statusCode, 201)
  const { rows: owners } = await db.execute<{ organisation_id: string; n: number }>(
    sql`SELECT organisation_id, count(*)::int AS n FROM providers GROUP BY organisation_id ORDER BY n`,
  )
  t.same(owners, [
    { organisation_id: keys.limitedA.organisationId, n: 2 },
    { organisation_id: keys.editorB.organisationId, n: 4 },
  ])
})

t.test('DELETE with If-Match: a stale version is a 412 and closes nothing', async (t) => {
  const { app, db, as, create } = await setup(t)
  const p = await create('editorA', minimalProvider())
  await app.inject({ method: 'PATCH', url: `/v1/providers/${p.id}`, headers: as('editorA'), payload: { notes: 'v2' } })
  const before = await tableSnapshot(db)
  const stale = await app.inject({ method: 'DELETE', url: `/v1/providers/${p.id}`, headers: { ...as('editorA'), 'if-match': '"1"' } })
  t.equal(stale.statusCode, 412)
  t.match(stale.json(), { type: 'urn:setu:problem:precondition-failed', status: 412, current_version: 2, detail: /version 2, not 1/ })
  t.equal(await tableSnapshot(db), before, 'a 412 closes nothing')
  const current = await app.inject({ method: 'DELETE', url: `/v1/providers/${p.id}`, headers: { ...as('editorA'), 'if-match': 'W/"2"' } })
  t.equal(current.statusCode, 200)
  t.match(current.json(), { status: 'closed', version: 3 })
  t.equal(current.headers.etag, '"3"')
})

t.test('every provider write is audited as made by its key, with its action', async (t) => {
  const { app, db, keys, as, create } = await setup(t)
  const p = await create('editorA', minimalProvider({ location: inJessore }))
  await app.inject({ method: 'PATCH', url: `/v1/providers/${p.id}`, headers: as('editorA'), payload: { notes: 'x' } })
  await app.inject({ method: 'DELETE', url: `/v1/providers/${p.id}`, headers: as('limitedA') })
  const bulk = await app.inject({ method: 'POST', url: '/v1/providers/bulk', headers: as('editorB'), payload: { providers: [minimalProvider(), minimalProvider()] } })
  t.equal(bulk.statusCode, 201)
  const { rows } = await db.execute<{ key_id: string; organisation_id: string; role: string; action: string; entity_id: string; before_status: string | null; after_status: string }>(sql`
    SELECT key_id, organisation_id, role, action, entity_id, before->>'status' AS before_status, after->>'status' AS after_status
    FROM audit_log WHERE entity = 'provider' ORDER BY id`)
  t.same(rows.slice(0, 3), [
    { key_id: keys.editorA.id, organisation_id: keys.editorA.organisationId, role: 'editor', action: 'create', entity_id: p.id, before_status: null, after_status: 'active' },
    { key_id: keys.editorA.id, organisation_id: keys.editorA.organisationId, role: 'editor', action: 'update', entity_id: p.id, before_status: 'active', after_status: 'active' },
    { key_id: keys.limitedA.id, organisation_id: keys.limitedA.organisationId, role: 'editor', action: 'close', entity_id: p.id, before_status: 'active', after_status: 'closed' },
  ])
  t.same(rows.slice(3).map((r) => [r.key_id, r.action]), [[keys.editorB.id, 'create'], [keys.editorB.id, 'create']], 'one entry per bulk row')
})
