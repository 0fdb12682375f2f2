// Issue 3: every provider shows its MOU status per category; lists and nearest filter on it.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertMou, insertProvider } from '../helpers/factories.js'
import { dayOffset } from '../referral-links/util.js'

t.test('mou_status per category on reads, and the mou_status filter on list and nearest', async (t) => {
  const { app, db } = await buildTestApp(t)
  // Days relative to the database's today, which SETU_TEST_TODAY may move, never the process clock.
  const isoDay = (offsetDays: number) => dayOffset(db, offsetDays)
  // Four shelters near Phnom Penh, one per MOU situation; distances grow with the index.
  const signed = await insertProvider(db, { name: 'A signed', lat: 11.56, lon: 104.92, categories: ['shelter', 'health'] })
  const negotiating = await insertProvider(db, { name: 'B negotiating', lat: 11.57, lon: 104.93, categories: ['shelter'] })
  const lapsed = await insertProvider(db, { name: 'C lapsed', lat: 11.6, lon: 104.95, categories: ['shelter'] })
  const none = await insertProvider(db, { name: 'D none', lat: 11.65, lon: 105.0, categories: ['shelter'] })
  await insertMou(db, { provider_id: signed, categories: ['shelter'], status: 'signed', signed_on: await isoDay(-100), expires_on: await isoDay(300) })
  await insertMou(db, { provider_id: negotiating, categories: ['shelter'], status: 'draft' })
  // Signed, but its expires_on has passed: reads as expired with no job having run.
  await insertMou(db, { provider_id: lapsed, categories: ['shelter'], status: 'signed', signed_on: await isoDay(-800), expires_on: await isoDay(-1) })

  const one = await app.inject({ url: `/v1/providers/${signed}` })
  t.equal(one.statusCode, 200)
  t.same(one.json().mou_status, { shelter: 'signed', health: 'none' })
  t.same((await app.inject({ url: `/v1/providers/${lapsed}` })).json().mou_status, { shelter: 'expired' })
  t.same((await app.inject({ url: `/v1/providers/${none}` })).json().mou_status, { shelter: 'none' })

  const names = (res: { json(): { items: Array<{ name: string }> } }) => res.json().items.map((p) => p.name)
  const list = (qs: string) => app.inject({ url: `/v1/providers?${qs}` })
  t.same(names(await list('mou_status=signed')), ['A signed'])
  t.same(names(await list('mou_status=negotiating&category=shelter')), ['B negotiating'])
  t.same(names(await list('mou_status=expired')), ['C lapsed'])
  // Without a category, "none" matches a provider with any offered category lacking an MOU (A's health).
  t.same(names(await list('mou_status=none')), ['A signed', 'D none'])
  t.same(names(await list('mou_status=none&category=shelter')), ['D none'])

  const nearest = await app.inject({ url: '/v1/providers/nearest?lat=11.55&lon=104.91&category=shelter&mou_status=signed&limit=10' })
  t.equal(nearest.statusCode, 200)
  t.same(names(nearest), ['A signed'])
  const notSigned = await app.inject({ url: '/v1/providers/nearest?lat=11.55&lon=104.91&category=shelter&mou_status=expired' })
  t.same(names(notSigned), ['C lapsed'])

  const bad = await app.inject({ url: '/v1/providers?mou_status=lapsed' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { status: 400, errors: [{ path: 'mou_status' }] })
})
