// Nearest-provider throughput over real HTTP: N synthetic providers in a scratch database, C concurrent
// keep-alive clients for D seconds. Usage: npm run bench:nearest -- [--n 100000] [--concurrency 32] [--seconds 10]
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { buildApp } from '../src/app.js'
import { createTestDatabase } from '../test/helpers/db.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    limit: { type: 'string', default: '10' },
  },
})
const N = Number(values.n)
const CONCURRENCY = Number(values.concurrency)
const SECONDS = Number(values.seconds)
const LIMIT = Number(values.limit)
const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood']

const database = await createTestDatabase()
const db = database.db
try {
  const loadStart = performance.now()
  // Like PERFORMANCE-NOTES: clustered around 64 "district centres" inside Bangladesh's bounding box,
  // 1-3 categories each, 90 % active. Deterministic (setseed) so runs compare.
  await db.execute(sql`SELECT setseed(0.42)`)
  await db.execute(sql`
    WITH centres AS (
      SELECT c, 88.2 + random() * 4.2 AS lon, 20.8 + random() * 5.6 AS lat FROM generate_series(0, 63) c
    ), rows AS (
      SELECT g, c.lon + (random() - 0.5) * 0.6 AS lon, c.lat + (random() - 0.5) * 0.6 AS lat, random() AS r1, random() AS r2
      FROM generate_series(1, ${N}::int) g JOIN centres c ON c.c = g % 64
    )
    INSERT INTO providers (name, names, search_text, kind, categories, location, status)
    SELECT 'Provider ' || g, '{}'::jsonb, 'provider ' || g, 'ngo',
           (ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)] ||
             CASE WHEN r1 < 0.5 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 1) % 5)]] ELSE '{}' END ||
             CASE WHEN r1 < 0.2 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 3) % 5)]] ELSE '{}' END,
           ST_SetSRID(ST_MakePoint(lon, lat), 4326),
           CASE WHEN r2 < 0.9 THEN 'active' ELSE 'suspended' END
    FROM rows`)
  await db.execute(sql`ANALYZE providers`)
  console.log(`loaded ${N.toLocaleString('en')} providers in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`)

  const app = await buildApp({ LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 10 * 1024 * 1024, RATE_LIMIT_PER_MINUTE: 0 }, { db })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  let seq = 0
  const nextUrl = () => {
    const i = seq++
    const lat = 20.8 + ((i * 7919) % 5600) / 1000
    const lon = 88.2 + ((i * 104729) % 4200) / 1000
    const category = i % 6 === 5 ? '' : `&category=${CATEGORIES[i % 5]}`
    return `${address}/v1/providers/nearest?lat=${lat}&lon=${lon}&limit=${LIMIT}${category}`
  }

  for (let i = 0; i < 200; i++) await (await fetch(nextUrl())).arrayBuffer() // warm up

  const latencies: number[] = []
  let errors = 0
  const deadline = performance.now() + SECONDS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now()
        const res = await fetch(nextUrl())
        await res.arrayBuffer()
        if (res.status !== 200) errors++
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1)
  console.log(
    `nearest (limit ${LIMIT}, 5/6 with a category), ${CONCURRENCY} connections, ${SECONDS} s: ` +
      `${Math.round(latencies.length / elapsed).toLocaleString('en')} req/s, p50 ${pct(50)} ms, p90 ${pct(90)} ms, p99 ${pct(99)} ms, ` +
      `${latencies.length.toLocaleString('en')} requests, ${errors} errors`,
  )
  await app.close()
} finally {
  await database.drop()
}
