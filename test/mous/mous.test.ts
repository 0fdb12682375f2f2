import { sql } from 'drizzle-orm'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { mouStatusByCategory, mouStatusFilter } from '../../src/modules/mous/repo.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertMou, insertVerifiedProvider } from '../helpers/factories.js'
import { dayOffset, problemJson } from '../referral-links/util.js'

const STATUSES = ['draft', 'negotiating', 'signed', 'expired', 'terminated'] as const
const ALLOWED: Record<string, string[]> = {
  draft: ['negotiating', 'signed', 'terminated'],
  negotiating: ['draft', 'signed', 'terminated'],
  signed: ['expired', 'terminated'],
  expired: [],
  terminated: [],
}

const body = (extra: object = {}) => ({ counterparty: 'MoSVY', counterparty_level: 'national', categories: ['shelter'], ...extra })
const create = (app: FastifyInstance, providerId: string, extra: object = {}) =>
  app.inject({ method: 'POST', url: `/v1/providers/${providerId}/mous`, payload: body(extra) })
const patch = (app: FastifyInstance, id: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'PATCH', url: `/v1/mous/${id}`, payload, headers })

t.test('an MOU is created as a draft with a first history entry', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'KH12', name_en: 'Phnom Penh', country: 'KHM', admin_level: 1, bbox: [104.7, 11.4, 105.1, 11.7] })
  const p = await insertVerifiedProvider(db, { categories: ['shelter', 'health'], lat: 11.55, lon: 104.92 })
  const res = await create(app, p, { counterparty_level: 'province', counterparty_area: 'KH12', funding_project: 'Safe Return', document_ref: 'PP/1' })
  t.equal(res.statusCode, 201)
  const mou = res.json()
  t.equal(res.headers.location, `/v1/mous/${mou.id}`)
  t.match(mou, {
    provider_id: p,
    counterparty: 'MoSVY',
    funding_project: 'Safe Return',
    counterparty_level: 'province',
    counterparty_area: 'KH12',
    categories: ['shelter'],
    status: 'draft',
    recorded_status: 'draft',
    signed_on: null,
    expires_on: null,
    renews_mou_id: null,
    renewed_by_mou_ids: [],
    version: 1,
  })
  t.same((await app.inject({ url: `/v1/mous/${mou.id}` })).json(), mou)
  const history = (await app.inject({ url: `/v1/mous/${mou.id}/history` })).json()
  t.match(history, {
    items: [{ status: 'draft', status_changed: true, changes: {}, changed_by: { organisation: 'setu-demo', role: 'admin' }, derived: false }],
    next_cursor: null,
  })

  t.equal((await create(app, '00000000-0000-4000-8000-000000000000')).statusCode, 404)
  const badArea = await create(app, p, { counterparty_area: 'XX99' })
  t.equal(badArea.statusCode, 422)
  t.same(badArea.json().errors, [{ path: 'counterparty_area', message: 'area XX99 does not exist' }])
  const unsigned = await create(app, p, { status: 'signed' })
  t.equal(unsigned.statusCode, 422)
  t.match(unsigned.headers['content-type'], problemJson)
  t.same(unsigned.json().errors, [{ path: 'signed_on', message: 'required when status is signed' }])
  const backwards = await create(app, p, { status: 'signed', signed_on: '2025-05-01', expires_on: '2025-04-30' })
  t.equal(backwards.statusCode, 422)
  t.equal(backwards.json().detail, 'expires_on 2025-04-30 is before signed_on 2025-05-01')
  t.equal((await create(app, p, { status: 'pending' })).statusCode, 400)
  t.equal((await app.inject({ url: '/v1/mous/00000000-0000-4000-8000-000000000000' })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/mous/00000000-0000-4000-8000-000000000000/history' })).statusCode, 404)
})

t.test('every status transition, allowed and refused', async (t) => {
  const { app, db } = await buildTestApp(t)
  const p = await insertVerifiedProvider(db, { categories: ['shelter'], lat: 11.55, lon: 104.92 })
  for (const from of STATUSES) {
    for (const to of STATUSES) {
      if (from === to) continue
      const id = await insertMou(db, { provider_id: p, categories: ['shelter'], status: from, signed_on: '2025-01-01' })
      const res = await patch(app, id, { status: to, status_note: `to ${to}` })
      if (ALLOWED[from].includes(to)) {
        t.equal(res.statusCode, 200, `${from} → ${to} is allowed`)
        t.match(res.json(), { status: to, recorded_status: to, version: 2 })
        const history = (await app.inject({ url: `/v1/mous/${id}/history` })).json().items
        t.match(history, [{ status: from }, { status: to, status_changed: true, note: `to ${to}`, changes: { status: { from, to } } }])
      } else {
        t.equal(res.statusCode, 409, `${from} → ${to} is refused`)
        t.match(res.json(), { status: 409, from, to, detail: new RegExp(`^an MOU cannot change from ${from} to ${to}`) })
        t.match((await app.inject({ url: `/v1/mous/${id}` })).json(), { status: from, version: 1 }, 'nothing changed')
      }
    }
  }
  const draft = await insertMou(db, { provider_id: p, status: 'draft', signed_on: null })
  const unsigned = await patch(app, draft, { status: 'signed' })
  t.equal(unsigned.statusCode, 422, 'signed needs signed_on')
  t.equal(unsigned.json().detail, 'an MOU with status signed needs signed_on')
  t.equal((await patch(app, draft, { status: 'signed', signed_on: '2026-01-01' })).statusCode, 200)
  const terminated = await insertMou(db, { provider_id: p, status: 'terminated' })
  t.match((await patch(app, terminated, { status: 'draft' })).json(), { detail: 'an MOU cannot change from terminated to draft; nothing leaves terminated' })
})

t.test('a signed MOU past its expires_on reads as expired everywhere, with no job', async (t) => {
  const { app, db } = await buildTestApp(t)
  const yesterday = await dayOffset(db, -1)
  const today = await dayOffset(db, 0)
  const p = await insertVerifiedProvider(db, { categories: ['shelter', 'health'], lat: 11.55, lon: 104.92 })
  const lapsed = (await create(app, p, { status: 'signed', signed_on: '2024-01-01', expires_on: yesterday })).json()
  t.match(lapsed, { status: 'expired', recorded_status: 'signed' })
  const lastDay = (await create(app, p, { status: 'signed', signed_on: '2024-01-01', expires_on: today, categories: ['health'] })).json()
  t.match(lastDay, { status: 'signed' }, 'expires_on is the last day the MOU holds')

  const expiredIds = (await app.inject({ url: '/v1/mous?status=expired' })).json().items.map((m: { id: string }) => m.id)
  t.same(expiredIds, [lapsed.id])
  const signedIds = (await app.inject({ url: '/v1/mous?status=signed' })).json().items.map((m: { id: string }) => m.id)
  t.same(signedIds, [lastDay.id])

  const history = (await app.inject({ url: `/v1/mous/${lapsed.id}/history` })).json().items
  t.equal(history.length, 2)
  t.match(history[1], { status: 'expired', status_changed: true, derived: true, changed_by: null, note: `expires_on ${yesterday} passed` })
  t.equal(history[1].changed_at.slice(0, 10), today, 'derived expiry dated the day after expires_on')

  const resign = await patch(app, lapsed.id, { status: 'signed' })
  t.equal(resign.statusCode, 409)
  t.same(resign.json(), {
    type: 'urn:setu:problem:conflict',
    title: 'Conflict',
    status: 409,
    detail:
      `an MOU cannot change from expired to signed; an expired MOU is renewed only by a new MOU that references it: ` +
      `POST /v1/providers/${p}/mous with renews_mou_id ${lapsed.id}`,
    instance: `/v1/mous/${lapsed.id}`,
    request_id: resign.headers['x-request-id'],
    from: 'expired',
    to: 'signed',
  })
  const extend = await patch(app, lapsed.id, { expires_on: '2099-12-31' })
  t.equal(extend.statusCode, 409, 'moving expires_on forward would renew it in place')
  t.match(extend.json(), { from: 'expired', to: 'signed' })
  t.equal((await patch(app, lapsed.id, { notes: 'archived in the district office' })).statusCode, 200, 'other fields stay editable')
  const recorded = await patch(app, lapsed.id, { status: 'expired' })
  t.match(recorded.json(), { status: 'expired', recorded_status: 'expired' }, 'recording the expiry the date implied is allowed')
  const after = (await app.inject({ url: `/v1/mous/${lapsed.id}/history` })).json().items
  t.same(after.map((h: { status: string; derived: boolean }) => [h.status, h.derived]), [['signed', false], ['signed', false], ['expired', false]])
})

t.test('renewal: only an expired MOU of the same provider', async (t) => {
  const { app, db } = await buildTestApp(t)
  const p = await insertVerifiedProvider(db, { categories: ['shelter'], lat: 11.55, lon: 104.92 })
  const other = await insertVerifiedProvider(db, { categories: ['shelter'], lat: 11.56, lon: 104.92 })
  const expired = await insertMou(db, { provider_id: p, categories: ['shelter'], expires_on: await dayOffset(db, -10) })
  const signed = await insertMou(db, { provider_id: p, categories: ['shelter'], expires_on: null })
  const othersExpired = await insertMou(db, { provider_id: other, categories: ['shelter'], status: 'expired' })

  const notExpired = await create(app, p, { renews_mou_id: signed })
  t.equal(notExpired.statusCode, 409)
  t.match(notExpired.json(), { detail: `MOU ${signed} is signed; only an expired MOU can be renewed`, renews_mou_status: 'signed' })
  const foreign = await create(app, p, { renews_mou_id: othersExpired })
  t.equal(foreign.statusCode, 422)
  t.same(foreign.json().errors, [{ path: 'renews_mou_id', message: 'must be an MOU of the same provider' }])
  const ghost = await create(app, p, { renews_mou_id: '00000000-0000-4000-8000-000000000000' })
  t.equal(ghost.statusCode, 422)

  const renewal = await create(app, p, { renews_mou_id: expired, status: 'negotiating' })
  t.equal(renewal.statusCode, 201)
  t.equal(renewal.json().renews_mou_id, expired)
  t.same((await app.inject({ url: `/v1/mous/${expired}` })).json().renewed_by_mou_ids, [renewal.json().id])
})

t.test('every change is kept, and If-Match guards against lost updates', async (t) => {
  const { app, db } = await buildTestApp(t)
  const p = await insertVerifiedProvider(db, { categories: ['shelter', 'health'], lat: 11.55, lon: 104.92 })
  const id = (await create(app, p)).json().id
  t.equal((await patch(app, id, { status: 'negotiating' }, { 'if-match': '"1"' })).statusCode, 200)
  const stale = await patch(app, id, { notes: 'x' }, { 'if-match': '"1"' })
  t.equal(stale.statusCode, 412)
  t.match(stale.json(), { current_version: 2 })
  t.equal((await patch(app, id, { categories: ['shelter', 'health'], document_ref: 'D-7' })).statusCode, 200)
  const unchanged = await patch(app, id, { document_ref: 'D-7' })
  t.equal(unchanged.json().version, 3, 'a change to the same value writes nothing')
  t.equal((await patch(app, id, { status: 'signed', signed_on: '2026-01-05', expires_on: '2099-01-04' })).statusCode, 200)
  const items = (await app.inject({ url: `/v1/mous/${id}/history` })).json().items
  t.same(
    items.map((h: { status: string; status_changed: boolean; changes: object }) => [h.status, h.status_changed, h.changes]),
    [
      ['draft', true, {}],
      ['negotiating', true, { status: { from: 'draft', to: 'negotiating' } }],
      ['negotiating', false, { categories: { from: ['shelter'], to: ['shelter', 'health'] }, document_ref: { from: null, to: 'D-7' } }],
      ['signed', true, { status: { from: 'negotiating', to: 'signed' }, signed_on: { from: null, to: '2026-01-05' }, expires_on: { from: null, to: '2099-01-04' } }],
    ],
  )
  t.equal((await patch(app, id, { status_note: 'only a note' })).statusCode, 400)
})

t.test('list filters', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'KH12', name_en: 'Phnom Penh', country: 'KHM', admin_level: 1, bbox: [104.7, 11.4, 105.1, 11.7] })
  await insertArea(db, { pcode: 'KH17', name_en: 'Siem Reap', country: 'KHM', admin_level: 1, bbox: [103.5, 13, 104.2, 13.8] })
  const pp = await insertVerifiedProvider(db, { categories: ['shelter', 'health'], lat: 11.55, lon: 104.92 })
  const sr = await insertVerifiedProvider(db, { categories: ['legal'], lat: 13.36, lon: 103.86 })
  const a = await insertMou(db, { provider_id: pp, categories: ['shelter'], expires_on: await dayOffset(db, 30) })
  const b = await insertMou(db, { provider_id: pp, categories: ['health'], expires_on: await dayOffset(db, 90) })
  const c = await insertMou(db, { provider_id: sr, categories: ['legal'], status: 'negotiating' })
  const d = (await create(app, pp, { counterparty_level: 'province', counterparty_area: 'KH17', categories: ['health'] })).json().id
  const ids = async (q: string) => (await app.inject({ url: `/v1/mous?${q}` })).json().items.map((m: { id: string }) => m.id)
  t.same(await ids(''), [a, b, c, d])
  t.same(await ids(`provider=${sr}`), [c])
  t.same(await ids('category=health'), [b, d])
  t.same(await ids('status=negotiating'), [c])
  t.same(await ids('area=KH12'), [a, b, d])
  t.same(await ids('area=KH17'), [c, d], 'a provider inside, or a counterparty of the area')
  t.same(await ids('expiring_within_days=60'), [a])
  t.same(await ids('expiring_within_days=90'), [a, b])
  const page1 = (await app.inject({ url: '/v1/mous?limit=3' })).json()
  t.equal(page1.items.length, 3)
  t.same((await app.inject({ url: `/v1/mous?limit=3&cursor=${page1.next_cursor}` })).json().items.map((m: { id: string }) => m.id), [d])
  t.equal((await app.inject({ url: '/v1/mous?expiring_within_days=-1' })).statusCode, 400)
})

t.test('provider MOU status per category, and the filter the providers list uses', async (t) => {
  const { db } = await buildTestApp(t)
  const p = await insertVerifiedProvider(db, { categories: ['health', 'legal', 'shelter', 'counselling', 'livelihood'], lat: 11.55, lon: 104.92 })
  const q = await insertVerifiedProvider(db, { categories: ['health'], lat: 11.56, lon: 104.92 })
  await insertMou(db, { provider_id: p, categories: ['health'], expires_on: null })
  await insertMou(db, { provider_id: p, categories: ['health', 'legal'], status: 'negotiating' })
  await insertMou(db, { provider_id: p, categories: ['shelter'], expires_on: await dayOffset(db, -1) })
  await insertMou(db, { provider_id: p, categories: ['counselling'], status: 'draft' })
  await insertMou(db, { provider_id: p, categories: ['livelihood'], status: 'terminated' })
  const { rows } = await db.execute<{ s: Record<string, string> }>(sql`SELECT ${mouStatusByCategory('p')} AS s FROM providers p WHERE p.id = ${p}`)
  t.same(rows[0].s, { health: 'signed', legal: 'negotiating', shelter: 'expired', counselling: 'negotiating', livelihood: 'none' })

  const match = async (status: 'signed' | 'negotiating' | 'expired' | 'none', category?: string) => {
    const { rows } = await db.execute<{ id: string }>(
      sql`SELECT p.id FROM providers p WHERE ${mouStatusFilter(sql`p.id`, status, category)} ORDER BY p.id`,
    )
    return rows.map((r) => r.id)
  }
  t.same(await match('signed', 'health'), [p])
  t.same(await match('none', 'health'), [q])
  t.same(await match('expired', 'shelter'), [p])
  t.same(await match('expired'), [p])
  t.same(await match('none'), [p, q].sort(), 'any offered category with no MOU')
  t.same(await match('signed', 'legal'), [])
})
