// The database goes away under a burst of writes and comes back: the real server process (as `npm start`
// runs it) must survive, answer 503 while it is down, lose no write it acknowledged, and serve again
// without a restart. The database is a throwaway cluster of this test's own, so stopping it disturbs no
// other test file running beside this one.
import { execFile } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import t from 'tap'
import { createDb } from '../../src/db/client.js'
import { ensureServerBinaries } from '../../src/db/local-cluster.js'
import { DEMO_ORGANISATION_ID, keysRepo } from '../../src/modules/access/keys.js'
import { freePort, startServer } from '../helpers/server.js'

const execFileAsync = promisify(execFile)
const isRoot = process.getuid?.() === 0
const CONNECT_TIMEOUT_MS = 5000 // the server's default DATABASE_CONNECT_TIMEOUT_MS

let binaries: { bindir: string } | undefined
let skipReason: string | undefined
try {
  binaries = ensureServerBinaries((m) => console.error(`# ${m}`))
} catch (err) {
  skipReason = `no PostgreSQL server with PostGIS to run a throwaway cluster: ${(err as Error).message}`
}

/** A PostgreSQL tool, as the postgres system user when we are root (initdb and postgres refuse root). */
async function pgTool(tool: string, args: string[]) {
  const file = path.join(binaries!.bindir, tool)
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args]
  return execFileAsync(cmd, argv, { cwd: '/', encoding: 'utf8' })
}

type Outcome = { name: string; ms: number; phase: Phase } & ({ status: number; type?: string; id?: string } | { error: string })
type Phase = 'before' | 'down' | 'after'

t.test('the server rides out a database stop and start under a burst of writes', { skip: skipReason ?? false }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'setu-outage-'))
  const dataDir = path.join(dir, 'data')
  const logFile = path.join(dir, 'server.log')
  if (isRoot) chownSync(dir, ...(await postgresIds()))
  const options = [
    "-c listen_addresses=''",
    `-c unix_socket_directories='${dir}'`,
    '-c port=5432',
    '-c max_connections=30',
    '-c shared_buffers=16MB',
  ].join(' ')
  const start = () => pgTool('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, 'start'])
  const stop = () => pgTool('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'])

  let server: ReturnType<typeof startServer> | undefined
  t.teardown(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL')
      await server.exited
    }
    await pgTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })

  await pgTool('initdb', ['-D', dataDir, '-U', 'setu', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'])
  await start()
  const url = (database: string) => `postgresql://setu@localhost/${database}?host=${encodeURIComponent(dir)}`
  const admin = new pg.Client({ connectionString: url('postgres') })
  await admin.connect()
  await admin.query('CREATE DATABASE setu')
  await admin.end()

  const port = await freePort()
  server = startServer({
    DATABASE_URL: url('setu'),
    PORT: String(port),
    HOST: '127.0.0.1',
    SEED_DEMO: 'false',
    RATE_LIMIT_PER_MINUTE: '0',
  })
  await server.listening
  const base = `http://127.0.0.1:${port}`
  // Writes need a key: an admin key made in the database the server has just migrated, as `npm run keys` would.
  const setup = createDb(url('setu'), { max: 1 })
  const { key } = await keysRepo(setup).createKey({ organisationId: DEMO_ORGANISATION_ID, role: 'admin', label: 'outage test' })
  await setup.$client.end()
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'ready before the outage')

  // The burst: a few clients writing as fast as the server answers, each write with a name of its own.
  let phase: Phase = 'before'
  let writing = true
  let seq = 0
  const outcomes: Outcome[] = []
  const acked = (p: Phase) => outcomes.filter((o) => o.phase === p && 'status' in o && o.status === 201).length
  async function writer() {
    while (writing) {
      const name = `Outage write ${++seq}`
      const at = phase
      const started = performance.now()
      try {
        const res = await fetch(`${base}/v1/providers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ name, kind: 'ngo', categories: ['shelter'], location: { lat: 23.1, lon: 89.2 } }),
          // Far beyond the connect timeout: a request still open by then has hung.
          signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS + 10_000),
        })
        const body = (await res.json()) as { id?: string; type?: string }
        outcomes.push({ name, phase: at, ms: performance.now() - started, status: res.status, type: body.type, id: body.id })
        if (res.status !== 201) await sleep(50)
      } catch (err) {
        outcomes.push({ name, phase: at, ms: performance.now() - started, error: String((err as Error).cause ?? err) })
        await sleep(50)
      }
    }
  }
  const writers = Array.from({ length: 4 }, writer)
  const waitFor = async (what: string, ok: () => boolean, ms = 30_000) => {
    const deadline = Date.now() + ms
    while (!ok()) {
      const code = server!.child.exitCode
      if (code !== null) throw new Error(`the server exited (${code}) while waiting for ${what}:\n${server!.output().slice(-2000)}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(20)
    }
  }

  try {
    await waitFor('writes before the outage', () => acked('before') >= 30)
    phase = 'down'
    await stop()
    await waitFor('writes refused during the outage', () => outcomes.some((o) => o.phase === 'down' && 'status' in o && o.status === 503))

    const health = await fetch(`${base}/healthz`)
    t.equal(health.status, 200, '/healthz is 200 while the database is down')
    const ready = await fetch(`${base}/readyz`)
    t.equal(ready.status, 503, '/readyz is 503 while the database is down')
    t.match(ready.headers.get('content-type'), /^application\/problem\+json/)
    t.ok(ready.headers.get('retry-after'), 'with Retry-After')
    t.equal(((await ready.json()) as { type: string }).type, 'urn:setu:problem:unavailable')
    await sleep(1000)

    await start()
    phase = 'after'
    await waitFor('writes after the database is back', () => acked('after') >= 20)
  } finally {
    writing = false
    await Promise.all(writers)
  }

  t.equal(server.child.exitCode, null, 'the server process is still running')
  t.notMatch(server.output(), /unhandled error|Uncaught|UnhandledPromiseRejection/, 'nothing unhandled in the server log')

  const byStatus = outcomes.reduce<Record<string, number>>((acc, o) => {
    const key = 'status' in o ? `${o.status}${o.type ? ` ${o.type}` : ''}` : 'connection error'
    return { ...acc, [key]: (acc[key] ?? 0) + 1 }
  }, {})
  t.comment(`${outcomes.length} writes: ${JSON.stringify(byStatus)}`)
  const unexpected = outcomes.filter((o) => 'status' in o && o.status !== 201 && !(o.status === 503 && o.type === 'urn:setu:problem:unavailable'))
  t.same(unexpected, [], 'every write is a 201, or a 503 unavailable problem, or a connection error')
  t.notOk(outcomes.some((o) => 'status' in o && o.status === 500), 'no 500')
  const slowest = Math.max(...outcomes.map((o) => o.ms))
  t.ok(slowest < CONNECT_TIMEOUT_MS + 5000, `every write answered within a bounded time (slowest ${Math.round(slowest)} ms)`)
  t.ok(outcomes.filter((o) => o.phase === 'down' && 'status' in o && o.status === 503).length > 0, 'writes during the outage got 503')

  const ackedWrites = outcomes.filter((o): o is Outcome & { status: number; id: string } => 'status' in o && o.status === 201)
  const check = new pg.Client({ connectionString: url('setu') })
  await check.connect()
  const { rows } = await check.query<{ id: string; name: string }>("SELECT id, name FROM providers WHERE name LIKE 'Outage write %'")
  await check.end()
  const stored = new Map(rows.map((r) => [r.id, r.name]))
  const lost = ackedWrites.filter((o) => stored.get(o.id) !== o.name)
  t.same(lost.map((o) => o.name), [], `all ${ackedWrites.length} acknowledged writes are stored`)

  // Served again by the same process, never restarted.
  const one = ackedWrites[0]
  const read = await fetch(`${base}/v1/providers/${one.id}`)
  t.equal(read.status, 200, 'a DB-backed endpoint answers 200 after the outage')
  t.equal(((await read.json()) as { name: string }).name, one.name)
  t.equal((await fetch(`${base}/readyz`)).status, 200, '/readyz is 200 after the outage')
  t.equal(server.child.exitCode, null, 'still the same process')
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function postgresIds(): Promise<[number, number]> {
  const [uid, gid] = await Promise.all(['-u', '-g'].map((flag) => execFileAsync('id', [flag, 'postgres'], { encoding: 'utf8' })))
  return [Number(uid.stdout.trim()), Number(gid.stdout.trim())]
}
