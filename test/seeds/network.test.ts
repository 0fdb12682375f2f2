// The demo referral network: MOUs and referral links between the demo providers, loaded and reloaded.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp } from '../helpers/app.js'
import {
  DEMO_AREA_FILES,
  DEMO_NETWORK_NOTE_PREFIX,
  DEMO_SCHEME,
  loadDemoData,
  readDemoAreas,
  readDemoLinks,
  readDemoMous,
  readDemoProviders,
} from '../../src/demo/seed.js'
import { providersService } from '../../src/modules/providers/service.js'

const ANCHOR = '2026-11-23'
const IN_60_DAYS = '2027-01-22'
const providers = readDemoProviders()
const links = readDemoLinks()
const mous = readDemoMous()
const byDemoId = new Map(
  providers.map((p) => [(p.external_ids as { scheme: string; id: string }[]).find((e) => e.scheme === DEMO_SCHEME)!.id, p]),
)
const countOf = <T>(xs: T[], key: (x: T) => string) =>
  xs.reduce<Record<string, number>>((acc, x) => ((acc[key(x)] = (acc[key(x)] ?? 0) + 1), acc), {})

t.test('the seed files follow the API rules and say they are demo data', async (t) => {
  // Sanity bounds: the district-level network (about 450) plus the focal points' links in the unions and communes.
  t.ok(links.length >= 450 && links.length <= 800, `${links.length} links`)
  t.ok(mous.length >= 60 && mous.length <= 120, `${mous.length} MOUs`)
  const problems: string[] = []
  const pairs = new Set<string>()
  for (const l of links) {
    const from = byDemoId.get(l.from)
    const to = byDemoId.get(l.to)
    const name = `${l.from} → ${l.to}`
    if (!from || !to) { problems.push(`${name}: unknown end`); continue }
    if (l.from === l.to) problems.push(`${name}: self-link`)
    if (pairs.has(name)) problems.push(`${name}: second link for the pair`)
    pairs.add(name)
    if (l.from.slice(0, 3) !== l.to.slice(0, 3)) problems.push(`${name}: crosses a border`)
    if (from.status === 'closed' || to.status === 'closed') problems.push(`${name}: closed end`)
    for (const c of l.categories as string[]) if (!(to.categories as string[]).includes(c)) problems.push(`${name}: ${c} not offered`)
    if (!(l.notes as string).startsWith(DEMO_NETWORK_NOTE_PREFIX)) problems.push(`${name}: notes lack the demo marker`)
    if (JSON.stringify(l).match(/[0-9a-f]{8}-[0-9a-f]{4}-/)) problems.push(`${name}: holds a uuid`)
  }
  for (const m of mous) {
    if (!byDemoId.has(m.provider)) problems.push(`${m.document_ref}: unknown provider`)
    if (!(m.notes as string).startsWith(DEMO_NETWORK_NOTE_PREFIX)) problems.push(`${m.document_ref}: notes lack the demo marker`)
    if (m.funding_project && !(m.funding_project as string).includes('(demo project)')) problems.push(`${m.document_ref}: donor project not marked demo`)
    if (m.renews && !mous.some((r) => r.document_ref === m.renews && r.provider === m.provider)) problems.push(`${m.document_ref}: renews a missing MOU`)
  }
  t.same(problems, [])
  t.equal(new Set(mous.map((m) => m.document_ref)).size, mous.length, 'document_ref is unique (it keys a reload)')

  // Cambodian government ↔ NGO links rest on an MOU or an SOP; Bangladesh has court orders to shelters.
  const bases = countOf(links, (l) => `${l.from.slice(0, 3)} ${l.basis}`)
  t.ok(bases['KHM mou'] > 10 && bases['BGD court_order'] > 5 && bases['BGD informal'] > 50 && bases['BGD sop'] > 50, JSON.stringify(bases))
  t.notOk(bases['BGD mou'], 'no MOU-based links in Bangladesh')
  const kinds = countOf(links.filter((l) => l.from.startsWith('BGD')), (l) => byDemoId.get(l.from)!.kind as string)
  t.ok(kinds.focal_point > 40 && kinds.survivor_group > 5, `Bangladesh referrers: ${JSON.stringify(kinds)}`)

  // What each MOU reads as on the anchor day.
  const readAs = countOf(mous, (m) =>
    m.status !== 'signed' ? (m.status as string)
      : (m.expires_on as string) < ANCHOR ? 'signed, expired by date'
      : (m.expires_on as string) <= IN_60_DAYS ? 'signed, expiring within 60 days' : 'signed, current')
  for (const state of ['signed, current', 'signed, expired by date', 'signed, expiring within 60 days', 'negotiating', 'draft', 'terminated']) {
    t.ok(readAs[state] > 0, `${state}: ${readAs[state]}`)
  }
  t.ok(mous.some((m) => m.renews), 'some MOUs renew an expired one')
  const cats = countOf(mous.flatMap((m) => m.categories as string[]), (c) => c)
  t.ok(cats.shelter + cats.health > 2 * ((cats.legal ?? 0) + (cats.livelihood ?? 0)), `mostly shelter and health: ${JSON.stringify(cats)}`)
  t.ok(mous.some((m) => m.provider.startsWith('KHM') && m.counterparty_level === 'national'), 'Cambodian MOUs with a ministry')
  t.ok(mous.some((m) => m.provider.startsWith('KHM') && m.counterparty_level === 'province' && m.counterparty_area), 'and with a provincial department')
})

t.test('loaded, every link and MOU reads back through the API; reload is idempotent', async (t) => {
  const { app, db } = await buildTestApp(t)
  const counts = await loadDemoData(db)
  const areas = DEMO_AREA_FILES.reduce((sum, f) => sum + (readDemoAreas(f.file) as { features: unknown[] }).features.length, 0)
  t.same(counts, { areas, providers: providers.length, mous: mous.length, referral_links: links.length })

  type LinkItem = { id: string; health: string; status: string; basis: string; categories: string[];
    from_provider: { id: string; kind: string; name: string }; to_provider: { status: string; categories: string[] } }
  const page: { items: LinkItem[] } = { items: [] }
  for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
    const res = await app.inject({ url: `/v1/referral-links?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` })
    t.equal(res.statusCode, 200)
    const body = res.json() as { items: LinkItem[]; next_cursor: string | null }
    page.items.push(...body.items)
    cursor = body.next_cursor
  }
  t.equal(page.items.length, links.length, 'the pages hold every link')
  t.equal(new Set(page.items.map((l) => l.id)).size, links.length, 'each once')
  // The loader moved every date to the database's today, so the anchor day's mix holds on any day
  // (test/system/today.test.ts compares the two link by link).
  const health = countOf(page.items, (l) => l.health)
  t.comment(`link health today: ${JSON.stringify(health)}`)
  for (const h of ['ok', 'at_risk', 'broken']) t.ok(health[h] > 0, `some links are ${h} (${health[h]})`)
  const mouHealth = countOf(page.items.filter((l) => l.basis === 'mou'), (l) => l.health)
  t.comment(`MOU-based link health today: ${JSON.stringify(mouHealth)}`)
  t.ok(mouHealth.ok > 0 && mouHealth.broken > 0, 'MOU-based links both hold and break')

  const mouRes = await app.inject({ url: '/v1/mous?limit=500' })
  t.equal(mouRes.statusCode, 200)
  const mouItems = (mouRes.json() as { items: { status: string; renews_mou_id: string | null; document_ref: string }[] }).items
  t.equal(mouItems.length, mous.length)
  t.same(mouItems.map((m) => m.document_ref).sort(), mous.map((m) => m.document_ref).sort())
  const statuses = countOf(mouItems, (m) => m.status)
  t.comment(`MOU status today: ${JSON.stringify(statuses)}`)
  for (const s of ['signed', 'expired', 'negotiating', 'draft', 'terminated']) t.ok(statuses[s] > 0, `some MOUs are ${s}`)
  t.equal(mouItems.filter((m) => m.renews_mou_id).length, mous.filter((m) => m.renews).length, 'renewals are linked')
  const expiring = await app.inject({ url: '/v1/mous?expiring_within_days=60&limit=500' })
  t.ok(expiring.json().items.length > 0, 'some MOUs expire within 60 days')
  const history = await db.execute<{ n: number; creations: number }>(sql`
    SELECT count(*)::int AS n, count(*) FILTER (WHERE c.changes = '{}'::jsonb AND c.status = m.status)::int AS creations
    FROM mou_status_changes c JOIN mous m ON m.id = c.mou_id`)
  t.same(history.rows[0], { n: mous.length, creations: mous.length }, 'one creation history row per MOU')

  // Provider MOU status (issue 3) shows up on a provider holding a current signed MOU.
  const signedHolder = mouItems.find((m) => m.status === 'signed') as unknown as { provider_id: string; categories: string[] }
  const holder = await app.inject({ url: `/v1/providers/${signedHolder.provider_id}` })
  t.equal(holder.json().mou_status[signedHolder.categories[0]], 'signed')

  // A survivor who tells a demo focal point can be passed along a chain to a service.
  const start = page.items.find((l) => l.from_provider.kind === 'focal_point' && l.status === 'active' && l.health !== 'broken' && l.to_provider.status === 'active')!
  t.ok(start, 'a usable link starts at a focal point')
  const category = start.categories[0]
  const path = await app.inject({ url: `/v1/pathways?from=${start.from_provider.id}&category=${category}&max_hops=3` })
  t.equal(path.statusCode, 200)
  const chains = path.json().items as { provider_ids: string[]; hops: number }[]
  t.ok(chains.length >= 1, `${chains.length} chains from a focal point for ${category}`)
  t.equal(chains[0].provider_ids[0], start.from_provider.id)

  // The field page's pathway: from a union's focal point to a shelter. Every union of Sharsha upazila (the
  // Benapole crossing) and every Cambodian commune in the set has an active focal point with such a chain.
  const unitFeatures = (file: string) => (readDemoAreas(file) as { features: { properties: { pcode: string; parent_pcode: string } }[] }).features
  const units = [
    ...unitFeatures('BGD_4.geojson').filter((f) => f.properties.parent_pcode === 'BD404190' && Number(f.properties.pcode.slice(-2)) < 97),
    ...unitFeatures('KHM_3.geojson'),
  ].map((f) => f.properties.pcode)
  t.ok(units.length >= 20, `${units.length} unions and communes`)
  const withoutChain: string[] = []
  for (const pcode of units) {
    const { rows: focal } = await db.execute<{ id: string }>(sql`
      SELECT id FROM providers WHERE kind = 'focal_point' AND status = 'active' AND area_pcodes @> ARRAY[${pcode}]::text[] ORDER BY name`)
    let found = false
    for (const { id } of focal) {
      const res = await app.inject({ url: `/v1/pathways?from=${id}&category=shelter&max_hops=3` })
      if (res.statusCode === 200 && (res.json().items as unknown[]).length > 0) { found = true; break }
    }
    if (!found) withoutChain.push(`${pcode} (${focal.length} focal points)`)
  }
  t.same(withoutChain, [], 'a shelter pathway from each union\'s and commune\'s focal point')

  // Rows that are not demo data: a provider, a link and an MOU between demo providers. A reload leaves them be.
  const ownProvider = (await providersService(db).createMany([
    { name: 'A real legal aid office', kind: 'ngo', categories: ['legal'], location: { lat: 23.75, lon: 90.3 } },
  ])).ids[0]
  const ids = await db.execute<{ demo_id: string; id: string }>(sql`
    SELECT external_ids->0->>'id' AS demo_id, id FROM providers WHERE external_ids->0->>'id' IN ('BGD-0001', 'BGD-0002')`)
  const idOf = (d: string) => ids.rows.find((r) => r.demo_id === d)!.id
  t.notOk(links.some((l) => l.from === 'BGD-0002' && l.to === 'BGD-0001'), 'the pair is not in the demo set')
  const to1 = byDemoId.get('BGD-0001')!
  const ownLink = await app.inject({ method: 'POST', url: '/v1/referral-links', payload: {
    from_provider_id: idOf('BGD-0002'), to_provider_id: idOf('BGD-0001'), categories: [(to1.categories as string[])[0]],
    basis: 'informal', notes: 'Set up by the district coordinator' } })
  t.equal(ownLink.statusCode, 201, ownLink.body)
  const ownMou = await app.inject({ method: 'POST', url: `/v1/providers/${idOf('BGD-0001')}/mous`, payload: {
    counterparty: 'Department of Social Services', counterparty_level: 'district', categories: [(to1.categories as string[])[0]] } })
  t.equal(ownMou.statusCode, 201, ownMou.body)
  // A link made by a person but carrying the demo marker, to a non-demo provider: not a demo link.
  const markedOwn = await app.inject({ method: 'POST', url: '/v1/referral-links', payload: {
    from_provider_id: idOf('BGD-0002'), to_provider_id: ownProvider, categories: ['legal'], basis: 'sop',
    notes: `${DEMO_NETWORK_NOTE_PREFIX} copied from a demo row` } })
  t.equal(markedOwn.statusCode, 201, markedOwn.body)

  const before = await db.execute(sql`SELECT id, version, updated_at FROM referral_links WHERE id IN (${ownLink.json().id}, ${markedOwn.json().id})
    UNION ALL SELECT id, version, updated_at FROM mous WHERE id = ${ownMou.json().id} ORDER BY id`)
  const again = await loadDemoData(db)
  t.same(again, counts, 'a second load gives the same counts')
  const after = await db.execute(sql`SELECT id, version, updated_at FROM referral_links WHERE id IN (${ownLink.json().id}, ${markedOwn.json().id})
    UNION ALL SELECT id, version, updated_at FROM mous WHERE id = ${ownMou.json().id} ORDER BY id`)
  t.same(after.rows, before.rows, 'non-demo link and MOU untouched')
  const totals = await db.execute<{ links: number; mous: number; providers: number; history: number }>(sql`
    SELECT (SELECT count(*)::int FROM referral_links) AS links, (SELECT count(*)::int FROM mous) AS mous,
           (SELECT count(*)::int FROM providers) AS providers, (SELECT count(*)::int FROM mou_status_changes) AS history`)
  t.same(totals.rows[0], { links: links.length + 2, mous: mous.length + 1, providers: providers.length + 1, history: mous.length + 1 })
  const own = await app.inject({ url: `/v1/providers/${ownProvider}` })
  t.equal(own.statusCode, 200)
})
