import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertLink, insertMou, insertVerifiedProvider, type ProviderSeed } from '../helpers/factories.js'
import { dayOffset, monthsAgo } from './util.js'

type Reason = { code: string; severity: string; provider_id: string; detail: string; date?: string; mou_id?: string; categories?: string[] }

t.test('every health reason, alone and together', async (t) => {
  const { app, db } = await buildTestApp(t)
  const today = await dayOffset(db, 0)
  const yesterday = await dayOffset(db, -1)
  const in59 = await dayOffset(db, 59)
  const in60 = await dayOffset(db, 60)
  const in61 = await dayOffset(db, 61)
  const stale = await monthsAgo(db, 12, -1)
  const justFresh = await monthsAgo(db, 12)

  let n = 0
  const fresh = (p: Partial<ProviderSeed> = {}) =>
    insertVerifiedProvider(db, { lat: 23 + n++ / 100, lon: 90, categories: ['health', 'legal'], ...p })
  const health = async (from: string, to: string, basis = 'informal', categories = ['health']) => {
    const id = await insertLink(db, { from, to, basis, categories })
    const res = await app.inject({ url: `/v1/referral-links/${id}` })
    t.equal(res.statusCode, 200)
    return res.json() as { health: string; health_reasons: Reason[] }
  }
  const codes = (h: { health_reasons: Reason[] }) => h.health_reasons.map((r) => r.code)

  const base = await fresh({ name: 'Base' })
  t.match(await health(base, await fresh()), { health: 'ok', health_reasons: [] })

  const closed = await fresh({ name: 'Closed NGO', status: 'closed' })
  let h = await health(closed, base)
  t.equal(h.health, 'broken')
  t.same(h.health_reasons, [
    { code: 'from_provider_closed', severity: 'broken', provider_id: closed, detail: 'the referring provider Closed NGO is closed' },
  ])
  const suspended = await fresh({ name: 'Paused NGO', status: 'suspended' })
  h = await health(base, suspended)
  t.same(h.health_reasons, [
    { code: 'to_provider_suspended', severity: 'broken', provider_id: suspended, detail: 'the receiving provider Paused NGO is suspended' },
  ])

  const unfunded = await fresh({ name: 'Unfunded', funded_until: yesterday })
  h = await health(unfunded, base)
  t.same(h.health_reasons, [
    { code: 'from_funding_ended', severity: 'broken', provider_id: unfunded, detail: `funding of the referring provider Unfunded ended on ${yesterday}`, date: yesterday },
  ])
  const endsToday = await fresh({ name: 'Last day', funded_until: today })
  h = await health(base, endsToday)
  t.equal(h.health, 'at_risk', 'funded until today is still funded, but at risk')
  t.same(codes(h), ['to_funding_ends_soon'])
  const ends60 = await fresh({ name: 'Sixty', funded_until: in60 })
  h = await health(base, ends60)
  t.same(h.health_reasons, [
    { code: 'to_funding_ends_soon', severity: 'at_risk', provider_id: ends60, detail: `funding of the receiving provider Sixty ends on ${in60}`, date: in60 },
  ])
  t.equal((await health(base, await fresh({ funded_until: in61 }))).health, 'ok', 'day 61 is beyond the window')

  const never = await fresh({ name: 'Never seen', verified_on: null })
  h = await health(never, base)
  t.same(h.health_reasons, [
    { code: 'from_never_verified', severity: 'broken', provider_id: never, detail: 'the referring provider Never seen has never been verified' },
  ])
  const old = await fresh({ name: 'Old', verified_on: stale })
  h = await health(base, old)
  t.same(h.health_reasons, [
    {
      code: 'to_not_verified',
      severity: 'broken',
      provider_id: old,
      detail: `the receiving provider Old was last verified on ${stale}, more than 12 months ago`,
      date: stale,
    },
  ])
  t.equal((await health(base, await fresh({ verified_on: justFresh }))).health, 'ok', 'exactly 12 months ago is not more than 12 months')

  // MOU basis: the receiving provider needs current signed MOUs covering every category of the link.
  const noMou = await fresh({ name: 'No MOU' })
  h = await health(base, noMou, 'mou', ['health', 'legal'])
  t.same(h.health_reasons, [
    {
      code: 'no_current_mou',
      severity: 'broken',
      provider_id: noMou,
      detail: 'the link rests on an MOU, but the receiving provider has no current signed MOU covering health, legal',
      categories: ['health', 'legal'],
    },
  ])
  const partial = await fresh()
  await insertMou(db, { provider_id: partial, categories: ['health'], expires_on: in61 })
  await insertMou(db, { provider_id: partial, categories: ['legal'], status: 'negotiating' })
  h = await health(base, partial, 'mou', ['health', 'legal'])
  t.same(h.health_reasons.map((r) => [r.code, r.categories]), [['no_current_mou', ['legal']]], 'a negotiating MOU is not current')
  const lapsed = await fresh()
  await insertMou(db, { provider_id: lapsed, categories: ['health'], expires_on: yesterday })
  t.same(codes(await health(base, lapsed, 'mou')), ['no_current_mou'], 'an MOU expired by date is not current, with no job run')
  const terminated = await fresh()
  await insertMou(db, { provider_id: terminated, categories: ['health'], status: 'terminated' })
  t.same(codes(await health(base, terminated, 'mou')), ['no_current_mou'])
  t.equal((await health(await fresh(), lapsed, 'sop')).health, 'ok', 'without an MOU basis, MOUs do not matter')

  const expiring = await fresh()
  const mouId = await insertMou(db, { provider_id: expiring, categories: ['health', 'shelter'], expires_on: in59, counterparty: 'MoWCA' })
  h = await health(base, expiring, 'mou')
  t.equal(h.health, 'at_risk')
  t.same(h.health_reasons, [
    {
      code: 'mou_expires_soon',
      severity: 'at_risk',
      provider_id: expiring,
      mou_id: mouId,
      date: in59,
      categories: ['health'],
      detail: `MOU ${mouId} with MoWCA, which covers health for this link, expires on ${in59}`,
    },
  ])
  const covered = await fresh()
  await insertMou(db, { provider_id: covered, categories: ['health'], expires_on: in59 })
  await insertMou(db, { provider_id: covered, categories: ['health'], expires_on: null })
  t.equal((await health(base, covered, 'mou')).health, 'ok', 'an MOU expiring soon does not matter when another outlasts it')

  // Every reason that applies, broken first; broken wins over at_risk.
  const wreck = await fresh({ name: 'Wreck', status: 'suspended', funded_until: in59, verified_on: null })
  h = await health(never, wreck, 'mou')
  t.equal(h.health, 'broken')
  t.same(codes(h), ['from_never_verified', 'to_provider_suspended', 'to_never_verified', 'no_current_mou', 'to_funding_ends_soon'])
})

t.test('health is computed on read: a provider change shows at once', async (t) => {
  const { app, db } = await buildTestApp(t)
  const a = await insertVerifiedProvider(db, { lat: 23, lon: 90 })
  const b = await insertVerifiedProvider(db, { lat: 23.1, lon: 90 })
  const id = await insertLink(db, { from: a, to: b })
  t.equal((await app.inject({ url: `/v1/referral-links/${id}` })).json().health, 'ok')
  await db.execute(sql`UPDATE providers SET status = 'closed' WHERE id = ${b}`)
  t.equal((await app.inject({ url: `/v1/referral-links/${id}` })).json().health, 'broken')
  await db.execute(sql`UPDATE providers SET status = 'active', funded_until = setu_today() + 5 WHERE id = ${b}`)
  t.equal((await app.inject({ url: `/v1/referral-links/${id}` })).json().health, 'at_risk')
})

t.test('the at-risk window and the verification age are configurable', async (t) => {
  const { app, db } = await buildTestApp(t, { LINK_AT_RISK_DAYS: 10, VERIFICATION_STALE_MONTHS: 3 })
  const a = await insertVerifiedProvider(db, { lat: 23, lon: 90, funded_until: await dayOffset(db, 30) })
  const b = await insertVerifiedProvider(db, { lat: 23.1, lon: 90, funded_until: await dayOffset(db, 9) })
  const c = await insertVerifiedProvider(db, { lat: 23.2, lon: 90, verified_on: await monthsAgo(db, 4) })
  const ab = await insertLink(db, { from: a, to: b })
  const ac = await insertLink(db, { from: a, to: c })
  t.same((await app.inject({ url: `/v1/referral-links/${ab}` })).json().health_reasons.map((r: Reason) => r.code), ['to_funding_ends_soon'])
  const h = (await app.inject({ url: `/v1/referral-links/${ac}` })).json()
  t.equal(h.health, 'broken')
  t.match(h.health_reasons[0], { code: 'to_not_verified', detail: /more than 3 months ago$/ })
})
