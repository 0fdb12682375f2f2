// statement_timeout: a statement that runs too long is cancelled by PostgreSQL and answered as a 503 problem
// (urn:setu:problem:timeout, no Retry-After), never a 500 and never a request that holds its connection.
// A lock held by another session makes a statement slow on demand, whatever the machine's speed.
import type { InjectOptions } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { createDb } from '../../src/db/client.js'
import { NETWORK_STATEMENT_TIMEOUT_MS } from '../../src/modules/network/service.js'
import { PATHWAYS_STATEMENT_TIMEOUT_MS } from '../../src/modules/pathways/service.js'
import { keyFor, testConfig } from '../helpers/app.js'
import { closePool, createTestDatabase } from '../helpers/db.js'
import { insertArea, insertLink, insertProvider, insertVerifiedProvider } from '../helpers/factories.js'

async function setUp(t: { teardown(fn: () => unknown): void }, statementTimeoutMs: number) {
  const database = await createTestDatabase()
  const db = createDb(database.url, { max: 3, statementTimeoutMs })
  const app = await buildApp(testConfig, { db })
  // The session that holds the lock: a connection of its own, outside the app's pool.
  const locker = await database.db.$client.connect()
  t.teardown(async () => {
    locker.release()
    await app.close()
    await closePool(db)
    await database.drop()
  })
  // Links, MOUs, pathways and networks are for API keys, writes for editors and admins.
  const { authorization } = await keyFor(database.db, 'admin')
  const inject = (opts: InjectOptions) => app.inject({ ...opts, headers: { authorization, ...opts.headers } })
  const lock = async (table: string) => {
    await locker.query('BEGIN')
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
    return () => locker.query('ROLLBACK')
  }
  return { inject, db: database.db, lock }
}

/**
 * With `table` locked, GET `url` is cancelled at its own bound (`boundMs`, not the general timeout) and
 * answered as a timeout problem; once the lock is gone the same request is served again.
 */
async function expectCancelledAtBound(
  t: Test,
  { inject, lock }: Awaited<ReturnType<typeof setUp>>,
  url: string,
  table: string,
  boundMs: number,
  what: string,
) {
  const unlock = await lock(table)
  const started = performance.now()
  const res = await inject({ url })
  const ms = performance.now() - started
  await unlock()
  t.equal(res.statusCode, 503)
  t.equal(res.json().type, 'urn:setu:problem:timeout')
  t.ok(ms >= boundMs - 100 && ms < boundMs + 5000, `cancelled after ${Math.round(ms)} ms, at the ${what} bound of ${boundMs} ms`)
  t.equal((await inject({ url })).statusCode, 200, 'and answered again afterwards')
}

t.test('a statement past STATEMENT_TIMEOUT_MS is cancelled and answered 503, and the pool serves on', async (t) => {
  const { inject, db, lock } = await setUp(t, 300)
  const id = await insertProvider(db, { lat: 23.1, lon: 89.2 })
  const unlock = await lock('providers')
  const started = performance.now()
  const res = await inject({ url: `/v1/providers/${id}` })
  const ms = performance.now() - started
  await unlock()

  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.notOk(res.headers['retry-after'], 'no Retry-After: the same request may well take as long again')
  t.same(res.json(), {
    type: 'urn:setu:problem:timeout',
    title: 'Service Unavailable',
    status: 503,
    detail:
      'The request took longer than the database allows one statement and was cancelled. ' +
      'Narrow it (a smaller area, fewer hops, a smaller page) or try again later.',
    instance: `/v1/providers/${id}`,
    request_id: res.headers['x-request-id'],
  })
  t.ok(ms >= 250 && ms < 5000, `cancelled after ${Math.round(ms)} ms`)

  const again = await inject({ url: `/v1/providers/${id}` })
  t.equal(again.statusCode, 200, 'the same connection pool answers once the lock is gone')
  t.equal(again.json().id, id)
})

t.test('a write past the timeout is a 503 and leaves nothing behind', async (t) => {
  const { inject, db, lock } = await setUp(t, 300)
  const unlock = await lock('providers')
  const res = await inject({
    method: 'POST',
    url: '/v1/providers',
    payload: { name: 'Slow write', kind: 'ngo', categories: ['legal'], location: { lat: 23.1, lon: 89.2 } },
  })
  await unlock()
  t.equal(res.statusCode, 503)
  t.equal(res.json().type, 'urn:setu:problem:timeout')
  const { rows } = await db.$client.query("SELECT count(*)::int AS n FROM providers WHERE name = 'Slow write'")
  t.equal(rows[0].n, 0)
})

t.test('pathways have a tighter bound of their own than the general statement timeout', async (t) => {
  // A general bound far beyond the test's patience: only the pathways bound can end the wait.
  const { inject, db, lock } = await setUp(t, 120_000)
  const fp = await insertVerifiedProvider(db, { kind: 'focal_point', categories: ['counselling'], lat: 23.1, lon: 89.1 })
  const legal = await insertVerifiedProvider(db, { categories: ['legal'], lat: 23.2, lon: 89.2 })
  await insertLink(db, { from: fp, to: legal, categories: ['legal'] })
  const url = `/v1/pathways?from=${fp}&category=legal`
  t.equal((await inject({ url })).json().items.length, 1)
  await expectCancelledAtBound(t, { inject, db, lock }, url, 'referral_links', PATHWAYS_STATEMENT_TIMEOUT_MS, 'pathways')
})

t.test('the area network has a tighter bound of its own than the general statement timeout', async (t) => {
  const { inject, db, lock } = await setUp(t, 120_000)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertVerifiedProvider(db, { categories: ['legal'], lat: 23.2, lon: 89.2 })
  const url = '/v1/areas/BD40/network'
  t.equal((await inject({ url })).json().nodes.length, 1)
  await expectCancelledAtBound(t, { inject, db, lock }, url, 'referral_links', NETWORK_STATEMENT_TIMEOUT_MS, 'network')
})
