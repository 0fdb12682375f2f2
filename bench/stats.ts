// GET /v1/stats?country=BGD over the real Bangladesh boundaries of ../shared/data (8 / 64 / 544 / 5,160 areas,
// imported with the project's importer into a scratch database) and N synthetic providers (default 100,000) clustered
// inside Bangladesh, with their areas computed as the API computes them. Prints the time of each round and the median.
//   npm run bench:stats -- --providers 100000 --rounds 5 [--explain: the gaps statement's plan first]
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { buildApp } from '../src/app.js'
import { keysRepo, DEMO_ORGANISATION_ID } from '../src/modules/access/keys.js'
import { BOUNDARIES, importBgdBoundaries, missingBoundaries } from './bgd-boundaries.js'
import { pcodesCovering } from '../src/modules/areas/spatial.js'
import { lookupsWithoutJit } from '../src/modules/coverage/spatial.js'
import { gapsSql } from '../src/modules/stats/repo.js'
import { scratchDatabase } from './scratch.js'

const { values } = parseArgs({
  options: { providers: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' }, explain: { type: 'boolean', default: false } },
})
const N = Number(values.providers)
const ROUNDS = Number(values.rounds)
const missing = missingBoundaries()
if (missing.length) {
  console.error(`bench:stats needs the shared boundary data set in ${BOUNDARIES} (missing: ${missing.join(', ')})`)
  process.exit(1)
}
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const seconds = (t0: number) => (performance.now() - t0) / 1000

const database = await scratchDatabase()
const db = database.db
try {
  console.log(`load average at start: ${load()}`)
  await importBgdBoundaries(db, (file, report, s) => console.log(`imported ${file}: ${report.inserted} areas in ${s.toFixed(1)} s`))
  const t0 = performance.now()
  await db.execute(sql`SELECT setseed(0.42)`)
  // Clustered around 64 centres inside Bangladesh, 1-3 categories, 90 % active, a third never verified.
  await db.execute(sql`
    WITH centres AS (SELECT c, 88.6 + random() * 3.2 AS lon, 21.8 + random() * 3.6 AS lat FROM generate_series(0, 63) c),
    rows AS (SELECT g, c.lon + (random() - 0.5) * 0.6 AS lon, c.lat + (random() - 0.5) * 0.6 AS lat, random() AS r1, random() AS r2
             FROM generate_series(1, ${N}::int) g JOIN centres c ON c.c = g % 64)
    INSERT INTO providers (name, names, search_text, kind, categories, location, area_pcodes, status, verified_on)
    SELECT 'Provider ' || g, '{}'::jsonb, 'provider ' || g, 'ngo',
           (ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)] ||
             CASE WHEN r1 < 0.5 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 1) % 5)]] ELSE '{}' END,
           pt, ${pcodesCovering(sql`pt`)}, CASE WHEN r2 < 0.9 THEN 'active' ELSE 'suspended' END,
           CASE WHEN r1 < 0.33 THEN NULL ELSE DATE '2025-01-01' END
    FROM rows CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt) p`)
  await db.execute(sql`VACUUM (ANALYZE) providers`)
  console.log(`loaded ${N.toLocaleString('en')} providers in ${seconds(t0).toFixed(1)} s`)

  if (values.explain) {
    const { rows } = await db.transaction(async (tx) => {
      await tx.execute(lookupsWithoutJit)
      return tx.execute<{ 'QUERY PLAN': string }>(sql`EXPLAIN (ANALYZE, BUFFERS) ${gapsSql('BGD', 25_000, { exact: 'all' })}`)
    })
    console.log(rows.map((r) => r['QUERY PLAN']).join('\n'))
  }
  const app = await buildApp({ LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1 << 20, RATE_LIMIT_PER_MINUTE: 0 }, { db })
  const key = await keysRepo(db).createKey({ organisationId: DEMO_ORGANISATION_ID, role: 'analyst' })
  const times: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const t1 = performance.now()
    const res = await app.inject({ url: '/v1/stats?country=BGD', headers: { authorization: `Bearer ${key.key}` } })
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body.slice(0, 300)}`)
    times.push(performance.now() - t1)
    if (i === 0) console.log(`levels: ${JSON.stringify(res.json().gaps.levels.map((l: { admin_level: number; areas: number }) => [l.admin_level, l.areas]))}`)
  }
  times.sort((a, b) => a - b)
  console.log(`GET /v1/stats?country=BGD: ${times.map((t) => t.toFixed(0)).join(', ')} ms; median ${times[Math.floor(times.length / 2)].toFixed(0)} ms`)
  // As the route runs it: in a transaction, without JIT.
  const t2 = performance.now()
  await db.transaction(async (tx) => {
    await tx.execute(lookupsWithoutJit)
    await tx.execute(gapsSql('BGD', 25_000, { exact: 'all' }))
  })
  console.log(`of which the gaps statement alone: ${(performance.now() - t2).toFixed(0)} ms`)
  console.log(`load average at end: ${load()}`)
  await app.close()
} finally {
  await database.drop()
}
