// "Today" in every date rule is setu_today(), which a connection can fix (createDb's `today`). The same rows
// read through two connections fixed on two days show the transitions the calendar brings; the demo set
// loaded on any day reads as it does on its anchor day.
import { sql, type SQL } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createDb, type Db } from '../../src/db/client.js'
import { databaseToday, DEMO_SCHEME, loadDemoData, readDemoProviders, SEED_ANCHOR_DATE } from '../../src/demo/seed.js'
import { keyFor, testConfig } from '../helpers/app.js'
import { closePool, createTestDatabase, type TestDatabaseOptions } from '../helpers/db.js'
import { insertLink, insertMou, insertVerifiedProvider } from '../helpers/factories.js'

type Reason = { code: string; date?: string }
type Link = { id: string; from_provider_id: string; to_provider_id: string; health: string; health_reasons: Reason[] }
interface Teardown {
  teardown(fn: () => unknown): void
}

const one = async (db: Db, query: SQL) => (await db.execute<{ v: string }>(query)).rows[0].v
const plusDays = (db: Db, day: string, days: number) => one(db, sql`SELECT (${day}::date + ${days}::int)::text AS v`)
const minusMonths = (db: Db, day: string, months: number) =>
  one(db, sql`SELECT (${day}::date - make_interval(months => ${months}::int))::date::text AS v`)

// Links and MOUs are for API keys: each app reads with an admin key of its database.
const authorizations = new WeakMap<FastifyInstance, string>()

/** An app over an existing database whose connections all read `today`; closed with the test. */
async function appOn(t: Teardown, url: string, today: string) {
  const db = createDb(url, { max: 2, today })
  const app = await buildApp(testConfig, { db })
  t.teardown(async () => {
    await app.close()
    await closePool(db)
  })
  authorizations.set(app, (await keyFor(db, 'admin')).authorization)
  return { app, db }
}

/** A fresh database with its app; `today` defaults to the suite's (SETU_TEST_TODAY or the real date). */
async function freshApp(t: Teardown, options: TestDatabaseOptions = {}) {
  const database = await createTestDatabase(options)
  const app = await buildApp(testConfig, { db: database.db })
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  authorizations.set(app, (await keyFor(database.db, 'admin')).authorization)
  return { app, db: database.db, url: database.url }
}

const get = async (app: FastifyInstance, url: string) => {
  const res = await app.inject({ url, headers: { authorization: authorizations.get(app) } })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}
const codes = (l: Link) => l.health_reasons.map((r) => r.code)

t.test('setu_today() is the session calendar day unless the connection fixes one', async (t) => {
  const database = await createTestDatabase()
  const plain = createDb(database.url, { max: 1 })
  const fixed = createDb(database.url, { max: 1, today: '2031-02-03', timeZone: 'Pacific/Kiritimati' })
  t.teardown(async () => {
    await closePool(plain)
    await closePool(fixed)
    await database.drop()
  })
  const check = async (db: Db) =>
    (await db.execute<{ today: string; same: boolean }>(sql`SELECT setu_today()::text AS today, setu_today() = current_date AS same`)).rows[0]
  t.equal((await check(plain)).same, true, 'unset: current_date')
  t.same(await check(fixed), { today: '2031-02-03', same: false }, 'fixed: that day, whatever the time zone')

  // A setting made for one transaction leaves an empty placeholder behind, which must read as unset.
  await plain.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL setu.today = '2030-01-01'`)
    t.equal((await tx.execute<{ d: string }>(sql`SELECT setu_today()::text AS d`)).rows[0].d, '2030-01-01')
  })
  t.equal((await check(plain)).same, true, 'after the transaction: current_date again')

  t.throws(() => createDb(database.url, { today: '2031-02-03 -c statement_timeout=1' }), /YYYY-MM-DD/)
})

t.test('the same rows read 90 days apart: MOU expiry, funding end and verification age move them', async (t) => {
  const now = await freshApp(t)
  const day0 = await databaseToday(now.db)
  const day90 = await plusDays(now.db, day0, 90)
  const later = await appOn(t, now.url, day90)
  t.equal(await databaseToday(later.db), day90)

  const expires = await plusDays(now.db, day0, 30)
  const fundingEnds = await plusDays(now.db, day0, 45)
  // 11 months old today: fresh now, more than VERIFICATION_STALE_MONTHS (12) old 90 days later.
  const verified = await minusMonths(now.db, day0, 11)
  let n = 0
  const provider = (p: { categories?: string[]; funded_until?: string; verified_on?: string } = {}) =>
    insertVerifiedProvider(now.db, { lat: 11.5 + n++ / 100, lon: 104.9, categories: ['health', 'shelter'], ...p })
  const hub = await provider()
  const shelter = await provider({ categories: ['shelter'] })
  const mou = await insertMou(now.db, { provider_id: shelter, categories: ['shelter'], signed_on: await plusDays(now.db, day0, -300), expires_on: expires })
  const links = {
    mou: await insertLink(now.db, { from: hub, to: shelter, basis: 'mou', categories: ['shelter'] }),
    funding: await insertLink(now.db, { from: hub, to: await provider({ funded_until: fundingEnds }) }),
    verification: await insertLink(now.db, { from: hub, to: await provider({ verified_on: verified }) }),
    control: await insertLink(now.db, { from: hub, to: await provider({ funded_until: await plusDays(now.db, day0, 400) }) }),
  }
  const read = async (app: FastifyInstance) => {
    const health: Record<string, { health: string; codes: string[]; dates: (string | undefined)[] }> = {}
    for (const [name, id] of Object.entries(links)) {
      const l = (await get(app, `/v1/referral-links/${id}`)) as Link
      health[name] = { health: l.health, codes: codes(l), dates: l.health_reasons.map((r) => r.date) }
    }
    const m = await get(app, `/v1/mous/${mou}`)
    const expiring = (await get(app, '/v1/mous?expiring_within_days=60')).items.map((x: { id: string }) => x.id)
    const history = (await get(app, `/v1/mous/${mou}/history`)).items as { status: string; derived: boolean; changed_at: string }[]
    const mouStatus = (await get(app, `/v1/providers/${shelter}`)).mou_status
    const broken = (await get(app, '/v1/referral-links?health=broken')).items.length
    return { health, mou: { status: m.status, recorded: m.recorded_status }, expiring, history, mouStatus, broken }
  }

  const at0 = await read(now.app)
  t.same(at0.health, {
    mou: { health: 'at_risk', codes: ['mou_expires_soon'], dates: [expires] },
    funding: { health: 'at_risk', codes: ['to_funding_ends_soon'], dates: [fundingEnds] },
    verification: { health: 'ok', codes: [], dates: [] },
    control: { health: 'ok', codes: [], dates: [] },
  }, `on ${day0}`)
  t.same(at0.mou, { status: 'signed', recorded: 'signed' })
  t.same(at0.expiring, [mou], 'expires within 60 days')
  t.same(at0.history.map((h) => h.derived), [false], 'no derived expiry yet')
  t.same(at0.mouStatus, { shelter: 'signed' })
  t.equal(at0.broken, 0)

  const at90 = await read(later.app)
  t.same(at90.health, {
    mou: { health: 'broken', codes: ['no_current_mou'], dates: [undefined] },
    funding: { health: 'broken', codes: ['to_funding_ended'], dates: [fundingEnds] },
    verification: { health: 'broken', codes: ['to_not_verified'], dates: [verified] },
    control: { health: 'ok', codes: [], dates: [] },
  }, `on ${day90}`)
  t.same(at90.mou, { status: 'expired', recorded: 'signed' }, 'expired by date, no one wrote it')
  t.same(at90.expiring, [])
  t.same(at90.history.map((h) => [h.status, h.derived]), [['signed', false], ['expired', true]])
  t.equal(at90.history[1].changed_at.slice(0, 10), await plusDays(now.db, expires, 1), 'expired from the day after expires_on')
  t.same(at90.mouStatus, { shelter: 'expired' })
  t.equal(at90.broken, 3)

  // Both connections read the same rows: nothing was written, only "today" differs.
  t.same(await read(now.app), at0, 'the first day still reads as before')
})

t.test('the demo set loaded on any day reads as on its anchor day; loaded once, it decays', async (t) => {
  const anchor = await freshApp(t, { today: SEED_ANCHOR_DATE })
  const current = await freshApp(t)
  const today = await databaseToday(current.db)
  t.comment(`anchor ${SEED_ANCHOR_DATE}, today ${today}`)
  await loadDemoData(anchor.db)
  await loadDemoData(current.db)

  // Links and MOUs keyed by demo ids, so the two databases' rows can be compared one to one.
  const demoIds = async (db: Db) =>
    new Map((await db.execute<{ id: string; demo: string }>(sql`
      SELECT p.id, e.value->>'id' AS demo FROM providers p, jsonb_array_elements(p.external_ids) e
      WHERE e.value->>'scheme' = ${DEMO_SCHEME}`)).rows.map((r) => [r.id, r.demo]))
  const linkHealth = async (app: FastifyInstance, db: Db) => {
    const ids = await demoIds(db)
    // Every page: the demo set holds more links than one page of 500.
    const items: Link[] = []
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
      const page = (await get(app, `/v1/referral-links?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)) as { items: Link[]; next_cursor: string | null }
      items.push(...page.items)
      cursor = page.next_cursor
    }
    return new Map(items.map((l) => [`${ids.get(l.from_provider_id)} → ${ids.get(l.to_provider_id)}`, `${l.health} ${codes(l).join(',')}`]))
  }
  const mouStatus = async (app: FastifyInstance, query = '') => {
    const { items } = await get(app, `/v1/mous?limit=500${query}`)
    return Object.fromEntries((items as { document_ref: string; status: string }[]).map((m) => [m.document_ref, m.status]))
  }
  const mix = (health: Map<string, string>) =>
    [...health.values()].reduce<Record<string, number>>((acc, h) => ((acc[h.split(' ')[0]] = (acc[h.split(' ')[0]] ?? 0) + 1), acc), {})

  const onAnchor = await linkHealth(anchor.app, anchor.db)
  const onToday = await linkHealth(current.app, current.db)
  t.comment(`mix on the anchor day ${JSON.stringify(mix(onAnchor))}, loaded today ${JSON.stringify(mix(onToday))}`)
  for (const h of ['ok', 'at_risk', 'broken']) t.ok(mix(onAnchor)[h] > 0, `some links are ${h}`)
  t.same(await mouStatus(current.app), await mouStatus(anchor.app), 'every MOU reads the same status')
  t.same(await mouStatus(current.app, '&expiring_within_days=60'), await mouStatus(anchor.app, '&expiring_within_days=60'))

  // Dates move by whole days, but "more than 12 months ago" spans 365 or 366 days depending on the day: an
  // end verified exactly 366 days before the anchor is stale on some days and not on others. Only links
  // with such an end may differ.
  const leapBorder = new Set(readDemoProviders().filter((p) => {
    const on = (p.verification as { on: string } | undefined)?.on
    return on !== undefined && (Date.parse(SEED_ANCHOR_DATE) - Date.parse(on)) / 86_400_000 === 366
  }).map((p) => (p.external_ids as { scheme: string; id: string }[]).find((e) => e.scheme === DEMO_SCHEME)!.id))
  const differing = [...onAnchor.keys()].filter((k) => onAnchor.get(k) !== onToday.get(k))
  const unexplained = differing.filter((k) => !k.split(' → ').some((id) => leapBorder.has(id)))
  t.same(unexplained, [], `every link reads as on the anchor day (${differing.length} differ by an end verified exactly 366 days before it)`)
  t.equal(onToday.size, onAnchor.size)

  // The anchor-day database read 400 days on: nothing refreshed its dates, so links break and MOUs lapse.
  const decayed = await appOn(t, anchor.url, await plusDays(anchor.db, SEED_ANCHOR_DATE, 400))
  const aged = mix(await linkHealth(decayed.app, decayed.db))
  t.comment(`the anchor-day database 400 days on: ${JSON.stringify(aged)}`)
  t.ok(aged.broken > mix(onAnchor).broken, 'more links are broken')
  t.ok((aged.ok ?? 0) < mix(onAnchor).ok, 'fewer links are ok')
  const statuses = (s: Record<string, string>) => Object.values(s).filter((v) => v === 'expired').length
  t.ok(statuses(await mouStatus(decayed.app)) > statuses(await mouStatus(anchor.app)), 'more MOUs read as expired')
})
