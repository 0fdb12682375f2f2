// The real server process, as `npm start` runs it: compiled JavaScript under plain node, migrations, demo data,
// listening, request lines in the log, and a shutdown that lets requests finish but not forever.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { SERVER_ENTRY, staleReason } from '../../scripts/build.mjs'
import { createTestDatabase, serverUrl } from '../helpers/db.js'
import { freePort, startServer } from '../helpers/server.js'

const count = async (db: { $client: pg.Pool }, table: string) =>
  (await db.$client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n

t.test('npm start: compiled code under plain node migrates an empty database, loads the demo data, serves, stops on SIGTERM', async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  // A brand-new database, not the migrated template: the server must migrate it itself.
  await database.db.$client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS drizzle CASCADE')
  const port = await freePort()
  // SEED_DEMO spelled out: with DATABASE_URL set it defaults to false.
  const server = startServer({ DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'true' })
  t.teardown(() => server.child.kill('SIGKILL'))
  await server.listening

  // What runs is `node scripts/start.mjs` with nothing preloaded: no tsx, no loader in NODE_OPTIONS.
  const cmdline = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  t.same(cmdline, [process.execPath, 'scripts/start.mjs'])
  const environ = readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0')
  t.notOk(environ.some((v) => v.startsWith('NODE_OPTIONS=')), 'no NODE_OPTIONS')
  // …and start.mjs serves dist/ only when it is fresh: built by this start or an earlier one.
  t.equal(staleReason(PROJECT_ROOT), undefined, 'dist/ is up to date')

  const health = await fetch(`http://127.0.0.1:${port}/healthz?lat=23.8123457`)
  t.equal(health.status, 200)
  await health.arrayBuffer()
  const areas = await count(database.db, 'areas')
  const providers = await count(database.db, 'providers')
  t.ok(areas > 0, `demo areas loaded (${areas})`)
  t.ok(providers > 0, `demo providers loaded (${providers})`)
  const docs = await fetch(`http://127.0.0.1:${port}/docs/`)
  t.equal(docs.status, 200)
  await docs.arrayBuffer()

  server.child.kill('SIGTERM')
  const [code] = await server.exited
  t.equal(code, 0, 'exits cleanly on SIGTERM')

  const logs = server.logs()
  t.ok(logs.length > 0 && logs.every((l) => typeof l.level === 'number' && typeof l.msg === 'string'), 'every line is a pino line')
  const messages = logs.map((l) => l.msg)
  t.ok(messages.includes('empty database: loading the demo data set (SEED_DEMO=false to skip)'))
  t.ok(messages.some((m) => /^API on http:\/\/127\.0\.0\.1:\d+ {2}docs on /.test(String(m))))
  t.match(logs.find((l) => l.msg === 'request' && l.route === '/healthz'), { method: 'GET', status: 200, duration_ms: Number, reqId: String })
  t.match(logs.find((l) => l.msg === 'request' && String(l.route).startsWith('/docs')), { status: 200 })
  t.notMatch(server.output(), '23.8123457', 'the query string is not logged')
  t.match(logs.find((l) => String(l.msg).startsWith('shutting down')), { signal: 'SIGTERM', timeout_ms: 10_000 })
  // The order of arrival is not always the order of writing (pino writes asynchronously and flushes what is left
  // at exit), and lines written in the same millisecond carry the same time: nothing may be logged after 'stopped'.
  const stopped = logs.filter((l) => l.msg === 'stopped')
  t.equal(stopped.length, 1, 'one "stopped" line')
  const lastTime = Math.max(...logs.map((l) => Number(l.time)))
  t.equal(Number(stopped[0]?.time), lastTime, `nothing logged after "stopped": ${JSON.stringify(logs.slice(-4))}`)
})

t.test('with DATABASE_URL set, the demo data is not loaded unless SEED_DEMO=true', async (t) => {
  t.equal(loadConfig({}).SEED_DEMO, true, 'private cluster: on by default')
  t.equal(loadConfig({ DATABASE_URL: 'postgresql://x@h/db' }).SEED_DEMO, false, 'DATABASE_URL: off by default')
  t.equal(loadConfig({ DATABASE_URL: 'postgresql://x@h/db', SEED_DEMO: 'true' }).SEED_DEMO, true)
  t.equal(loadConfig({ SEED_DEMO: 'false' }).SEED_DEMO, false)

  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const port = await freePort()
  const server = startServer({ DATABASE_URL: database.url, PORT: String(port) })
  t.teardown(() => server.child.kill('SIGKILL'))
  await server.listening
  const res = await fetch(`http://127.0.0.1:${port}/v1/providers`)
  t.equal(res.status, 200)
  t.same((await res.json()).items, [])
  t.equal(await count(database.db, 'providers'), 0)
  t.equal(await count(database.db, 'areas'), 0)
  server.child.kill('SIGTERM')
  t.equal((await server.exited)[0], 0)
  t.notOk(server.logs().some((l) => /demo/.test(String(l.msg))), 'no demo load attempted')
})

/**
 * A server over a migrated, empty database, and a request held in flight: a transaction of the test's own
 * locks the providers table, so GET /v1/providers waits on the lock inside PostgreSQL until it ends.
 */
async function serverWithRequestInFlight(t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}) {
  const database = await createTestDatabase()
  const locker = new pg.Client({ connectionString: database.url })
  await locker.connect()
  t.teardown(async () => {
    await locker.end().catch(() => {})
    await database.drop()
  })
  const port = await freePort()
  const server = startServer({ DATABASE_URL: database.url, PORT: String(port), ...env })
  t.teardown(() => server.child.kill('SIGKILL'))
  await server.listening
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE providers IN ACCESS EXCLUSIVE MODE')
  const inFlight = fetch(`http://127.0.0.1:${port}/v1/providers?limit=1`).then(
    async (res) => ({ status: res.status, body: await res.json() }),
    (err: Error) => ({ error: err }),
  )
  // The request is in flight once its query waits on the lock.
  for (let i = 0; ; i++) {
    // Inside the locking transaction pg_stat_activity is read from a snapshot taken at its first use; clear it,
    // or a connection the server opens after that first look is never seen.
    await locker.query('SELECT pg_stat_clear_snapshot()')
    const { rows } = await locker.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    if (rows[0].n > 0) break
    if (i > 100) throw new Error('the request never reached the lock')
    await new Promise((r) => setTimeout(r, 50))
  }
  const waitForLog = async (msg: RegExp) => {
    for (let i = 0; i < 200 && !server.logs().some((l) => msg.test(String(l.msg))); i++) await new Promise((r) => setTimeout(r, 25))
  }
  return { server, port, locker, inFlight, waitForLog }
}

t.test('SIGTERM: no new connections, the request in flight finishes, then a clean exit', async (t) => {
  const { server, port, locker, inFlight, waitForLog } = await serverWithRequestInFlight(t)
  const signalled = Date.now()
  server.child.kill('SIGTERM')
  await waitForLog(/^shutting down/)
  const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    (res) => `answered ${res.status}`,
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
  )
  t.equal(refused, 'ECONNREFUSED', 'a new connection is refused while closing')
  t.equal(server.child.exitCode, null, 'still running while the request is in flight')

  await locker.query('COMMIT')
  const answer = await inFlight
  t.match(answer, { status: 200, body: { items: [] } }, 'the request in flight got its answer')
  const [code] = await server.exited
  t.equal(code, 0)
  t.ok(Date.now() - signalled < 10_000, 'well before the deadline')
  t.equal(server.logs().at(-1)?.msg, 'stopped')
})

t.test('SIGTERM with a request that does not finish: the process exits at SHUTDOWN_TIMEOUT_MS', async (t) => {
  const { server, inFlight } = await serverWithRequestInFlight(t, { SHUTDOWN_TIMEOUT_MS: '1500' })
  const signalled = Date.now()
  server.child.kill('SIGTERM')
  const [code, signal] = await server.exited
  const waited = Date.now() - signalled
  t.equal(signal, null, 'exited by itself, not killed')
  t.equal(code, 1, 'exit code 1: requests were cut off')
  t.ok(waited >= 1400 && waited < 6000, `exited after the deadline (${waited} ms)`)
  t.match(server.logs().find((l) => l.level === 50), { msg: /shutdown deadline/, timeout_ms: 1500 })
  t.match(await inFlight, { error: Error }, 'the request left in flight was cut off')
})

t.test('an unreachable DATABASE_URL stops the server at once with a clear message', async (t) => {
  const port = await freePort()
  const server = startServer({ DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', PORT: String(port) })
  const [code] = await server.exited
  t.equal(code, 1)
  t.match(server.logs().find((l) => l.level === 60), { msg: /^could not start: .*ECONNREFUSED/, code: 'ECONNREFUSED' })
  t.notMatch(server.output(), /^\s+at /m, 'no stack trace')
})

t.test('an invalid environment is refused before anything starts', async (t) => {
  const server = startServer({ PORT: 'not-a-port', DATABASE_URL: serverUrl('postgres') })
  const [code] = await server.exited
  t.equal(code, 1)
  t.match(server.logs().find((l) => l.level === 60), { msg: /^could not start: Invalid environment:[\s\S]*PORT/ })
})

t.test('dist/ is stale when anything it is built from is newer than the last build', async (t) => {
  const { mkdirSync, utimesSync, writeFileSync } = await import('node:fs')
  const root = t.testdir({
    'package.json': '{}',
    'package-lock.json': '{}',
    'tsconfig.json': '{}',
    'tsconfig.build.json': '{}',
    src: { db: { 'client.ts': '' }, 'server.ts': '' },
  })
  const at = (file: string, seconds: number) => utimesSync(path.join(root, file), seconds, seconds)
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/db/client.ts', 'src/server.ts', 'src/db', 'src']) at(f, 1000)
  t.equal(staleReason(root), 'dist/ is missing')
  mkdirSync(path.join(root, path.dirname(SERVER_ENTRY)), { recursive: true })
  writeFileSync(path.join(root, 'dist', '.built'), '')
  at('dist/.built', 2000)
  t.equal(staleReason(root), undefined, 'fresh')
  at('src/db/client.ts', 3000)
  t.equal(staleReason(root), 'src changed since the last build', 'a source file deep in src/')
  at('src/db/client.ts', 1000)
  at('src/db', 3000)
  t.equal(staleReason(root), 'src changed since the last build', 'a file removed from src/db (its folder changed)')
  at('src/db', 1000)
  at('package-lock.json', 3000)
  t.equal(staleReason(root), 'package-lock.json changed since the last build')
  at('package-lock.json', 1000)
  at('tsconfig.build.json', 3000)
  t.equal(staleReason(root), 'tsconfig.build.json changed since the last build')
})
