// API keys and organisations over HTTP: created by admins only, the secret shown once and stored nowhere, lists
// without secrets, revocation at once in this process, ETag and If-Match, and every refusal changing nothing.
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { hashKey, KEY_PATTERN } from '../../src/modules/access/keys.js'
import { buildApp } from '../../src/app.js'
import { buildTestApp, keyFor, testConfig } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'

async function keyCount(db: Db) {
  const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*) AS n FROM api_keys`)
  return rows[0].n
}

async function organisationCount(db: Db) {
  const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*) AS n FROM organisations`)
  return rows[0].n
}

const post = (app: FastifyInstance, url: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload, headers })

async function createOrganisation(app: FastifyInstance, name: string): Promise<{ id: string; name: string }> {
  const res = await post(app, '/v1/organisations', { name })
  if (res.statusCode !== 201) throw new Error(`POST /v1/organisations answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

t.test('an admin creates a key; the secret is shown once, works at once, and only its hash is stored', async (t) => {
  const { app, db } = await buildTestApp(t)
  const org = await createOrganisation(app, 'Rights Jessore')

  const res = await post(app, '/v1/keys', { organisation: 'Rights Jessore', role: 'analyst', label: 'research desk' })
  t.equal(res.statusCode, 201, res.body)
  const created = res.json()
  t.match(created, { organisation_id: org.id, organisation: 'Rights Jessore', role: 'analyst', areas: null, label: 'research desk', revoked_at: null, last_used_at: null, version: 1 })
  t.match(created.key, KEY_PATTERN)
  t.equal(created.prefix, created.key.slice(0, 12), 'the prefix is the start of the key')
  t.equal(res.headers.location, `/v1/keys/${created.id}`)
  t.equal(res.headers.etag, '"1"')

  const { rows } = await db.execute<{ key_hash: Buffer }>(sql`SELECT key_hash FROM api_keys WHERE id = ${created.id}`)
  t.same(rows[0].key_hash, hashKey(created.key), 'the SHA-256 of the key is stored')
  const stored = await db.execute(sql`SELECT to_jsonb(k)::text AS row FROM api_keys k WHERE id = ${created.id}`)
  t.notMatch(String(stored.rows[0].row), created.key.slice(12), 'nothing stored holds the secret part of the key')

  // An analyst reads MOUs (a reader route) but may not manage keys.
  const asAnalyst = { authorization: `Bearer ${created.key}` }
  t.equal((await app.inject({ url: '/v1/mous', headers: asAnalyst })).statusCode, 200, 'the new key works at once')
  t.equal((await app.inject({ url: '/v1/keys', headers: asAnalyst })).statusCode, 403)

  const one = await app.inject({ url: `/v1/keys/${created.id}` })
  t.equal(one.statusCode, 200)
  t.equal(one.headers.etag, '"1"')
  t.notOk('key' in one.json(), 'reading a key never shows the secret')
  t.notMatch(one.body, created.key.slice(12))
  t.match(one.json().last_used_at, /^\d{4}-\d\d-\d\dT/, 'the key was marked used')

  const byId = await post(app, '/v1/keys', { organisation_id: org.id, role: 'viewer' })
  t.equal(byId.statusCode, 201)
  t.equal(byId.json().organisation, 'Rights Jessore', 'the organisation can be named by id too')
  t.not(byId.json().key, created.key, 'every key is new')
})

t.test('creating a key with an Idempotency-Key stores no answer: the secret exists only in the one response', async (t) => {
  const { app, db } = await buildTestApp(t)
  const create = () =>
    app.inject({ method: 'POST', url: '/v1/keys', headers: { 'idempotency-key': 'key-once' }, payload: { organisation: 'setu-demo', role: 'viewer' } })
  const first = await create()
  t.equal(first.statusCode, 201)
  const secret: string = first.json().key
  const stored = await db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE body LIKE ${`%${secret}%`} OR key = 'key-once'`,
  )
  t.equal(stored.rows[0].n, 0, 'no idempotency row, so no copy of the secret')
  const audit = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_log WHERE after::text LIKE ${`%${secret.slice(12)}%`}`)
  t.equal(audit.rows[0].n, 0, 'nor in the audit trail')
  const second = await create()
  t.equal(second.statusCode, 201, 'a retry creates another key (documented: revoke the stray one)')
  t.not(second.json().key, secret)
  t.notOk(second.headers['idempotent-replayed'])
})

t.test('editor keys limited to areas: each area must exist; other roles take no areas', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })

  const ok = await post(app, '/v1/keys', { organisation: 'setu-demo', role: 'editor', areas: ['BD4041', 'BD40'] })
  t.equal(ok.statusCode, 201, ok.body)
  t.same(ok.json().areas, ['BD4041', 'BD40'])

  const before = await keyCount(db)
  const unknown = await post(app, '/v1/keys', { organisation: 'setu-demo', role: 'editor', areas: ['BD4041', 'BD9999'] })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.json(), { status: 422, errors: [{ path: 'areas.1', message: /BD9999/ }] })

  const viewer = await post(app, '/v1/keys', { organisation: 'setu-demo', role: 'viewer', areas: ['BD4041'] })
  t.equal(viewer.statusCode, 422)
  t.match(viewer.json(), { errors: [{ path: 'areas' }] })

  const repeated = await post(app, '/v1/keys', { organisation: 'setu-demo', role: 'editor', areas: ['BD40', 'BD40'] })
  t.equal(repeated.statusCode, 400)
  const empty = await post(app, '/v1/keys', { organisation: 'setu-demo', role: 'editor', areas: [] })
  t.equal(empty.statusCode, 400)
  t.equal(await keyCount(db), before, 'no refused request created a key')
})

t.test('a key needs exactly one existing organisation and a known role', async (t) => {
  const { app, db } = await buildTestApp(t)
  const before = [await keyCount(db), await organisationCount(db)]
  const cases: Array<[string, object, number, string?]> = [
    ['neither organisation_id nor organisation', { role: 'viewer' }, 400, 'organisation_id'],
    ['both', { organisation: 'setu-demo', organisation_id: '00000000-0000-4000-8000-000000000001', role: 'viewer' }, 400, 'organisation_id'],
    ['an unknown organisation name (not created on the way)', { organisation: 'Nobody Yet', role: 'viewer' }, 422, 'organisation'],
    ['an unknown organisation id', { organisation_id: '0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11', role: 'viewer' }, 422, 'organisation_id'],
    ['an unknown role', { organisation: 'setu-demo', role: 'superuser' }, 400, 'role'],
    ['an unknown field', { organisation: 'setu-demo', role: 'viewer', key: 'setu_mine' }, 400, 'key'],
  ]
  for (const [what, body, status, path] of cases) {
    const res = await post(app, '/v1/keys', body)
    t.equal(res.statusCode, status, `${what}: ${status}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    if (path) t.ok(res.json().errors?.some((e: { path: string }) => e.path === path), `${what}: names ${path}`)
  }
  t.same([await keyCount(db), await organisationCount(db)], before, 'nothing was created')
})

t.test('lists of keys: never a secret, filtered by organisation, paginated by key', async (t) => {
  const { app } = await buildTestApp(t)
  const org = await createOrganisation(app, 'Cambodia Legal Aid')
  const secrets: string[] = []
  for (const role of ['editor', 'viewer', 'analyst']) {
    const res = await post(app, '/v1/keys', { organisation_id: org.id, role })
    secrets.push(res.json().key)
  }
  const all = await app.inject({ url: '/v1/keys?limit=500' })
  t.equal(all.statusCode, 200)
  t.equal(all.json().items.length, 4, "the test's admin key and the three new ones")
  for (const secret of secrets) t.notMatch(all.body, secret.slice(12), 'no secret in the list')
  t.ok(all.json().items.every((k: object) => !('key' in k)))

  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ id: string; organisation_id: string }>; next_cursor: string | null } = (
      await app.inject({ url: `/v1/keys?organisation=${org.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}` })
    ).json()
    t.ok(page.items.every((k) => k.organisation_id === org.id))
    ids.push(...page.items.map((k) => k.id))
    cursor = page.next_cursor
  } while (cursor)
  t.equal(ids.length, 3, 'three keys of the organisation over two pages')
  t.equal(new Set(ids).size, 3, 'no key twice')

  const forged = await app.inject({ url: `/v1/keys?cursor=${Buffer.from('["x"]').toString('base64url')}` })
  t.equal(forged.statusCode, 400)
  t.equal((await app.inject({ url: '/v1/keys?organisation=nope' })).statusCode, 400)
})

t.test('revoking: at once in this process, idempotent, If-Match checked while the key is live, 404 unknown', async (t) => {
  const { app, db } = await buildTestApp(t)
  const editor = await keyFor(db, 'editor', { organisation: 'Rights Jessore' })
  const asEditor = { authorization: editor.authorization }
  t.equal((await app.inject({ url: '/v1/mous', headers: asEditor })).statusCode, 200, 'the key works (and is now cached)')

  const stale = await app.inject({ method: 'DELETE', url: `/v1/keys/${editor.id}`, headers: { 'if-match': '"7"' } })
  t.equal(stale.statusCode, 412)
  t.match(stale.json(), { status: 412, current_version: 1 })
  t.equal((await app.inject({ url: '/v1/mous', headers: asEditor })).statusCode, 200, 'a refused revocation revokes nothing')

  const revoked = await app.inject({ method: 'DELETE', url: `/v1/keys/${editor.id}`, headers: { 'if-match': '"1"' } })
  t.equal(revoked.statusCode, 200, revoked.body)
  t.match(revoked.json(), { id: editor.id, version: 2, revoked_at: /^\d{4}-/ })
  t.equal(revoked.headers.etag, '"2"')

  const refused = await app.inject({ url: '/v1/mous', headers: asEditor })
  t.equal(refused.statusCode, 401, 'this process refuses the revoked key at once, although it had cached it')
  t.match(refused.json(), { type: 'urn:setu:problem:unauthorized' })

  const again = await app.inject({ method: 'DELETE', url: `/v1/keys/${editor.id}`, headers: { 'if-match': '"1"' } })
  t.equal(again.statusCode, 200, 'a retry of the revocation succeeds')
  t.same(again.json(), revoked.json(), 'and changes nothing: the first revoked_at stays')

  const unknown = await app.inject({ method: 'DELETE', url: '/v1/keys/0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11' })
  t.equal(unknown.statusCode, 404)
  t.equal((await app.inject({ url: '/v1/keys/0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11' })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/keys/not-a-uuid' })).statusCode, 400)
})

t.test('organisations: created once by name, listed by name, read with an ETag', async (t) => {
  const { app, db } = await buildTestApp(t)
  const created = await post(app, '/v1/organisations', { name: '  Banchte Preah  ' })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { name: 'Banchte Preah', version: 1 }, 'the name is trimmed')
  t.equal(created.headers.location, `/v1/organisations/${created.json().id}`)

  const before = await organisationCount(db)
  const duplicate = await post(app, '/v1/organisations', { name: 'Banchte Preah' })
  t.equal(duplicate.statusCode, 409)
  t.match(duplicate.json(), { status: 409, detail: /Banchte Preah/ })
  t.equal((await post(app, '/v1/organisations', { name: '' })).statusCode, 400)
  t.equal((await post(app, '/v1/organisations', { name: 'a\u0000b' })).statusCode, 400)
  t.equal(await organisationCount(db), before, 'refused requests create nothing')

  for (const name of ['Ayesha Foundation', 'Zeta Shelter Network']) await createOrganisation(app, name)
  const names: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ name: string }>; next_cursor: string | null } = (
      await app.inject({ url: `/v1/organisations?limit=2${cursor ? `&cursor=${cursor}` : ''}` })
    ).json()
    names.push(...page.items.map((o) => o.name))
    cursor = page.next_cursor
  } while (cursor)
  const { rows } = await db.execute<{ name: string }>(sql`SELECT name FROM organisations ORDER BY name`)
  t.same(names, rows.map((r) => r.name), 'every organisation once, in the order of their names')
  t.same([...names].sort(), ['Ayesha Foundation', 'Banchte Preah', 'Zeta Shelter Network', 'setu-demo'])

  const one = await app.inject({ url: `/v1/organisations/${created.json().id}` })
  t.equal(one.statusCode, 200)
  t.equal(one.headers.etag, '"1"')
  t.same(one.json(), created.json())
  t.equal((await app.inject({ url: '/v1/organisations/0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11' })).statusCode, 404)
})

t.test('only admins manage keys and organisations: 401 without a key, 403 for every other role', async (t) => {
  const { app, db } = await buildTestApp(t)
  const target = await keyFor(db, 'viewer', { organisation: 'Target Org' })
  const callers: Record<string, string | undefined> = {
    anonymous: undefined,
    viewer: (await keyFor(db, 'viewer')).authorization,
    analyst: (await keyFor(db, 'analyst')).authorization,
    editor: (await keyFor(db, 'editor')).authorization,
    'editor of the key’s organisation': (await keyFor(db, 'editor', { organisation: 'Target Org' })).authorization,
  }
  const requests = [
    { method: 'GET' as const, url: '/v1/keys' },
    { method: 'GET' as const, url: `/v1/keys/${target.id}` },
    { method: 'POST' as const, url: '/v1/keys', payload: { organisation: 'Target Org', role: 'admin' } },
    { method: 'DELETE' as const, url: `/v1/keys/${target.id}` },
    { method: 'GET' as const, url: '/v1/organisations' },
    { method: 'GET' as const, url: `/v1/organisations/${target.organisationId}` },
    { method: 'POST' as const, url: '/v1/organisations', payload: { name: 'Sneaky Org' } },
    { method: 'GET' as const, url: '/v1/audit' },
  ]
  const before = [await keyCount(db), await organisationCount(db)]
  for (const [who, authorization] of Object.entries(callers)) {
    for (const r of requests) {
      const res = await app.inject({ ...r, headers: { authorization: authorization ?? '' } })
      t.equal(res.statusCode, authorization ? 403 : 401, `${who}: ${r.method} ${r.url}`)
    }
  }
  t.same([await keyCount(db), await organisationCount(db)], before, 'no refused request created anything')
  const { rows } = await db.execute<{ revoked_at: string | null }>(sql`SELECT revoked_at FROM api_keys WHERE id = ${target.id}`)
  t.equal(rows[0].revoked_at, null, 'no refused request revoked the key')
})

t.test('another server process refuses a revoked key within 5 seconds', async (t) => {
  const { app, db } = await buildTestApp(t)
  // A second process on the same database: the production app with its own key cache.
  const other = await buildApp(testConfig, { db })
  t.teardown(() => other.close())
  const viewer = await keyFor(db, 'viewer')
  const headers = { authorization: viewer.authorization }
  t.equal((await other.inject({ url: '/v1/mous', headers })).statusCode, 200, 'the other process has verified the key')

  const revokedAt = Date.now()
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/keys/${viewer.id}` })).statusCode, 200)
  let status = 200
  while (status !== 401 && Date.now() - revokedAt < 6000) {
    status = (await other.inject({ url: '/v1/mous', headers })).statusCode
    if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const elapsed = Date.now() - revokedAt
  t.equal(status, 401, 'the other process refuses it')
  t.ok(elapsed < 5000, `within 5 seconds (${elapsed} ms)`)
})
