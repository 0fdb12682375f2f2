// The audit trail: every kind of write leaves an entry saying who (key, prefix, organisation, role, request id)
// and the row before and after, in the writing transaction; GET /v1/audit filters and pages through them.
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { asActor, type Actor } from '../../src/modules/access/actor.js'
import { DEMO_ORGANISATION_ID } from '../../src/modules/access/keys.js'
import type { KeyCaller } from '../../src/modules/access/roles.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertVerifiedProvider } from '../helpers/factories.js'

/**
 * Whether the writes of each module name their actor yet (asActor in the module's service). The triggers record
 * every write regardless; until a module names its actor, its entries say role "system". Set a module to true
 * when its branch lands, and the "names the key" checks below stop being todo.
 */
const ACTOR_NAMED: Record<'providers' | 'referral-links' | 'mous', boolean> = {
  providers: true,
  'referral-links': true,
  mous: true,
}

interface Entry {
  id: number
  at: string
  actor: { key_id: string | null; key_prefix: string | null; organisation_id: string | null; organisation: string | null; role: string }
  request_id: string | null
  entity: string
  entity_id: string
  action: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

async function entriesOf(app: FastifyInstance, entity: string, id: string): Promise<Entry[]> {
  const res = await app.inject({ url: `/v1/audit?entity=${entity}&entity_id=${id}&order=oldest` })
  if (res.statusCode !== 200) throw new Error(`GET /v1/audit answered ${res.statusCode}: ${res.body}`)
  return res.json().items
}

async function created(app: FastifyInstance, url: string, payload: object, authorization: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url, payload, headers: { authorization } })
  if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json().id
}

const JESSORE = { lat: 23.1667, lon: 89.2083 }
const providerBody = (name: string) => ({
  name,
  kind: 'ngo',
  categories: ['health', 'legal'],
  location: JESSORE,
  address: 'Jessore Sadar, Jessore',
  phones: ['+8801700000000'],
  verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
})

async function withAreas(db: Db) {
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })
}

t.test('key and organisation writes through the API name the admin who made them', async (t) => {
  const { app, db } = await buildTestApp(t)
  const admin = await keyFor(db, 'admin', { organisation: 'Setu Operations' })
  const headers = { authorization: admin.authorization }
  const actor = { key_id: admin.id, key_prefix: admin.key.slice(0, 12), organisation_id: admin.organisationId, organisation: 'Setu Operations', role: 'admin' }

  const org = await app.inject({ method: 'POST', url: '/v1/organisations', payload: { name: 'Rights Jessore' }, headers })
  const orgId = org.json().id
  t.match(await entriesOf(app, 'organisation', orgId), [
    { entity: 'organisation', entity_id: orgId, action: 'create', actor, request_id: /./, before: null, after: { id: orgId, name: 'Rights Jessore', version: 1 } },
  ])

  const key = await app.inject({ method: 'POST', url: '/v1/keys', payload: { organisation_id: orgId, role: 'editor', label: 'field office' }, headers })
  const keyId = key.json().id
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/keys/${keyId}`, headers })).statusCode, 200)
  const keyEntries = await entriesOf(app, 'api_key', keyId)
  t.match(keyEntries, [
    { action: 'create', actor, before: null, after: { id: keyId, organisation_id: orgId, role: 'editor', label: 'field office', revoked_at: null } },
    { action: 'revoke', actor, before: { revoked_at: null, version: 1 }, after: { revoked_at: /./, version: 2 } },
  ])
  t.equal(keyEntries.length, 2)
  for (const e of keyEntries) {
    t.notOk(JSON.stringify(e).includes(key.json().key.slice(12)), 'no entry holds the secret')
    t.notOk('key_hash' in (e.after ?? {}) || 'key_hash' in (e.before ?? {}), 'nor its hash')
  }
  t.notOk(keyEntries[1].request_id === keyEntries[0].request_id, 'each entry names its own request')

  // A revocation retried, and a key merely used, are not changes worth an entry.
  await app.inject({ method: 'DELETE', url: `/v1/keys/${keyId}`, headers })
  t.equal((await entriesOf(app, 'api_key', keyId)).length, 2)
  const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*) AS n FROM audit_log WHERE entity = 'api_key' AND entity_id = ${admin.id}`)
  t.equal(rows[0].n, 1, 'the admin key’s use (last_used_at) left no entry, only its creation')
})

t.test('writes named through set_config record their actor, action and rows: providers, bulk, links, MOUs', async (t) => {
  const { app, db } = await buildTestApp(t)
  await withAreas(db)
  const editor = await keyFor(db, 'editor', { organisation: 'Rights Jessore', areas: ['BD4041'] })
  const caller: KeyCaller = {
    kind: 'key',
    keyId: editor.id,
    keyPrefix: editor.key.slice(0, 12),
    organisationId: editor.organisationId,
    organisation: 'Rights Jessore',
    role: 'editor',
    areas: ['BD4041'],
  }
  const actor: Actor = { caller, requestId: 'req-sql-1' }
  const expectedActor = { key_id: editor.id, key_prefix: editor.key.slice(0, 12), organisation_id: editor.organisationId, organisation: 'Rights Jessore', role: 'editor' }

  const ids = await asActor(db, actor, async (tx) => {
    const { rows } = await tx.execute<{ id: string }>(sql`
      INSERT INTO providers (name, search_text, kind, categories, location, organisation_id)
      SELECT n, lower(n), 'ngo', '{health,legal}', ST_SetSRID(ST_MakePoint(89.2, 23.16), 4326), ${editor.organisationId}::uuid
      FROM unnest(ARRAY['Bulk One', 'Bulk Two', 'Bulk Three']) n RETURNING id`)
    return rows.map((r) => r.id)
  }, 'bulk_create')
  for (const id of ids) {
    t.match(await entriesOf(app, 'provider', id), [
      { action: 'bulk_create', actor: expectedActor, request_id: 'req-sql-1', before: null, after: { id, organisation_id: editor.organisationId, location_visibility: 'exact' } },
    ], 'one entry for each row of a multi-row insert')
  }
  const [first] = ids
  await asActor(db, { caller, requestId: 'req-sql-2' }, (tx) => tx.execute(sql`UPDATE providers SET phones = '{+8801711111111}', version = version + 1 WHERE id = ${first}`))
  await asActor(db, { caller, requestId: 'req-sql-3' }, (tx) => tx.execute(sql`UPDATE providers SET status = 'closed', version = version + 1 WHERE id = ${first}`), 'close')
  const providerEntries = await entriesOf(app, 'provider', first)
  t.match(providerEntries.slice(1), [
    { action: 'update', request_id: 'req-sql-2', before: { phones: [] }, after: { phones: ['+8801711111111'] } },
    { action: 'close', request_id: 'req-sql-3', before: { status: 'active' }, after: { status: 'closed' } },
  ])
  t.match(providerEntries[1].after?.location, { type: 'Point', coordinates: [89.2, 23.16] }, 'a provider’s location is kept as GeoJSON')
  t.notOk('search_text' in (providerEntries[0].after ?? {}), 'columns that only mirror others are left out')

  const to = await insertVerifiedProvider(db, { ...JESSORE, categories: ['legal'] })
  const link = await asActor(db, actor, async (tx) => {
    const { rows } = await tx.execute<{ id: string }>(sql`
      INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis) VALUES (${first}, ${to}, '{legal}', 'informal') RETURNING id`)
    await tx.execute(sql`UPDATE referral_links SET notes = 'called weekly' WHERE id = ${rows[0].id}`)
    return rows[0].id
  })
  t.match(await entriesOf(app, 'referral_link', link), [
    { action: 'create', actor: expectedActor, before: null, after: { from_provider_id: first, to_provider_id: to } },
    { action: 'update', actor: expectedActor, before: { notes: null }, after: { notes: 'called weekly' } },
  ])

  const mou = await asActor(db, actor, async (tx) => {
    const { rows } = await tx.execute<{ id: string }>(sql`
      INSERT INTO mous (provider_id, counterparty, counterparty_level, categories, status) VALUES (${first}, 'District Office', 'district', '{legal}', 'draft') RETURNING id`)
    await tx.execute(sql`INSERT INTO mou_status_changes (mou_id, status, status_changed) VALUES (${rows[0].id}, 'draft', true)`)
    return rows[0].id
  })
  await asActor(db, actor, (tx) => tx.execute(sql`UPDATE mous SET status = 'negotiating' WHERE id = ${mou}`), 'transition')
  t.match(await entriesOf(app, 'mou', mou), [
    { action: 'create', actor: expectedActor, before: null, after: { status: 'draft' } },
    { action: 'transition', actor: expectedActor, before: { status: 'draft' }, after: { status: 'negotiating' } },
  ])
  const { rows } = await db.execute<{ actor: Record<string, unknown> }>(sql`SELECT actor FROM mou_status_changes WHERE mou_id = ${mou}`)
  t.match(rows, [{ actor: { key_id: editor.id, role: 'editor' } }], 'MOU history keeps the actor too')

  const unnamed = await insertVerifiedProvider(db, JESSORE)
  t.match(await entriesOf(app, 'provider', unnamed), [{ action: 'create', actor: { key_id: null, role: 'system' }, after: { id: unnamed } }], 'a write that names no actor is recorded as the system’s, never lost')

  const rolledBack = await asActor(db, actor, async (tx) => {
    await tx.execute(sql`UPDATE providers SET notes = 'never happened' WHERE id = ${ids[1]}`)
    throw new Error('refused')
  }).catch((err: Error) => err.message)
  t.equal(rolledBack, 'refused')
  t.equal((await entriesOf(app, 'provider', ids[1])).length, 1, 'a write that rolls back leaves no entry')
})

t.test('every kind of write through the API is audited with who made it', async (t) => {
  const { app, db } = await buildTestApp(t)
  await withAreas(db)
  const admin = await keyFor(db, 'admin')
  const authorization = admin.authorization
  const actor = { key_id: admin.id, key_prefix: admin.key.slice(0, 12), organisation_id: DEMO_ORGANISATION_ID, organisation: 'setu-demo', role: 'admin' }
  const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => app.inject({ method, url, payload, headers: { authorization } })

  const provider = await created(app, '/v1/providers', providerBody('Audit Legal Aid'), authorization)
  const other = await created(app, '/v1/providers', providerBody('Audit Health Post'), authorization)
  const patched = await send('PATCH', `/v1/providers/${provider}`, { phones: ['+8801722222222'] })
  t.equal(patched.statusCode, 200, patched.body)
  const closedId = await created(app, '/v1/providers', providerBody('Audit Closing'), authorization)
  t.equal((await send('DELETE', `/v1/providers/${closedId}`)).statusCode, 200)
  const bulk = await send('POST', '/v1/providers/bulk', { providers: [providerBody('Audit Bulk A'), providerBody('Audit Bulk B')] })
  t.equal(bulk.statusCode, 201, bulk.body)
  const link = await created(app, '/v1/referral-links', { from_provider_id: provider, to_provider_id: other, categories: ['legal'], basis: 'informal' }, authorization)
  t.equal((await send('PATCH', `/v1/referral-links/${link}`, { notes: 'called weekly' })).statusCode, 200)
  const mou = await created(app, `/v1/providers/${provider}/mous`, { counterparty: 'District Office', counterparty_level: 'district', categories: ['legal'] }, authorization)
  t.equal((await send('PATCH', `/v1/mous/${mou}`, { status: 'negotiating' })).statusCode, 200)

  const writes: Array<{ what: string; module: keyof typeof ACTOR_NAMED; entity: string; id: string; entries: Array<Partial<Entry>> }> = [
    { what: 'provider create', module: 'providers', entity: 'provider', id: other, entries: [{ action: 'create', before: null, after: { name: 'Audit Health Post' } }] },
    {
      what: 'provider update',
      module: 'providers',
      entity: 'provider',
      id: provider,
      entries: [{ action: 'create' }, { action: 'update', before: { phones: ['+8801700000000'] }, after: { phones: ['+8801722222222'] } }],
    },
    {
      what: 'provider close',
      module: 'providers',
      entity: 'provider',
      id: closedId,
      entries: [{ action: 'create' }, { action: 'close', before: { status: 'active' }, after: { status: 'closed' } }],
    },
    ...bulk.json().items.map((item: { id: string; name: string }) => ({
      what: `provider bulk (${item.name})`,
      module: 'providers' as const,
      entity: 'provider',
      id: item.id,
      entries: [{ action: 'create', before: null, after: { name: item.name } }],
    })),
    { what: 'link create and patch', module: 'referral-links', entity: 'referral_link', id: link, entries: [
      { action: 'create', before: null, after: { from_provider_id: provider, to_provider_id: other } },
      { action: 'update', before: { notes: null }, after: { notes: 'called weekly' } },
    ] },
    { what: 'MOU create and transition', module: 'mous', entity: 'mou', id: mou, entries: [
      { action: 'create', before: null, after: { status: 'draft' } },
      { action: 'update', before: { status: 'draft' }, after: { status: 'negotiating' } },
    ] },
  ]

  for (const w of writes) {
    await t.test(w.what, async (t) => {
      const entries = await entriesOf(app, w.entity, w.id)
      const rows = w.entries.map(({ before, after }) => ({
        entity: w.entity,
        entity_id: w.id,
        ...(before !== undefined ? { before } : {}),
        ...(after !== undefined ? { after } : {}),
      }))
      t.match(entries, rows, 'an entry for each write, with the rows before and after')
      t.equal(entries.length, w.entries.length, 'and no other')
      await t.test('names the key, role, request and action', { todo: ACTOR_NAMED[w.module] ? false : `${w.module} writes name their actor once that branch lands` }, async (t) => {
        t.match(entries, w.entries.map(({ action }) => ({ action, actor, request_id: /./ })))
      })
    })
  }
})

t.test('GET /v1/audit filters by entity, id, organisation and time, and pages by id both ways', async (t) => {
  const { app, db } = await buildTestApp(t)
  const partner = await keyFor(db, 'admin', { organisation: 'Partner Admins' })
  const asPartner = { authorization: partner.authorization }
  for (const name of ['Org A', 'Org B', 'Org C']) {
    await app.inject({ method: 'POST', url: '/v1/organisations', payload: { name }, headers: asPartner })
  }
  const all = (await app.inject({ url: '/v1/audit?limit=500' })).json().items as Entry[]
  t.ok(all.length >= 5, 'the test keys, their organisation and three organisations')
  t.same(all.map((e) => e.id), [...all.map((e) => e.id)].sort((a, b) => b - a), 'newest first by default')

  const byOrg = (await app.inject({ url: `/v1/audit?org=${partner.organisationId}` })).json().items as Entry[]
  t.same(byOrg.map((e) => e.after?.name).sort(), ['Org A', 'Org B', 'Org C'], 'org: the writes of that organisation’s keys')
  const organisations = (await app.inject({ url: '/v1/audit?entity=organisation&order=oldest' })).json().items as Entry[]
  t.ok(organisations.every((e) => e.entity === 'organisation'))
  t.same(organisations.map((e) => e.after?.name), ['Partner Admins', 'Org A', 'Org B', 'Org C'], 'oldest first when asked')

  const middle = organisations[2]
  const since = (await app.inject({ url: `/v1/audit?entity=organisation&since=${encodeURIComponent(middle.at)}` })).json().items as Entry[]
  t.ok(since.every((e) => e.at >= middle.at) && since.some((e) => e.id === middle.id), 'since includes its moment')
  const until = (await app.inject({ url: `/v1/audit?entity=organisation&until=${encodeURIComponent(middle.at)}` })).json().items as Entry[]
  t.ok(until.every((e) => e.at < middle.at) && !until.some((e) => e.id === middle.id), 'until excludes its moment')
  const offset = (await app.inject({ url: `/v1/audit?entity=organisation&since=${encodeURIComponent('2100-01-01T06:00:00+06:00')}` })).json()
  t.same(offset.items, [], 'a moment with a zone offset is understood')

  for (const order of ['newest', 'oldest']) {
    const seen: number[] = []
    let cursor: string | null = null
    do {
      const page: { items: Entry[]; next_cursor: string | null } = (
        await app.inject({ url: `/v1/audit?limit=2&order=${order}${cursor ? `&cursor=${cursor}` : ''}` })
      ).json()
      seen.push(...page.items.map((e) => e.id))
      cursor = page.next_cursor
    } while (cursor)
    const expected = all.map((e) => e.id)
    t.same(seen, order === 'newest' ? expected : [...expected].reverse(), `pages of 2, ${order} first: every entry once`)
  }

  for (const bad of ['entity=keys', 'entity_id=42', 'org=nope', 'since=2024-01-01', 'since=2024-02-30T00:00:00Z', 'until=0000-01-01T00:00:00Z', 'until=2024-01-01T00:00:00+20:00', 'order=random', `cursor=${Buffer.from('["x"]').toString('base64url')}`, 'cursor=%%']) {
    const res = await app.inject({ url: `/v1/audit?${bad}` })
    t.equal(res.statusCode, 400, `${bad}: 400`)
  }
})
