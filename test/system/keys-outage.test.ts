// API keys while the database is away. A key the process verified in the last few seconds (KEY_CACHE_MS) is still
// known, so it keeps working where nothing else needs the database; every other answer is a 503: the server cannot
// tell whether a key it has not seen exists, and a 401 would tell a partner its valid key is wrong. The outage is
// real: the app reaches PostgreSQL through a TCP relay of this test's own, which is closed and opened again.
import { once } from 'node:events'
import { connect, createServer, type NetConnectOpts, type Server, type Socket } from 'node:net'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createDb } from '../../src/db/client.js'
import { KEY_CACHE_MS } from '../../src/modules/access/authenticate.js'
import { keyFor, testConfig } from '../helpers/app.js'
import { closePool, createTestDatabase } from '../helpers/db.js'
import { insertProvider } from '../helpers/factories.js'

/** The socket or host and port a connection string names. */
function targetOf(url: string): NetConnectOpts {
  const u = new URL(url)
  const port = Number(u.port || 5432)
  const dir = u.searchParams.get('host')
  return dir?.startsWith('/') ? { path: `${dir}/.s.PGSQL.${port}` } : { host: u.hostname, port }
}

/** A TCP relay to the database that can be cut (every connection dropped, the port closed) and restored. */
async function relayTo(url: string) {
  const target = targetOf(url)
  const open = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  const up = async () => {
    server = createServer((client) => {
      const upstream = connect(target)
      for (const s of [client, upstream]) {
        open.add(s)
        s.on('error', () => {})
        s.on('close', () => {
          open.delete(s)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as { port: number }).port
  }
  await up()
  const relayed = new URL(url)
  relayed.hostname = '127.0.0.1'
  relayed.port = String(port)
  relayed.searchParams.delete('host')
  return {
    url: relayed.toString(),
    async cut() {
      const closed = once(server!, 'close')
      server!.close()
      for (const s of open) s.destroy()
      await closed
    },
    restore: up,
  }
}

t.test('database away: a recently verified key still opens what needs no database; everything else is 503', async (t) => {
  const database = await createTestDatabase()
  const relay = await relayTo(database.url)
  const db = createDb(relay.url, { max: 2, connectTimeoutMs: 2000 })
  const app = await buildApp(testConfig, { db })
  t.teardown(async () => {
    await app.close()
    await closePool(db)
    await relay.cut().catch(() => {})
    await database.drop()
  })
  const id = await insertProvider(database.db, { lat: 23.1, lon: 89.2 })
  const cached = await keyFor(database.db, 'viewer')
  const unseen = await keyFor(database.db, 'admin')
  const as = (authorization?: string) => (authorization ? { authorization } : {})
  const get = (url: string, authorization?: string) => app.inject({ url, headers: as(authorization) })

  t.equal((await get(`/v1/providers/${id}`, cached.authorization)).statusCode, 200, 'the key is verified while the database is up')
  const verifiedAt = performance.now()
  await relay.cut()

  const answers = {
    cachedHealthz: await get('/healthz', cached.authorization),
    cachedDocument: await get('/openapi.json', cached.authorization),
    cachedRead: await get(`/v1/providers/${id}`, cached.authorization),
    cachedReaderRead: await get('/v1/referral-links?limit=1', cached.authorization),
    anonymousRead: await get(`/v1/providers/${id}`),
    unseenRead: await get(`/v1/providers/${id}`, unseen.authorization),
    unseenHealthz: await get('/healthz', unseen.authorization),
  }
  const within = performance.now() - verifiedAt
  t.ok(within < KEY_CACHE_MS, `all asked within the key cache's ${KEY_CACHE_MS} ms (${Math.round(within)} ms)`)
  t.same(
    Object.fromEntries(Object.entries(answers).map(([k, res]) => [k, res.statusCode])),
    {
      cachedHealthz: 200,
      cachedDocument: 200,
      cachedRead: 503,
      cachedReaderRead: 503,
      anonymousRead: 503,
      unseenRead: 503,
      unseenHealthz: 503,
    },
    'the verified key opens what needs no database; reads need it, and an unverified key cannot be checked even for /healthz',
  )
  for (const [what, res] of Object.entries(answers)) {
    if (res.statusCode !== 503) continue
    t.match(res.json(), { type: 'urn:setu:problem:unavailable', request_id: res.headers['x-request-id'] }, `${what}: unavailable, not 401 or 500`)
    t.equal(res.headers['retry-after'], '5')
  }

  // Past the cache the verified key is unverifiable too: nothing outlives KEY_CACHE_MS, revocations included.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, KEY_CACHE_MS + 200 - (performance.now() - verifiedAt))))
  t.equal((await get('/healthz', cached.authorization)).statusCode, 503, 'after the cache expires the key needs the database again')
  t.equal((await get('/healthz')).statusCode, 200, 'without a key /healthz never needs it')

  await relay.restore()
  t.equal((await get(`/v1/providers/${id}`, unseen.authorization)).statusCode, 200, 'served again once the database is back')
})
