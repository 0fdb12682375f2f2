// The pathways query reads only the network near the start and stops once the answer is complete; these
// tests pin that it still answers exactly what the plain whole-table query (reference.ts) answers.
import t from 'tap'
import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'
import { chainsSql } from '../../src/modules/pathways/repo.js'
import { buildTestApp, testConfig } from '../helpers/app.js'
import { insertLink, insertMou, insertVerifiedProvider } from '../helpers/factories.js'
import { dayOffset, monthsAgo } from '../referral-links/util.js'
import { referenceChainsSql } from './reference.js'

const HEALTH = { atRiskDays: testConfig.LINK_AT_RISK_DAYS!, staleMonths: testConfig.VERIFICATION_STALE_MONTHS! }
const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood']

type Chain = { provider_ids: string[]; link_ids: string[]; hops: number; distance_m: number; links: { health: string }[] }

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

async function reference(db: Db, start: string, category: string, maxHops: number, limit: number) {
  const { rows } = await db.execute<{ path: string[]; link_ids: string[]; hops: number; distance_m: number }>(
    referenceChainsSql(start, category, maxHops, limit, HEALTH),
  )
  return rows.map((r) => ({ provider_ids: r.path, link_ids: r.link_ids, hops: r.hops, distance_m: r.distance_m }))
}

t.test('on a random network with cycles and every kind of health, the answer is the reference answer', async (t) => {
  const { app, db } = await buildTestApp(t)
  const rnd = random(20240611)
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]
  const soon = await dayOffset(db, 30)
  const ended = await dayOffset(db, -1)
  const stale = await monthsAgo(db, 13)

  // Three clusters of 40 providers, 12 km across, 60 km apart.
  const providers: { id: string; cluster: number; categories: string[] }[] = []
  for (let i = 0; i < 120; i++) {
    const cluster = i % 3
    const categories = CATEGORIES.filter(() => rnd() < 0.35)
    if (!categories.length) categories.push(pick(CATEGORIES))
    const r = rnd()
    const id = await insertVerifiedProvider(db, {
      name: `R${i}`,
      kind: rnd() < 0.3 ? 'focal_point' : pick(['ngo', 'government', 'community_group']),
      categories,
      lat: 23 + cluster * 0.5 + rnd() * 0.1,
      lon: 90 + rnd() * 0.1,
      status: r < 0.05 ? 'suspended' : r < 0.08 ? 'closed' : 'active',
      funded_until: r > 0.8 ? soon : r > 0.76 ? ended : null,
      verified_on: r > 0.1 && r < 0.14 ? null : r > 0.14 && r < 0.17 ? stale : undefined,
    })
    providers.push({ id, cluster, categories })
  }
  // 2-7 links out of each, mostly inside the cluster, a third of them answered by a link back; categories
  // mostly what the receiver offers (sometimes one it has stopped offering); some on MOUs, some inactive.
  const pairs = new Set<string>()
  const mouBased = new Set<number>()
  const addLink = async (from: number, to: number) => {
    if (from === to || pairs.has(`${from}>${to}`)) return
    pairs.add(`${from}>${to}`)
    const offered = providers[to].categories
    const categories = rnd() < 0.1 ? [pick(CATEGORIES)] : offered.filter(() => rnd() < 0.7)
    const basis = rnd() < 0.15 ? 'mou' : pick(['informal', 'sop'])
    if (basis === 'mou') mouBased.add(to)
    await insertLink(db, {
      from: providers[from].id,
      to: providers[to].id,
      categories: categories.length ? categories : [offered[0]],
      basis,
      status: rnd() < 0.08 ? 'inactive' : 'active',
    })
  }
  for (let i = 0; i < providers.length; i++) {
    const out = 2 + Math.floor(rnd() * 6)
    for (let k = 0; k < out; k++) {
      const to = rnd() < 0.06 ? Math.floor(rnd() * 120) : providers[i].cluster + 3 * Math.floor(rnd() * 40)
      await addLink(i, to)
      if (rnd() < 0.33) await addLink(to, i)
    }
  }
  for (const to of mouBased) {
    const r = rnd()
    if (r < 0.6) await insertMou(db, { provider_id: providers[to].id, categories: providers[to].categories })
    else if (r < 0.8) await insertMou(db, { provider_id: providers[to].id, categories: providers[to].categories, expires_on: soon })
    else if (r < 0.9) await insertMou(db, { provider_id: providers[to].id, categories: providers[to].categories, expires_on: ended })
  }

  const stats = { requests: 0, atLimit: 0, none: 0, longest: 0, atRisk: 0 }
  const starts = providers.filter((_, i) => i % 6 === 0)
  for (const [i, start] of starts.entries()) {
    for (const [j, category] of CATEGORIES.entries()) {
      const cycled = { maxHops: 1 + ((i + j) % 5), limit: [1, 2, 5, 20][(i * 5 + j) % 4] }
      for (const { maxHops, limit } of [cycled, { maxHops: 5, limit: 20 }]) {
        const url = `/v1/pathways?from=${start.id}&category=${category}&max_hops=${maxHops}&limit=${limit}`
        const res = await app.inject({ url })
        t.equal(res.statusCode, 200, url)
        const items: Chain[] = res.json().items
        const got = items.map(({ provider_ids, link_ids, hops, distance_m }) => ({ provider_ids, link_ids, hops, distance_m }))
        t.same(got, await reference(db, start.id, category, maxHops, limit), url)
        stats.requests++
        if (items.length === limit) stats.atLimit++
        if (!items.length) stats.none++
        stats.longest = Math.max(stats.longest, ...items.map((c) => c.hops))
        stats.atRisk += items.filter((c) => c.links.some((l) => l.health === 'at_risk')).length
      }
    }
  }
  t.equal(stats.requests, 200)
  // The sample reaches every part of the query: answers cut at the limit, empty answers, long chains, at-risk links.
  t.ok(stats.atLimit >= 40, `${stats.atLimit} answers at the limit`)
  t.ok(stats.none >= 5, `${stats.none} empty answers`)
  t.ok(stats.longest >= 4, `chains of up to ${stats.longest} hops`)
  t.ok(stats.atRisk >= 20, `${stats.atRisk} chains with an at-risk link`)
})

/*
 * S → A [legal], A 55 km north                  one hop, far
 * S → Z [legal], Z never verified: broken       must not count towards the limit
 * S → Y [legal], Y offers health only           carries legal, but Y does not answer
 * S → B [counselling] → C [legal], 1 km steps   two hops, near
 * Y → C [legal]                                 two hops, 6-7 km
 * P1 → P2 → P3 → P4 → P5 → T [legal]            an answer at exactly five hops
 */
t.test('the search stops after the length that completes the answer, counting only usable answering chains', async (t) => {
  const { app, db } = await buildTestApp(t)
  const id: Record<string, string> = {}
  const at = (name: string, lat: number, lon: number, extra: { categories?: string[]; verified_on?: null } = {}) =>
    insertVerifiedProvider(db, { name, categories: ['legal'], lat, lon, ...extra }).then((v) => (id[name] = v))
  await at('S', 23.0, 90.0, { categories: ['counselling'] })
  await at('A', 23.5, 90.0)
  await at('Z', 23.001, 90.0, { verified_on: null })
  await at('Y', 23.0, 90.03, { categories: ['health'] })
  await at('B', 23.01, 90.0, { categories: ['counselling'] })
  await at('C', 23.02, 90.0)
  for (const [i, lat] of [23.1, 23.11, 23.12, 23.13, 23.14].entries()) await at(`P${i + 1}`, lat, 90.0, { categories: ['health'] })
  await at('T', 23.15, 90.0)
  const link = (from: string, to: string, categories: string[]) => insertLink(db, { from: id[from], to: id[to], categories })
  await link('S', 'A', ['legal'])
  await link('S', 'Z', ['legal'])
  await link('S', 'Y', ['legal'])
  await link('S', 'B', ['counselling'])
  await link('B', 'C', ['legal'])
  await link('Y', 'C', ['legal'])
  for (const [from, to] of [['P1', 'P2'], ['P2', 'P3'], ['P3', 'P4'], ['P4', 'P5']]) await link(from, to, ['health'])
  await link('P5', 'T', ['legal'])

  const name = Object.fromEntries(Object.entries(id).map(([k, v]) => [v, k]))
  const chains = async (from: string, maxHops: number, limit: number) => {
    const res = await app.inject({ url: `/v1/pathways?from=${id[from]}&category=legal&max_hops=${maxHops}&limit=${limit}` })
    t.equal(res.statusCode, 200)
    const items: Chain[] = res.json().items
    t.same(
      items.map((c) => c.link_ids),
      (await reference(db, id[from], 'legal', maxHops, limit)).map((c) => c.link_ids),
      `from ${from}, max_hops ${maxHops}, limit ${limit}: the reference answer`,
    )
    return items.map((c) => c.provider_ids.map((p) => name[p]).join('-'))
  }
  t.same(await chains('S', 5, 1), ['S-A'], 'one hop beats any distance')
  // Had the broken S → Z, or S → Y (Y does not offer legal), counted, the search would stop after one hop.
  t.same(await chains('S', 5, 2), ['S-A', 'S-B-C'])
  t.same(await chains('S', 5, 3), ['S-A', 'S-B-C', 'S-Y-C'])
  t.same(await chains('S', 5, 20), ['S-A', 'S-B-C', 'S-Y-C'])
  t.same(await chains('S', 1, 20), ['S-A'])
  t.same(await chains('P1', 5, 5), ['P1-P2-P3-P4-P5-T'], 'an answer at exactly max_hops')
  t.same(await chains('P1', 4, 5), [])
  t.same(await chains('P2', 4, 5), ['P2-P3-P4-P5-T'])
})

/** Rows the plan read from `relation`, over every node of an EXPLAIN (ANALYZE, FORMAT JSON) plan. */
function rowsRead(plan: Record<string, unknown>, relation: string): number {
  const own =
    plan['Relation Name'] === relation
      ? (Number(plan['Actual Rows']) + Number(plan['Rows Removed by Filter'] ?? 0) + Number(plan['Rows Removed by Index Recheck'] ?? 0)) *
        Number(plan['Actual Loops'])
      : 0
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? []
  return own + children.reduce((sum, child) => sum + rowsRead(child, relation), 0)
}

async function explain(db: Db, query: SQL) {
  const { rows } = await db.execute<{ 'QUERY PLAN': unknown }>(sql`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`)
  const doc = rows[0]['QUERY PLAN']
  const parsed = (typeof doc === 'string' ? JSON.parse(doc) : doc) as { Plan: Record<string, unknown> }[]
  return parsed[0].Plan
}

t.test('the query reads the links near the start, not the rest of the network', async (t) => {
  const { app, db } = await buildTestApp(t)
  // Near the start: S → A → B → C [legal], S → D [health].
  const id: Record<string, string> = {}
  for (const [i, n] of ['S', 'A', 'B', 'C', 'D'].entries()) {
    id[n] = await insertVerifiedProvider(db, { name: n, categories: n === 'C' ? ['legal'] : ['health'], lat: 23 + i * 0.01, lon: 90 })
  }
  await insertLink(db, { from: id.S, to: id.A, categories: ['health'] })
  await insertLink(db, { from: id.A, to: id.B, categories: ['health'] })
  await insertLink(db, { from: id.B, to: id.C, categories: ['legal'] })
  await insertLink(db, { from: id.S, to: id.D, categories: ['health'] })
  // Elsewhere: 1,000 providers, 8 links out of each, 8,000 healthy links the start cannot reach (enough rows
  // for the planner to look providers up by key, as in production, rather than scan a tiny table).
  await db.execute(sql`
    INSERT INTO providers (name, search_text, kind, categories, location, verified_on)
    SELECT 'Far ' || g, 'far ' || g, 'ngo', ARRAY['legal', 'health'], ST_SetSRID(ST_MakePoint(91 + g * 0.001, 24), 4326), setu_today()
    FROM generate_series(0, 999) g`)
  await db.execute(sql`
    INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis)
    SELECT f.id, t.id, ARRAY['legal'], 'informal'
    FROM providers f CROSS JOIN generate_series(1, 8) k
    JOIN providers t ON t.name = 'Far ' || ((substr(f.name, 5)::int + k) % 1000)
    WHERE f.name LIKE 'Far %'`)
  await db.execute(sql`ANALYZE`)

  const res = await app.inject({ url: `/v1/pathways?from=${id.S}&category=legal&max_hops=5&limit=20` })
  t.same(res.json().items.map((c: Chain) => c.provider_ids), [[id.S, id.A, id.B, id.C]])

  const bounded = await explain(db, chainsSql(id.S, 'legal', 5, 20, HEALTH))
  const whole = await explain(db, referenceChainsSql(id.S, 'legal', 5, 20, HEALTH))
  t.ok(rowsRead(whole, 'referral_links') >= 8000, `the reference reads every link (${rowsRead(whole, 'referral_links')} rows)`)
  t.ok(rowsRead(bounded, 'referral_links') <= 40, `the pathways query reads the 4 links near the start (${rowsRead(bounded, 'referral_links')} rows)`)
  t.ok(rowsRead(bounded, 'providers') <= 60, `and the providers at their ends (${rowsRead(bounded, 'providers')} rows)`)
})
