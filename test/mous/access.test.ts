// MOUs under access control: an MOU belongs to its provider's organisation, and its history says who made each change.
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertMou } from '../helpers/factories.js'
import { insertOwnedProvider, problemJson } from '../referral-links/util.js'

const body = { counterparty: 'MoSVY', counterparty_level: 'national', categories: ['shelter'] }

async function fixture(t: Parameters<typeof buildTestApp>[0]) {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'KH12', name_en: 'Phnom Penh', country: 'KHM', admin_level: 1, bbox: [104.7, 11.4, 105.1, 11.7] })
  await insertArea(db, { pcode: 'KH17', name_en: 'Siem Reap', country: 'KHM', admin_level: 1, bbox: [103.5, 13, 104.2, 13.8] })
  const key = {
    editorA: await keyFor(db, 'editor', { organisation: 'org-a' }),
    editorB: await keyFor(db, 'editor', { organisation: 'org-b' }),
    editorAInPhnomPenh: await keyFor(db, 'editor', { organisation: 'org-a', areas: ['KH12'] }),
    viewer: await keyFor(db, 'viewer', { organisation: 'org-a' }),
    analyst: await keyFor(db, 'analyst', { organisation: 'org-a' }),
  }
  const shelter = { categories: ['shelter'] }
  const provider = {
    a: await insertOwnedProvider(db, { ...shelter, lat: 11.55, lon: 104.92 }, { organisationId: key.editorA.organisationId }),
    aSiemReap: await insertOwnedProvider(db, { ...shelter, lat: 13.36, lon: 103.86 }, { organisationId: key.editorA.organisationId }),
    b: await insertOwnedProvider(db, { ...shelter, lat: 11.56, lon: 104.93 }, { organisationId: key.editorB.organisationId }),
  }
  return { app, db, key, provider }
}

const create = (app: FastifyInstance, authorization: string, providerId: string) =>
  app.inject({ method: 'POST', url: `/v1/providers/${providerId}/mous`, headers: { authorization }, payload: body })
const patch = (app: FastifyInstance, authorization: string, id: string, payload: object, ifMatch?: string) =>
  app.inject({ method: 'PATCH', url: `/v1/mous/${id}`, headers: { authorization, ...(ifMatch ? { 'if-match': ifMatch } : {}) }, payload })

const counts = async (db: Db) => {
  const { rows } = await db.execute<{ mous: number; changes: number; audit: number; versions: number }>(sql`
    SELECT (SELECT count(*) FROM mous) AS mous, (SELECT count(*) FROM mou_status_changes) AS changes,
           (SELECT count(*) FROM audit_log) AS audit, (SELECT sum(version) FROM mous) AS versions`)
  return rows[0]
}

t.test('an editor records and changes MOUs of its own providers only', async (t) => {
  const { app, db, key, provider } = await fixture(t)
  const own = await create(app, key.editorA.authorization, provider.a)
  t.equal(own.statusCode, 201)
  t.equal(own.headers.etag, '"1"')
  const theirs = await insertMou(db, { provider_id: provider.b, categories: ['shelter'], status: 'draft' })

  const before = await counts(db)
  const refused = await create(app, key.editorA.authorization, provider.b)
  t.equal(refused.statusCode, 403, 'not for another organisation’s provider')
  t.match(refused.headers['content-type'], problemJson)
  t.match(refused.json(), { status: 403, detail: new RegExp(`provider ${provider.b} belongs to another organisation`) })
  t.equal((await patch(app, key.editorA.authorization, theirs, { status: 'negotiating' })).statusCode, 403, 'no transition of another’s MOU')
  t.equal((await patch(app, key.editorA.authorization, theirs, { notes: 'x' }, '"9"')).statusCode, 403, 'ownership is checked before the version')
  t.equal((await patch(app, key.editorB.authorization, own.json().id, { notes: 'x' })).statusCode, 403, 'nor org B org A’s')
  for (const [who, k] of [['viewer', key.viewer], ['analyst', key.analyst]] as const) {
    t.equal((await create(app, k.authorization, provider.a)).statusCode, 403, `a ${who} records no MOU`)
    t.equal((await patch(app, k.authorization, own.json().id, { notes: 'x' })).statusCode, 403, `a ${who} changes no MOU`)
  }
  const farAway = await create(app, key.editorAInPhnomPenh.authorization, provider.aSiemReap)
  t.equal(farAway.statusCode, 403, 'an area-limited editor: not outside its areas')
  t.match(farAway.json().detail, /outside the areas this key may write \(KH12\)/)
  t.same(await counts(db), before, 'refused writes wrote nothing: no MOU, no history, no audit entry')

  t.equal((await create(app, key.editorAInPhnomPenh.authorization, provider.a)).statusCode, 201, 'inside them it may')
  const signed = await patch(app, key.editorA.authorization, own.json().id, { status: 'signed', signed_on: '2026-01-05' }, '"1"')
  t.equal(signed.statusCode, 200, 'its own MOU moves through its transitions')
  t.equal(signed.headers.etag, '"2"')
  const read = await app.inject({ url: `/v1/mous/${own.json().id}`, headers: { authorization: key.viewer.authorization } })
  t.equal(read.headers.etag, '"2"', 'a single MOU is read with its ETag')
  t.equal((await patch(app, key.editorA.authorization, own.json().id, { notes: 'stale' }, '"1"')).statusCode, 412)
  t.equal((await patch(app, key.editorB.authorization, theirs, { status: 'negotiating' })).statusCode, 200, 'org B changes its own')
})

t.test('MOU history names the key, organisation and role of each change', async (t) => {
  const { app, db, key, provider } = await fixture(t)
  const created = (await create(app, key.editorA.authorization, provider.a)).json()
  t.equal((await patch(app, key.editorA.authorization, created.id, { status: 'negotiating', status_note: 'talks began' })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: `/v1/mous/${created.id}`, payload: { status: 'signed', signed_on: '2026-02-01' } })).statusCode, 200)
  const { rows: [admin] } = await db.execute<{ id: string; prefix: string }>(
    sql`SELECT id, prefix FROM api_keys WHERE role = 'admin' ORDER BY created_at LIMIT 1`,
  )

  const res = await app.inject({ url: `/v1/mous/${created.id}/history`, headers: { authorization: key.viewer.authorization } })
  t.equal(res.statusCode, 200, 'any key reads the history')
  const editor = {
    key_id: key.editorA.id,
    key_prefix: key.editorA.key.slice(0, 12),
    organisation_id: key.editorA.organisationId,
    organisation: 'org-a',
    role: 'editor',
  }
  t.same(
    res.json().items.map((e: { status: string; changed_by: unknown }) => [e.status, e.changed_by]),
    [
      ['draft', editor],
      ['negotiating', editor],
      ['signed', { key_id: admin.id, key_prefix: admin.prefix, organisation_id: '00000000-0000-4000-8000-000000000001', organisation: 'setu-demo', role: 'admin' }],
    ],
  )
  t.ok(key.editorA.key.startsWith(editor.key_prefix) && editor.key_prefix.length < key.editorA.key.length, 'the prefix, never the key')
  t.notOk(res.body.includes(key.editorA.key), 'the secret is nowhere in the history')

  const { rows: audit } = await db.execute<{ action: string; key_id: string; role: string; after: { status: string } }>(
    sql`SELECT action, key_id, role, after FROM audit_log WHERE entity = 'mou' AND entity_id = ${created.id} ORDER BY id`,
  )
  t.same(
    audit.map((a) => [a.action, a.key_id, a.role, a.after.status]),
    [['create', key.editorA.id, 'editor', 'draft'], ['update', key.editorA.id, 'editor', 'negotiating'], ['update', admin.id, 'admin', 'signed']],
    'the audit trail records the same actors in the same transactions',
  )

  const outside = await insertMou(db, { provider_id: provider.b, categories: ['shelter'] })
  const written = (await app.inject({ url: `/v1/mous/${outside}/history` })).json()
  t.same(written.items.map((e: { changed_by: unknown }) => e.changed_by), [null], 'a row written outside the API names nobody')
})
