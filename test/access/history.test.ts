// GET /v1/providers/{id}/history: for admins, analysts and the owning organisation's keys; snapshots masked for
// whoever may not see the provider's exact location, exactly as the live provider is.
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { asActor } from '../../src/modules/access/actor.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'

// The shelter stands in Jessore district (BD4041), inside the Khulna division (BD40).
const SHELTER = { lat: 23.1667, lon: 89.2083 }
const ADDRESS = 'House 12, Road 4, Jessore Sadar'

interface Entry {
  id: number
  action: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

/** A provider of `organisationId` with `visibility`, created and then moved and re-addressed: three entries. */
async function providerWithHistory(db: Db, organisationId: string, visibility: 'approximate' | 'hidden' | 'exact'): Promise<string> {
  const actor = { caller: null }
  const id = await asActor(db, actor, async (tx) => {
    const { rows } = await tx.execute<{ id: string }>(sql`
      INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes, address, organisation_id, location_visibility)
      VALUES ('Safe Home Jessore', 'safe home jessore', 'ngo', '{shelter}', ST_SetSRID(ST_MakePoint(${SHELTER.lon}, ${SHELTER.lat}), 4326),
              '{BD40,BD4041}', ${ADDRESS}, ${organisationId}::uuid, ${visibility})
      RETURNING id`)
    return rows[0].id
  })
  await asActor(db, actor, (tx) =>
    tx.execute(sql`UPDATE providers SET location = ST_SetSRID(ST_MakePoint(${SHELTER.lon + 0.001}, ${SHELTER.lat}), 4326), version = version + 1 WHERE id = ${id}`),
  )
  await asActor(db, actor, (tx) => tx.execute(sql`UPDATE providers SET address = ${`${ADDRESS}, upstairs`}, version = version + 1 WHERE id = ${id}`))
  return id
}

async function historyAs(app: FastifyInstance, id: string, authorization: string, query = '') {
  return app.inject({ url: `/v1/providers/${id}/history${query}`, headers: { authorization } })
}

/** The Jessore district's representative point, which approximate providers show instead of their own. */
async function jessorePoint(db: Db): Promise<[number, number]> {
  const { rows } = await db.execute<{ x: number; y: number }>(sql`SELECT ST_X(rep_point) AS x, ST_Y(rep_point) AS y FROM areas WHERE pcode = 'BD4041'`)
  return [rows[0].x, rows[0].y]
}

t.test('who may read a provider’s history, and what each of them sees', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })
  const owner = 'Safe Home Network'
  const keys = {
    admin: await keyFor(db, 'admin', { organisation: 'Setu Operations' }),
    analyst: await keyFor(db, 'analyst', { organisation: 'Research Partner' }),
    ownEditor: await keyFor(db, 'editor', { organisation: owner }),
    ownViewer: await keyFor(db, 'viewer', { organisation: owner }),
    ownAnalyst: await keyFor(db, 'analyst', { organisation: owner }),
    otherEditor: await keyFor(db, 'editor', { organisation: 'Another NGO' }),
    otherViewer: await keyFor(db, 'viewer', { organisation: 'Another NGO' }),
  }
  const approximate = await providerWithHistory(db, keys.ownEditor.organisationId, 'approximate')
  const hidden = await providerWithHistory(db, keys.ownEditor.organisationId, 'hidden')
  const rep = await jessorePoint(db)

  for (const who of ['admin', 'analyst', 'ownEditor'] as const) {
    const res = await historyAs(app, approximate, keys[who].authorization)
    t.equal(res.statusCode, 200, `${who}: 200`)
    const items: Entry[] = res.json().items
    t.same(items.map((e) => e.action), ['update', 'update', 'create'], `${who}: every entry, newest first`)
    t.match(items[2].after, { address: ADDRESS, location: { coordinates: [SHELTER.lon, SHELTER.lat] } }, `${who}: sees the exact point and address`)
    t.match(items[1], { before: { location: { coordinates: [SHELTER.lon, SHELTER.lat] } }, after: { location: { coordinates: [SHELTER.lon + 0.001, SHELTER.lat] } } }, `${who}: sees the move`)
  }

  for (const who of ['ownViewer'] as const) {
    for (const [provider, expected] of [[approximate, { type: 'Point', coordinates: rep }], [hidden, null]] as const) {
      const res = await historyAs(app, provider, keys[who].authorization)
      t.equal(res.statusCode, 200, `${who}: may read its organisation's provider's history`)
      const items: Entry[] = res.json().items
      t.equal(items.length, 3)
      for (const e of items) {
        for (const snapshot of [e.before, e.after]) {
          if (snapshot === null) continue
          t.same(snapshot.location, expected, `${who}: the snapshot's location is ${expected ? 'the area’s point' : 'absent'}`)
          t.equal(snapshot.address, null, `${who}: no address`)
        }
      }
      t.notMatch(res.body, ADDRESS, `${who}: the address appears nowhere`)
      t.notMatch(res.body, String(SHELTER.lon), `${who}: nor the real longitude`)
      t.notMatch(res.body, String(SHELTER.lon + 0.001), `${who}: nor the one it moved to`)
    }
  }

  const ownAnalyst = await historyAs(app, hidden, keys.ownAnalyst.authorization)
  t.match(ownAnalyst.json().items[2].after, { address: ADDRESS }, 'an analyst sees everything, whatever its organisation')

  for (const who of ['otherEditor', 'otherViewer'] as const) {
    const res = await historyAs(app, approximate, keys[who].authorization)
    t.equal(res.statusCode, 403, `${who}: 403`)
    t.match(res.json(), { type: 'urn:setu:problem:forbidden' })
    t.notMatch(res.body, ADDRESS)
  }
  const anonymous = await historyAs(app, approximate, '')
  t.equal(anonymous.statusCode, 401, 'anonymous: 401')

  const unknown = '0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11'
  t.equal((await historyAs(app, unknown, keys.admin.authorization)).statusCode, 404, 'unknown provider: 404')
  t.equal((await historyAs(app, unknown, keys.otherViewer.authorization)).statusCode, 404, 'for anyone')
  t.equal((await historyAs(app, 'nope', keys.admin.authorization)).statusCode, 400)

  // A provider moved to another organisation: its new owner may read the whole history, the old one no longer.
  await asActor(db, { caller: null }, (tx) => tx.execute(sql`UPDATE providers SET organisation_id = ${keys.otherEditor.organisationId}::uuid WHERE id = ${hidden}`))
  t.equal((await historyAs(app, hidden, keys.otherViewer.authorization)).statusCode, 200, 'the new owner reads it')
  t.equal((await historyAs(app, hidden, keys.ownViewer.authorization)).statusCode, 403, 'the old owner no longer')
  const newOwnerEditor = (await historyAs(app, hidden, keys.otherEditor.authorization)).json().items as Entry[]
  t.match(newOwnerEditor[0], { before: { address: null }, after: { address: `${ADDRESS}, upstairs` } }, 'the new owner’s editor sees the snapshots its organisation owns exactly')
  t.match(newOwnerEditor[1], { before: { address: null }, after: { address: null } }, 'and those from before the move masked')
})

t.test('history pages newest or oldest first', async (t) => {
  const { app, db, adminAuthorization } = await buildTestApp(t)
  const id = await providerWithHistory(db, '00000000-0000-4000-8000-000000000001', 'exact')
  const all = (await historyAs(app, id, adminAuthorization)).json().items as Entry[]
  for (const order of ['newest', 'oldest']) {
    const seen: number[] = []
    let cursor: string | null = null
    do {
      const page: { items: Entry[]; next_cursor: string | null } = (
        await historyAs(app, id, adminAuthorization, `?limit=1&order=${order}${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()
      t.ok(page.items.length <= 1)
      seen.push(...page.items.map((e) => e.id))
      cursor = page.next_cursor
    } while (cursor)
    const expected = all.map((e) => e.id)
    t.same(seen, order === 'newest' ? expected : [...expected].reverse(), `${order} first, one a page`)
  }
  t.equal((await historyAs(app, id, adminAuthorization, '?order=sideways')).statusCode, 400)
  t.equal((await historyAs(app, id, adminAuthorization, `?cursor=${Buffer.from('[-1]').toString('base64url')}`)).statusCode, 400)
})
