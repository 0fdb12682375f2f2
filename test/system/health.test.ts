// Liveness, readiness, and what every request answers while the database cannot serve it.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createDb } from '../../src/db/client.js'
import { MIGRATIONS_DIR } from '../../src/db/migrate.js'
import { buildTestApp, testConfig } from '../helpers/app.js'
import { closePool, createTestDatabase } from '../helpers/db.js'
import { insertProvider } from '../helpers/factories.js'

const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
  entries: Array<{ tag: string; when: number }>
}

t.test('healthz is 200 and asks the database nothing', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { status: 'ok' })
})

t.test('the probes are not rate limited: an orchestrator polls them from one address', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: 2 })
  for (let i = 0; i < 4; i++) {
    t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
    t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  }
  const limited = []
  for (let i = 0; i < 3; i++) limited.push((await app.inject({ url: '/v1/providers?limit=1' })).statusCode)
  t.same(limited, [200, 200, 429], 'while the API itself is')
})

t.test('readyz reports PostGIS and the migrations when the database is ready', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body, { status: 'ready', database: { postgis: /^3\./ } })
  t.same(body.migrations, { applied: journal.entries.length, latest: journal.entries.at(-1)!.tag })
  t.ok(body.database.latency_ms >= 0)
})

t.test('readyz is 503 while a migration the code expects is not applied', async (t) => {
  const { app, db } = await buildTestApp(t)
  const last = journal.entries.at(-1)!
  await db.$client.query('DELETE FROM drizzle.__drizzle_migrations WHERE created_at = $1', [last.when])
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(res.headers['retry-after'], '5')
  t.same(res.json(), {
    type: 'urn:setu:problem:not-ready',
    title: 'Service Unavailable',
    status: 503,
    detail: `Migrations not applied yet: ${last.tag}.`,
    instance: '/readyz',
    request_id: res.headers['x-request-id'],
  })
  // Healthz does not care: the process is alive.
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
})

t.test('readyz is 503 on a database that was never migrated', async (t) => {
  const { app, db } = await buildTestApp(t)
  await db.$client.query('DROP SCHEMA drizzle CASCADE')
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().type, 'urn:setu:problem:not-ready')
  t.equal(res.json().detail, `Migrations not applied yet: ${journal.entries.map((e) => e.tag).join(', ')}.`)
})

// Two ways a database is down: nothing listens on the TCP port (ECONNREFUSED), or the unix socket is gone
// with its server (ENOENT). Both must answer at once, never hang, and never be a 500.
const socketDir = mkdtempSync(path.join(tmpdir(), 'setu-no-server-'))
t.teardown(() => rmSync(socketDir, { recursive: true, force: true }))
const downUrls = {
  'nothing listens on the port': 'postgresql://setu@127.0.0.1:1/setu',
  'the unix socket is gone': `postgresql://setu@localhost/setu?host=${encodeURIComponent(socketDir)}`,
}

// A well-formed key the server has never seen: with the database away it cannot tell whether the key exists.
const UNVERIFIABLE_KEY = `Bearer setu_${'K'.repeat(43)}`

for (const [why, url] of Object.entries(downUrls)) {
  t.test(`database down (${why}): healthz 200, readyz and the API 503 with Retry-After, with or without a key`, async (t) => {
    const db = createDb(url, { max: 2, connectTimeoutMs: 2000 })
    const app = await buildApp(testConfig, { db })
    t.teardown(async () => {
      await app.close()
      await db.$client.end()
    })

    const health = await app.inject({ url: '/healthz' })
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok' })

    // Anonymous where anyone may ask; with a key everywhere, since verifying the key needs the database too.
    for (const [method, url, anonymous, payload] of [
      ['GET', '/readyz', true],
      ['GET', '/v1/providers?limit=1', true],
      ['GET', `/v1/providers/${randomUUID()}`, true],
      ['GET', '/v1/providers?limit=1', false],
      ['GET', '/v1/areas/BD40/network', false],
      ['POST', '/v1/providers', false, { name: 'x', kind: 'ngo', categories: ['health'], location: { lat: 23.1, lon: 89.2 } }],
    ] as const) {
      const started = performance.now()
      const headers = anonymous ? {} : { authorization: UNVERIFIABLE_KEY }
      const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
      const ms = performance.now() - started
      const who = anonymous ? 'anonymous' : 'with a key'
      t.equal(res.statusCode, 503, `${method} ${url} ${who} is 503`)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.equal(res.headers['retry-after'], '5')
      t.match(res.json(), { type: 'urn:setu:problem:unavailable', status: 503, title: 'Service Unavailable' })
      t.notMatch(res.body, /SELECT|INSERT|ECONN|ENOENT/, 'no SQL or driver detail reaches the client')
      t.ok(ms < 2000, `answered in ${Math.round(ms)} ms, before the connect timeout`)
    }
  })
}

t.test('a pool whose every connection stays busy answers 503 after the connect timeout, not never', async (t) => {
  const database = await createTestDatabase()
  const db = createDb(database.url, { max: 1, connectTimeoutMs: 300 })
  const app = await buildApp(testConfig, { db })
  t.teardown(async () => {
    await app.close()
    await closePool(db)
    await database.drop()
  })
  const id = await insertProvider(db, { lat: 23.1, lon: 89.2 })
  t.equal((await app.inject({ url: `/v1/providers/${id}` })).statusCode, 200)

  const held = await db.$client.connect()
  const started = performance.now()
  const res = await app.inject({ url: `/v1/providers/${id}` })
  const ms = performance.now() - started
  held.release()
  t.equal(res.statusCode, 503)
  t.equal(res.json().type, 'urn:setu:problem:unavailable')
  t.ok(ms >= 250 && ms < 3000, `waited for the connect timeout (${Math.round(ms)} ms), then gave up`)
  t.equal((await app.inject({ url: `/v1/providers/${id}` })).statusCode, 200, 'served again once a connection is free')
})

t.test('a database out of connections (53300) is a 503, not a 500', async (t) => {
  const database = await createTestDatabase()
  // A role allowed no connection at all gets the same SQLSTATE as a server at max_connections.
  const role = `setu_full_${process.pid}`
  await database.db.$client.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`)
  const url = new URL(database.url)
  url.username = role
  const db = createDb(url.toString(), { max: 1 })
  const app = await buildApp(testConfig, { db })
  t.teardown(async () => {
    await app.close()
    await closePool(db)
    await database.db.$client.query(`DROP ROLE ${role}`)
    await database.drop()
  })
  const res = await app.inject({ url: '/v1/providers?limit=1' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '5')
  t.equal(res.json().type, 'urn:setu:problem:unavailable')
})

t.test('an unknown route is a 404 problem document', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/v1/nowhere?x=1' })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.same(res.json(), {
    type: 'urn:setu:problem:not-found',
    title: 'Not Found',
    status: 404,
    detail: 'No route matches GET /v1/nowhere',
    instance: '/v1/nowhere?x=1',
    request_id: res.headers['x-request-id'],
  })
})
