// Nearest-provider throughput over real HTTP: N synthetic providers in a scratch database, the production
// server (src/server.ts, as `npm start` runs it) in its own process, and autocannon driving C keep-alive
// connections for D seconds from this one.
// Usage: npm run bench:nearest -- [--n 100000] [--connections 32] [--seconds 10] [--limit 10]
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { sql } from 'drizzle-orm'
import { createTestDatabase } from '../test/helpers/db.js'
import { freePort, startServer } from '../test/helpers/server.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    limit: { type: 'string', default: '10' },
  },
})
const N = Number(values.n)
const CONNECTIONS = Number(values.connections)
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

  const port = await freePort()
  const server = startServer({
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    SEED_DEMO: 'false',
  })
  try {
    await server.listening
    let seq = 0
    // Points spread over the providers' box; 5 in 6 requests name a category (the per-category partial
    // index), 1 in 6 does not (the shared geography index).
    const nextPath = () => {
      const i = seq++
      const lat = 20.8 + ((i * 7919) % 5600) / 1000
      const lon = 88.2 + ((i * 104729) % 4200) / 1000
      const category = i % 6 === 5 ? '' : `&category=${CATEGORIES[i % 5]}`
      return `/v1/providers/nearest?lat=${lat}&lon=${lon}&limit=${LIMIT}${category}`
    }
    const run = (duration: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextPath() }) }],
      })
    await run(2) // warm up: every pooled connection prepares its statements and loads PostGIS
    const result = await run(SECONDS)
    const { latency, requests } = result
    console.log(
      `nearest (limit ${LIMIT}, 5/6 with a category), ${CONNECTIONS} connections, ${SECONDS} s: ` +
        `${Math.round(requests.average).toLocaleString('en')} req/s, p50 ${latency.p50} ms, p90 ${latency.p90} ms, ` +
        `p99 ${latency.p99} ms, ${result.requests.total.toLocaleString('en')} requests, ` +
        `${result.errors + result.non2xx} errors`,
    )
  } finally {
    server.child.kill('SIGTERM')
    await server.exited
  }
} finally {
  await database.drop()
}
