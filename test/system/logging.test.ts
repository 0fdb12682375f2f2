// What reaches the log: one line per request with the route pattern, never the query string (a nearest-service
// search carries the caller's coordinates); failed queries logged with PostgreSQL's code and message, never the
// SQL text or its parameters.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger, safeMessage, serializeError } from '../../src/logging.js'
import { keyFor, testConfig } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/db.js'

// Coordinates and names no other part of a log line could contain by chance.
const LAT = '23.8123457'
const LON = '90.4123457'
const NAME = 'Kestrel Lane Legal Aid 4417'
const NOTES = 'call before 10:00, ask for Rahima'

async function loggedApp(t: { teardown(fn: () => unknown): void }) {
  const database = await createTestDatabase()
  const output: string[] = []
  const logger = createLogger('info', { write: (line: string) => void output.push(line) })
  const app = await buildApp({ ...testConfig, LOG_LEVEL: 'info' }, { db: database.db, logger })
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  const lines = () => output.map((l) => JSON.parse(l) as Record<string, unknown>)
  const { authorization } = await keyFor(database.db, 'admin')
  return { app, db: database.db, output, lines, authorization }
}

t.test('a request line has method, route pattern, status, duration and request id; no query string', async (t) => {
  const { app, output, lines } = await loggedApp(t)
  const res = await app.inject({ url: `/v1/providers/nearest?lat=${LAT}&lon=${LON}&category=shelter&limit=3` })
  t.equal(res.statusCode, 200)
  const missing = await app.inject({ url: `/v1/providers/7d6f2a3e-0000-4000-8000-000000000000?lat=${LAT}` })
  t.equal(missing.statusCode, 404)
  const unrouted = await app.inject({ url: `/v1/where-am-i?lat=${LAT}&lon=${LON}` })
  t.equal(unrouted.statusCode, 404)

  const requests = lines().filter((l) => l.msg === 'request')
  t.equal(requests.length, 3, 'one line per request')
  t.match(requests[0], { level: 30, method: 'GET', route: '/v1/providers/nearest', status: 200, duration_ms: Number, reqId: String })
  t.match(requests[1], { method: 'GET', route: '/v1/providers/:id', status: 404 })
  t.match(requests[2], { method: 'GET', route: null, status: 404 })
  t.not(requests[0].reqId, requests[1].reqId, 'each request has its own id')
  t.same(
    requests.map((r) => r.reqId),
    [res, missing, unrouted].map((r) => r.headers['x-request-id']),
    'the id a client is given (X-Request-Id, request_id) is the one in the log',
  )
  const all = output.join('')
  t.notMatch(all, LAT, 'no latitude anywhere in the log')
  t.notMatch(all, LON, 'no longitude anywhere in the log')
  t.notMatch(all, '7d6f2a3e', 'no path parameter values')
  t.notMatch(all, 'where-am-i', 'no raw URL of an unmatched request')
})

t.test('a safe incoming X-Request-Id is the one logged; an unsafe one never reaches the log', async (t) => {
  const { app, output, lines } = await loggedApp(t)
  await app.inject({ url: '/healthz', headers: { 'x-request-id': 'edge-42.7:a_b' } })
  await app.inject({ url: '/healthz', headers: { 'x-request-id': '"}{"level":60,"msg":"forged' } })
  const ids = lines().filter((l) => l.msg === 'request').map((l) => l.reqId)
  t.equal(ids[0], 'edge-42.7:a_b')
  t.match(ids[1], /^[0-9a-f-]{36}$/, 'replaced by a UUID')
  t.notMatch(output.join(''), 'forged')
})

t.test('a failing query logs its code and message, not its SQL or parameters', async (t) => {
  const { app, db, output, lines, authorization } = await loggedApp(t)
  // A real failure in a real database: the column every provider query reads is gone.
  await db.$client.query('ALTER TABLE providers RENAME COLUMN location TO location_moved')

  const nearest = await app.inject({ url: `/v1/providers/nearest?lat=${LAT}&lon=${LON}&category=health` })
  t.equal(nearest.statusCode, 500)
  const created = await app.inject({
    method: 'POST',
    url: '/v1/providers',
    headers: { authorization },
    payload: { name: NAME, kind: 'ngo', categories: ['legal'], location: { lat: Number(LAT), lon: Number(LON) }, notes: NOTES },
  })
  t.equal(created.statusCode, 500)

  const errors = lines().filter((l) => l.level === 50)
  t.equal(errors.length, 2, 'both failures logged')
  for (const line of errors) {
    const err = line.err as Record<string, unknown>
    // drizzle wraps the PostgreSQL error: its code and message sit on the cause, or on the error itself.
    const pgError = (err.code ? err : err.cause) as Record<string, unknown>
    t.equal(pgError.code, '42703', 'undefined column')
    t.match(pgError.message, /column .*location.* does not exist/)
    t.match(line, { reqId: String })
  }
  const requests = lines().filter((l) => l.msg === 'request')
  t.match(requests, [
    { route: '/v1/providers/nearest', status: 500 },
    { method: 'POST', route: '/v1/providers', status: 500 },
  ])

  const all = output.join('')
  for (const secret of [LAT, LON, NAME, NOTES, 'Rahima']) t.notMatch(all, secret, `"${secret}" is not in the log`)
  t.notMatch(all, /\bselect\b|\binsert into\b|ST_MakePoint|\$1/i, 'no SQL text')
  t.notMatch(all, /"(query|params|detail|where|internalQuery)"/, 'no query, params or detail fields')
})

t.test('safeMessage and serializeError on errors shaped like pg and drizzle errors', async (t) => {
  t.equal(safeMessage('invalid input syntax for type uuid: "Rahima\'s id"'), 'invalid input syntax for type uuid: "…"')
  t.equal(safeMessage('value "99999999999" is out of range for type integer'), 'value "…" is out of range for type integer')
  t.equal(
    safeMessage('duplicate key value violates unique constraint "providers_pkey"'),
    'duplicate key value violates unique constraint "providers_pkey"',
    'identifiers stay',
  )
  t.equal(safeMessage('Failed query: select 1 where name = $1\nparams: Rahima'), 'Failed query (SQL text and parameters are not logged)')

  const pgError = Object.assign(new Error('new row for relation "referral_links" violates check constraint "dates_ordered"'), {
    code: '23514',
    severity: 'ERROR',
    constraint: 'dates_ordered',
    table: 'referral_links',
    detail: 'Failing row contains (Rahima, 2024-01-01).',
    where: 'SQL statement "insert …"',
  })
  const wrapped = Object.assign(new Error('Failed query: insert into referral_links values ($1)\nparams: Rahima'), {
    query: 'insert into referral_links values ($1)',
    params: ['Rahima'],
    cause: pgError,
  })
  const out = serializeError(wrapped)
  t.match(out, {
    type: 'Error',
    message: 'Failed query (SQL text and parameters are not logged)',
    cause: { code: '23514', constraint: 'dates_ordered', table: 'referral_links', message: /violates check constraint/ },
  })
  t.notMatch(JSON.stringify(out), 'Rahima')
  t.match(out.stack, /^Error: Failed query \(SQL text and parameters are not logged\)\n\s+at /)
})
