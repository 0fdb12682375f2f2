// The yardstick for bench:nearest: GET /v1/providers/nearest as a bare Fastify + pg server would serve it, with
// no plugins, no schemas and no logger, running setu's own SQL text (which returns the body as one text value)
// and answering what it returns. Whatever setu costs beyond this is the price of its framework: validation,
// hooks, logging, building the SQL per request. It answers as setu answers a caller without an API key: the
// statement for the anonymous viewer (confidential locations masked), as the benchmark's requests are.
// Started by bench/nearest.ts as its own process: DATABASE_URL, PORT, DATABASE_POOL_MAX, TIME_ZONE.
import Fastify from 'fastify'
import pg from 'pg'
import { PgDialect } from 'drizzle-orm/pg-core'
import { createHash } from 'node:crypto'
import { MASKED_DISTANCE_GRAIN_M } from '../src/lib/location-visibility.js'
import { nearestProvidersSql } from '../src/modules/providers/repo.js'
import { CATEGORIES, type NearestQuery } from '../src/modules/providers/schemas.js'

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  application_name: 'setu-reference',
  options: `-c TimeZone=${process.env.TIME_ZONE ?? 'UTC'}`,
})

// setu builds its SQL per request; a hand-written server would hold one constant text per query shape (here the
// category and the limit, which setu writes into the text). To run exactly setu's text, build it once per shape
// with sentinel coordinates and note which bound value is which.
const SENTINEL = { lat: 11.125, lon: 22.375 }
type Role = 'lat' | 'lon' | 'limit' | 'grain'
interface Statement {
  name: string
  text: string
  roles: Role[]
}
const dialect = new PgDialect()
function statementFor(category: string | undefined, limit: number): Statement {
  const q = { ...SENTINEL, limit, status: 'active', category } as NearestQuery
  const { sql: text, params } = dialect.sqlToQuery(nearestProvidersSql(q, 'json', { exact: 'none' }))
  const byValue = new Map<unknown, Role>([
    [SENTINEL.lat, 'lat'],
    [SENTINEL.lon, 'lon'],
    [limit, 'limit'],
    // the mask rounds a confidential provider's distance to this many metres, a bound constant
    [MASKED_DISTANCE_GRAIN_M, 'grain'],
  ])
  const roles = params.map((p) => {
    const role = byValue.get(p)
    if (!role) throw new Error(`reference server: unexpected bound value ${String(p)} in the nearest SQL; update bench/reference-server.ts`)
    return role
  })
  return { name: `ref_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text, roles }
}
const statements = new Map<string, Statement>()
const categories = new Set<string>(CATEGORIES)

const app = Fastify()
app.get('/v1/providers/nearest', async (request, reply) => {
  const query = request.query as Record<string, string | undefined>
  const limit = query.limit ? Number(query.limit) : 5
  if ((query.category && !categories.has(query.category)) || !(limit >= 1 && limit <= 100)) return reply.code(400).send()
  const key = `${query.category ?? ''} ${limit}`
  let statement = statements.get(key)
  if (!statement) statements.set(key, (statement = statementFor(query.category, limit)))
  const bound = { lat: Number(query.lat), lon: Number(query.lon), limit, grain: MASKED_DISTANCE_GRAIN_M }
  const { rows } = await pool.query<{ body: string }>({ name: statement.name, text: statement.text, values: statement.roles.map((r) => bound[r]) })
  reply.header('content-type', 'application/json; charset=utf-8')
  return rows[0].body
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.error(`reference API on ${address}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await app.close()
    await pool.end()
    process.exit(0)
  })
}
