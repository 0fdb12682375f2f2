// Loading and reloading the demo data set into a real database.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { createTestDatabase } from '../helpers/db.js'
import { insertArea } from '../helpers/factories.js'
import {
  DEMO_AREA_FILES,
  DEMO_NAME_SUFFIX,
  DEMO_NOTE_PREFIX,
  DEMO_SCHEME,
  loadDemoAreas,
  loadDemoData,
  loadDemoNetwork,
  loadDemoProviders,
  readDemoAreas,
  readDemoLinks,
  readDemoMous,
  readDemoProviders,
  removeDemoNetwork,
} from '../../src/demo/seed.js'
import { CATEGORIES, ProviderInput, ProviderKind } from '../../src/modules/providers/schemas.js'
import { providersService } from '../../src/modules/providers/service.js'

const rows = readDemoProviders()
// Areas per file, from the committed files themselves.
const areaFiles = DEMO_AREA_FILES.map((f) => ({ ...f, n: (readDemoAreas(f.file) as { features: unknown[] }).features.length }))
const areaCount = areaFiles.reduce((sum, f) => sum + f.n, 0)

t.test('every demo row is a valid POST /v1/providers body that says it is demo data', async (t) => {
  t.ok(rows.length >= 500 && rows.length <= 750, `${rows.length} providers`)
  const invalid = rows.flatMap((row, i) => {
    const r = ProviderInput.safeParse(row)
    return r.success ? [] : [{ i, issues: r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`) }]
  })
  t.same(invalid, [], 'ProviderInput accepts every row')
  const ids = rows.map((r) => (r.external_ids as { scheme: string; id: string }[]).find((e) => e.scheme === DEMO_SCHEME)?.id)
  t.notOk(ids.includes(undefined), 'every row has a setu-demo external id')
  t.equal(new Set(ids).size, rows.length, 'demo ids are unique')
  t.equal(new Set(rows.map((r) => r.name)).size, rows.length, 'names are unique')
  for (const r of rows) {
    const name = r.name as string
    if (!name.endsWith(DEMO_NAME_SUFFIX)) t.fail(`${name} does not end with ${DEMO_NAME_SUFFIX}`)
    if (!(r.notes as string).startsWith(DEMO_NOTE_PREFIX)) t.fail(`${name}: notes do not start with the demo marker`)
    if (r.email && !(r.email as string).endsWith('@example.org')) t.fail(`${name}: email outside example.org`)
    for (const phone of r.phones as string[]) {
      if (!/^\+880 1[78]00-000\d{3}$|^\+855 (12|23) 000 \d{3}$/.test(phone)) t.fail(`${name}: phone ${phone} is not a demo number`)
    }
  }
})

t.test('the mix covers both countries, every category and every kind', async (t) => {
  const countryOf = (r: Record<string, unknown>) => ((r.external_ids as { id: string }[])[0].id.startsWith('BGD') ? 'BGD' : 'KHM')
  for (const country of ['BGD', 'KHM']) {
    const mine = rows.filter((r) => countryOf(r) === country)
    for (const category of CATEGORIES) {
      const n = mine.filter((r) => (r.categories as string[]).includes(category)).length
      t.ok(n >= 5, `${country} ${category}: ${n} providers`)
    }
    for (const kind of ProviderKind.options) t.ok(mine.some((r) => r.kind === kind), `${country} has a ${kind}`)
  }
  const statuses = new Set(rows.map((r) => r.status))
  t.same([...statuses].sort(), ['active', 'closed', 'suspended'])
  t.ok(rows.filter((r) => r.status === 'active').length / rows.length > 0.8, 'mostly active')
  const funded = rows.map((r) => r.funded_until as string | null).filter((d): d is string => d !== null)
  t.ok(funded.some((d) => d < '2026-11-23'), 'some funding has ended')
  t.ok(funded.some((d) => d > '2026-11-23' && d <= '2027-01-22'), 'some funding ends within 60 days')
  t.ok(funded.filter((d) => d > '2027-01-22').length > funded.length / 2, 'most funding runs longer')
  const shelters = rows.filter((r) => (r.categories as string[]).includes('shelter'))
  t.ok(shelters.every((r) => typeof r.capacity === 'number' && r.capacity > 0), 'every shelter has a capacity')
})

t.test('loadDemoData fills an empty database; areas reload unchanged; reload keeps what it must', async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const db = database.db

  const network = { mous: readDemoMous().length, referral_links: readDemoLinks().length }
  t.same(await loadDemoData(db), { areas: areaCount, providers: rows.length, ...network })
  const byLevel = await db.execute<{ country: string; admin_level: number; n: number; demo: number }>(sql`
    SELECT country, admin_level, count(*) AS n, count(*) FILTER (WHERE source LIKE 'setu-demo%') AS demo
    FROM areas GROUP BY 1, 2 ORDER BY 1, 2`)
  t.same(byLevel.rows, areaFiles.map((f) => ({ country: f.country, admin_level: f.level, n: f.n, demo: f.n })))
  const names = await db.execute<{ n: number }>(sql`
    SELECT count(*) AS n FROM areas WHERE admin_level >= 3 AND name_local ~ '[\u0980-\u09FF\u1780-\u17FF]'`)
  t.equal(names.rows[0].n, areaFiles.filter((f) => f.level >= 3).reduce((sum, f) => sum + f.n, 0), 'upazilas, unions and communes keep their local names')

  // Computed on write by the providers service: each provider's areas, shallowest first, one per level down
  // to the deepest level that covers its point (district, or union / commune where the set has them).
  const placed = await db.execute<{ outside: number; gaps: number; levels: string }>(sql`
    SELECT count(*) FILTER (WHERE NOT EXISTS (
             SELECT 1 FROM areas a WHERE a.admin_level = 2 AND a.pcode = ANY (p.area_pcodes) AND ST_Covers(a.geom, p.location))) AS outside,
           count(*) FILTER (WHERE (SELECT array_agg(a.admin_level ORDER BY a.admin_level) FROM areas a WHERE a.pcode = ANY (p.area_pcodes))
                                  <> (SELECT array_agg(DISTINCT a.admin_level) FROM areas a WHERE ST_Covers(a.geom, p.location))) AS gaps,
           string_agg(DISTINCT cardinality(p.area_pcodes)::text, ',' ORDER BY cardinality(p.area_pcodes)::text) AS levels
    FROM providers p`)
  t.same(placed.rows[0], { outside: 0, gaps: 0, levels: '2,3,4' }, 'every provider lies in one area of each level that covers its point')
  const deep = await db.execute<{ country: string; level: number; n: number }>(sql`
    SELECT a.country, a.admin_level AS level, count(*)::int AS n FROM providers p JOIN areas a ON a.pcode = p.area_pcodes[cardinality(p.area_pcodes)]
    WHERE a.admin_level >= 3 GROUP BY 1, 2 ORDER BY 1, 2`)
  t.ok(deep.rows.some((r) => r.country === 'BGD' && r.level === 4) && deep.rows.some((r) => r.country === 'KHM' && r.level === 3),
    `providers inside unions and communes: ${JSON.stringify(deep.rows)}`)

  const mix = await db.execute<{ country: string; category: string; n: number }>(sql`
    SELECT a.country, c.category, count(*) AS n
    FROM providers p JOIN areas a ON a.pcode = p.area_pcodes[1], unnest(p.categories) AS c(category)
    GROUP BY 1, 2 ORDER BY 1, 2`)
  t.equal(mix.rows.length, 10, 'every category in both countries')
  const kinds = await db.execute<{ kind: string }>(sql`SELECT DISTINCT kind FROM providers ORDER BY kind`)
  t.same(kinds.rows.map((r) => r.kind), [...ProviderKind.options].sort())
  const marked = await db.execute<{ n: number }>(sql`
    SELECT count(*) AS n FROM providers WHERE notes LIKE ${`${DEMO_NOTE_PREFIX}%`} AND name LIKE ${`%${DEMO_NAME_SUFFIX}`}`)
  t.equal(marked.rows[0].n, rows.length, 'every stored provider is marked as demo data')

  const again = await loadDemoAreas(db)
  t.same(again, { inserted: 0, updated: 0, unchanged: areaCount, skippedCountries: [] }, 'reloading areas changes nothing')

  // A reload must leave other providers alone and keep demo rows that something points at.
  const created = await providersService(db).createMany([
    { name: 'A real shelter', kind: 'ngo', categories: ['shelter'], location: { lat: 23.75, lon: 90.3 },
      external_ids: [{ scheme: 'ngoab', id: '1' }] },
  ])
  const own = created.ids[0]
  const referenced = await db.execute<{ id: string; demo_id: string }>(sql`
    SELECT id, external_ids->0->>'id' AS demo_id FROM providers WHERE external_ids->0->>'id' = 'BGD-0001'`)
  await db.execute(sql`CREATE TABLE test_refs (provider_id uuid NOT NULL REFERENCES providers (id))`)
  await db.execute(sql`INSERT INTO test_refs VALUES (${referenced.rows[0].id}::uuid)`)

  // The demo links and MOUs go first: they reference demo providers too.
  t.same(await removeDemoNetwork(db), { referral_links: network.referral_links, mous: network.mous })
  const reload = await loadDemoProviders(db)
  t.same(reload, { deleted: rows.length - 1, kept: 1, created: rows.length - 1 })
  t.same(await loadDemoNetwork(db), { ...network, skipped: [] }, 'the network reloads onto the kept provider too')
  const after = await db.execute<{ total: number; own: number; ref: number; demo1: number }>(sql`
    SELECT count(*) AS total,
           count(*) FILTER (WHERE id = ${own}::uuid) AS own,
           count(*) FILTER (WHERE id = ${referenced.rows[0].id}::uuid) AS ref,
           count(*) FILTER (WHERE external_ids->0->>'id' = 'BGD-0001') AS demo1
    FROM providers`)
  t.same(after.rows[0], { total: rows.length + 1, own: 1, ref: 1, demo1: 1 })

  // Real boundaries win: once a country has areas from another source, the demo areas leave it alone.
  await insertArea(db, { pcode: 'KH99', name_en: 'Imported province', country: 'KHM', admin_level: 1, bbox: [104, 11, 105, 12] })
  const withReal = await loadDemoAreas(db)
  t.same(withReal.skippedCountries, ['KHM'])
  t.equal(withReal.unchanged, areaFiles.filter((f) => f.country === 'BGD').reduce((sum, f) => sum + f.n, 0), 'BGD areas are still reloaded')
})
