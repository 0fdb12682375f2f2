// Coverage of every union of Bangladesh: the real boundaries of ../shared/data (8 / 64 / 544 / 5,160 areas) imported
// into a scratch database with the project's importer, N synthetic providers (unevenly spread over the unions, so
// some have none; 1-3 categories, 90 % active, a third with a signed MOU, verification and funding dates of every
// age), then GET /v1/coverage?country=BGD&admin_level=4 through the production app (buildApp, app.inject) as an
// analyst: cold (the statement runs; each round with another gap_km, so nothing is cached) and cached (the
// data_writes journal is read and the kept answer served), also after a write the answer does not depend on, JSON and
// CSV, and the GeoJSON polygons once.
// Usage: npm run bench:coverage -- [--n 100000] [--rounds 3] [--geojson] [--explain] [--insert-rounds 3] [--keep]
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { sql, TransactionRollbackError } from 'drizzle-orm'
import { buildApp } from '../src/app.js'
import { DEMO_ORGANISATION_ID, keysRepo } from '../src/modules/access/keys.js'
import { BOUNDARIES, importBgdBoundaries, missingBoundaries } from './bgd-boundaries.js'
import { coverageSql, dataState, writesSinceSql } from '../src/modules/coverage/repo.js'
import { CATEGORIES } from '../src/lib/vocabulary.js'
import { scratchDatabase } from './scratch.js'
import { unionPointsCtes } from './union-points.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    geojson: { type: 'boolean', default: false },
    // Print the coverage statement's plan for every union (EXPLAIN ANALYZE, BUFFERS) and stop.
    explain: { type: 'boolean', default: false },
    // Leave the scratch database in place (its name is printed), to try queries on it by hand.
    keep: { type: 'boolean', default: false },
    // Time the providers insert this many times with and without migration 0005's indexes (each rolled back).
    'insert-rounds': { type: 'string', default: '0' },
  },
})
const N = Number(values.n)
const ROUNDS = Number(values.rounds)
const INSERT_ROUNDS = Number(values['insert-rounds'])
if (!(N >= 1) || !(ROUNDS >= 1) || !(INSERT_ROUNDS >= 0)) throw new Error('need --n ≥ 1, --rounds ≥ 1 and --insert-rounds ≥ 0')

const missing = missingBoundaries()
if (missing.length) {
  console.error(`bench:coverage needs the shared boundary data set in ${BOUNDARIES} (missing: ${missing.join(', ')}); see its README.`)
  process.exit(2)
}

const seconds = (since: number) => (performance.now() - since) / 1000
const ms = (since: number) => performance.now() - since
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const database = await scratchDatabase()
const db = database.db
try {
  console.log(`load average at start: ${load()}`)
  const t0 = performance.now()
  await importBgdBoundaries(db)
  const { rows: levels } = await db.execute<{ admin_level: number; n: number }>(
    sql`SELECT admin_level, count(*)::int AS n FROM areas WHERE country = 'BGD' GROUP BY 1 ORDER BY 1`,
  )
  console.log(`BGD areas by level: ${levels.map((l) => `${l.admin_level}: ${l.n}`).join(', ')}; import ${seconds(t0).toFixed(1)} s`)

  // Points inside the unions, 0 to 2× the mean per union (seeded), each with its union and the union's parents as
  // area_pcodes (what a write computes, without 100,000 point-in-polygon lookups): generated once into a table of
  // their own, so that the inserts below time the providers table (its indexes and triggers) alone.
  const t1 = performance.now()
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT setseed(0.42)`)
    await tx.execute(sql`
      CREATE UNLOGGED TABLE bench_points AS
      WITH ${unionPointsCtes(N)}
      SELECT row_number() OVER (ORDER BY ord, pt) AS g, pcodes, pt, random() AS r1, random() AS r2, random() AS r3
      FROM (SELECT * FROM pts ORDER BY ord, pt LIMIT ${N}::int) p`)
  })
  console.log(`generated ${N.toLocaleString('en')} points in ${seconds(t1).toFixed(1)} s`)
  const insertProviders = sql`
    INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes, status, verified_on, funded_until,
                           location_visibility, organisation_id)
    SELECT 'Bench provider ' || g, 'bench provider ' || g, 'ngo',
           (ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)::int] ||
             CASE WHEN r1 < 0.5 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 1) % 5)::int]] ELSE '{}' END ||
             CASE WHEN r1 < 0.2 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 3) % 5)::int]] ELSE '{}' END,
           pt, pcodes,
           CASE WHEN r2 < 0.9 THEN 'active' ELSE 'suspended' END,
           CASE WHEN r3 < 0.1 THEN NULL ELSE current_date - (r3 * 900)::int END,
           CASE WHEN r1 < 0.3 THEN current_date + ((r2 - 0.3) * 1000)::int END,
           NULL, ${DEMO_ORGANISATION_ID}::uuid
    FROM bench_points`

  if (INSERT_ROUNDS > 0) {
    // What migration 0005's indexes cost writes: the same insert with and without them (dropped inside the
    // transaction), alternating, each rolled back.
    const { rows: coverageIndexes } = await db.execute<{ name: string }>(
      sql`SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'providers'::regclass AND indexrelid::regclass::text LIKE 'providers_coverage_%'`,
    )
    const timed: Record<'with' | 'without', number[]> = { with: [], without: [] }
    for (let i = 0; i < INSERT_ROUNDS; i++) {
      for (const arm of i % 2 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
        await db
          .transaction(async (tx) => {
            if (arm === 'without') for (const { name } of coverageIndexes) await tx.execute(sql`DROP INDEX ${sql.identifier(name)}`)
            const start = performance.now()
            await tx.execute(insertProviders)
            timed[arm].push(seconds(start))
            tx.rollback()
          })
          .catch((err) => {
            if (!(err instanceof TransactionRollbackError)) throw err
          })
      }
    }
    const show = (xs: number[]) => `median ${median(xs).toFixed(2)} s (${xs.map((x) => x.toFixed(2)).join(', ')})`
    console.log(`inserting ${N.toLocaleString('en')} providers, load ${load()}: with the ${coverageIndexes.length} coverage indexes ${show(timed.with)}; without them ${show(timed.without)}`)
    // The rolled-back rows are dead tuples in the table and dead entries in every index: a fresh start, or the
    // coverage figures below would be read off a table and indexes several times their size. (Nothing refers to
    // providers yet; CASCADE only because foreign keys point at it.)
    await db.execute(sql`TRUNCATE providers CASCADE`)
  }

  const t2 = performance.now()
  await db.execute(insertProviders)
  console.log(`inserted ${N.toLocaleString('en')} providers in ${seconds(t2).toFixed(1)} s (load ${load()})`)
  await db.execute(sql`DROP TABLE bench_points`)
  await db.execute(sql`
    INSERT INTO mous (provider_id, counterparty, counterparty_level, categories, status, signed_on, expires_on)
    SELECT id, 'Bench counterparty', 'national', categories[1:1], 'signed', current_date - 400,
           CASE WHEN random() < 0.8 THEN current_date + 300 ELSE current_date - 10 END
    FROM providers WHERE random() < 0.33`)
  await db.execute(sql`VACUUM (ANALYZE) providers`)
  await db.execute(sql`VACUUM (ANALYZE) mous`)
  await db.execute(sql`VACUUM (ANALYZE) areas`)
  const { rows: counts } = await db.execute<{ p: number; m: number }>(sql`SELECT (SELECT count(*) FROM providers)::int AS p, (SELECT count(*) FROM mous)::int AS m`)
  console.log(`loaded ${counts[0].p.toLocaleString('en')} providers and ${counts[0].m.toLocaleString('en')} MOUs in ${seconds(t1).toFixed(1)} s in all`)

  if (values.explain) {
    const statement = coverageSql({ country: 'BGD', adminLevel: 4, categories: CATEGORIES, gapKm: 25, staleMonths: 12 }, { exact: 'all' })
    const { rows } = await db.transaction(async (tx) => {
      // As coverageRows runs it: without JIT.
      await tx.execute(sql`SELECT set_config('jit', 'off', true)`)
      return tx.execute<{ 'QUERY PLAN': string }>(sql`EXPLAIN (ANALYZE, BUFFERS) ${statement}`)
    })
    console.log(rows.map((r) => r['QUERY PLAN']).join('\n'))
    console.log(`load average at end: ${load()}`)
  } else {
    const app = await buildApp({ LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1 << 20, RATE_LIMIT_PER_MINUTE: 0 }, { db })
    const { key } = await keysRepo(db).createKey({ organisationId: DEMO_ORGANISATION_ID, role: 'analyst' })
    const headers = { authorization: `Bearer ${key}` }
    const ask = async (url: string) => {
      const start = performance.now()
      const res = await app.inject({ url, headers })
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`)
      return { ms: ms(start), bytes: res.rawPayload.length, body: res }
    }
    const url = (gap: number, extra = '') => `/v1/coverage?country=BGD&admin_level=4&gap_km=${gap}${extra}`

    // Warm the process (first request compiles the route's validators) and the database's buffers.
    await ask('/v1/coverage?country=BGD&admin_level=1&gap_km=1')
    const cold: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const r = await ask(url(20 + i))
      cold.push(r.ms)
      if (i === 0) {
        const items = r.body.json().items as Array<{ categories: Record<string, { gap: boolean }> }>
        const gaps = items.filter((a) => Object.values(a.categories).some((c) => c.gap)).length
        console.log(`answer: ${items.length} unions × 5 categories, ${(r.bytes / 1e6).toFixed(1)} MB JSON; ${gaps} unions with a gap in some category`)
      }
    }
    console.log(`cold (the statement runs), JSON, load ${load()}: ${cold.map((x) => x.toFixed(0)).join(', ')} ms; median ${median(cold).toFixed(0)} ms`)

    const cached: number[] = []
    for (let i = 0; i < 20; i++) cached.push((await ask(url(20))).ms)
    console.log(`cached, JSON, load ${load()}: median ${median(cached).toFixed(1)} ms, max ${Math.max(...cached).toFixed(1)} ms (20 requests)`)

    const csv: number[] = []
    for (let i = 0; i < 10; i++) csv.push((await ask(url(20, '&format=csv'))).ms)
    console.log(`cached, CSV: median ${median(csv).toFixed(1)} ms`)

    // What a kept answer's check costs: one read of the data_writes journal since the answer's snapshot.
    const since = (await dataState(db)).snapshot
    const check: number[] = []
    for (let i = 0; i < 20; i++) {
      const start = performance.now()
      await db.execute(writesSinceSql(since))
      check.push(ms(start))
    }
    console.log(`the cache check alone (data_writes since the answer): median ${median(check).toFixed(1)} ms`)

    // A write that coverage does not read (an organisation's row) moves the snapshot: the answer is still kept.
    const unrelated: number[] = []
    for (let i = 0; i < 10; i++) {
      await db.execute(sql`UPDATE organisations SET name = name WHERE id = (SELECT id FROM organisations LIMIT 1)`)
      unrelated.push((await ask(url(20))).ms)
    }
    console.log(`cached after a write elsewhere, JSON: median ${median(unrelated).toFixed(1)} ms, max ${Math.max(...unrelated).toFixed(1)} ms (10 requests)`)

    // A write invalidates: the next request runs the statement again.
    await db.execute(sql`UPDATE providers SET verified_on = current_date WHERE id = (SELECT id FROM providers LIMIT 1)`)
    const after = await ask(url(20))
    console.log(`after a provider write: ${after.ms.toFixed(0)} ms (recomputed)`)

    if (values.geojson) {
      for (const simplify of [0, 200]) {
        const r = await ask(url(20, `&format=geojson&simplify=${simplify}`))
        console.log(`GeoJSON, simplify=${simplify}: ${r.ms.toFixed(0)} ms, ${(r.bytes / 1e6).toFixed(1)} MB`)
      }
    }
    console.log(`load average at end: ${load()}`)
    await app.close()
  }
} finally {
  if (values.keep) console.log(`kept the scratch database ${database.name}`)
  else await database.drop()
  process.exit(0)
}
