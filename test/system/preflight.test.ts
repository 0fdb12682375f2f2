// What setu says before it touches any data when it cannot run: missing PostgreSQL or PostGIS packages
// (against the real filesystem), a database whose role may not create PostGIS, and a server without
// PostGIS at all (against real PostgreSQL servers). Each failure must name what to install or run.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { createDb, type Db } from '../../src/db/client.js'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { ClusterSetupError, ensureServerBinaries } from '../../src/db/local-cluster.js'
import { assertPostgisAvailable, migrateDatabase, PostgisMissingError } from '../../src/db/migrate.js'
import { closePool, serverUrl } from '../helpers/db.js'
import { freePort, startServer } from '../helpers/server.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

function tempDir(t: Teardown, prefix: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function errorOf(fn: () => unknown): Error | undefined {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  return undefined
}

const rejectionOf = (p: Promise<unknown>) => p.then(() => undefined, (err: Error) => err)

/** Runs the server as `npm start` does and waits for it to exit, killing it if it is still up after `ms`. */
async function serverExit(env: Record<string, string>, ms = 15_000) {
  const server = startServer({ ...env, PORT: String(await freePort()) })
  const killer = setTimeout(() => server.child.kill('SIGKILL'), ms)
  const [code, signal] = await server.exited
  clearTimeout(killer)
  const fatal = server.logs().find((l) => l.level === 60)
  return { code, signal, output: server.output(), fatal: String(fatal?.msg ?? ''), fatalLine: fatal }
}

/**
 * Ends a pool and waits until its connections are closed. pool.end() resolves before they are, and a
 * connection still closing when its backend is then killed (DROP DATABASE ... WITH (FORCE), stopping
 * the server) receives a FATAL error that pg raises as an uncaught 'error' event.
 */

/** Everything a migration would have written: relations outside the system schemas, schemas, extensions. */
async function contents(db: Db) {
  const { rows } = await db.$client.query<{ relations: number; schemas: string[]; extensions: string[] }>(
    `SELECT (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%') AS relations,
            (SELECT array_agg(nspname::text ORDER BY nspname) FROM pg_namespace
              WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_%') AS schemas,
            (SELECT array_agg(extname::text ORDER BY extname) FROM pg_extension) AS extensions`,
  )
  return rows[0]
}
const UNTOUCHED = { relations: 0, schemas: ['public'], extensions: ['plpgsql'] }

t.test('missing PostgreSQL packages, with installing not allowed', async (t) => {
  t.test('no PostgreSQL server at all: names the server and PostGIS packages', async (t) => {
    const pgRoot = tempDir(t, 'setu-pgroot-')
    const logs: string[] = []
    const err = errorOf(() => ensureServerBinaries((m) => logs.push(m), { pgRoot, canInstall: false }))
    t.type(err, ClusterSetupError)
    t.match(err?.message, 'sudo apt-get install postgresql-15 postgresql-15-postgis-3')
    t.match(err?.message, 'DATABASE_URL')
    t.same(logs, [], 'tried to install nothing')
  })

  t.test('PostgreSQL 16 without PostGIS: names the PostGIS package of the newest version', async (t) => {
    const pgRoot = tempDir(t, 'setu-pgroot-')
    // An older complete-looking version beside it, to show the newest one is the one checked.
    mkdirSync(path.join(pgRoot, '14', 'bin'), { recursive: true })
    writeFileSync(path.join(pgRoot, '14', 'bin', 'pg_ctl'), '')
    const bin = path.join(pgRoot, '16', 'bin')
    const sharedir = path.join(pgRoot, 'share', '16')
    mkdirSync(bin, { recursive: true })
    mkdirSync(path.join(sharedir, 'extension'), { recursive: true })
    writeFileSync(path.join(bin, 'pg_ctl'), '')
    // pg_config is really run: it reports a share directory that has no extension/postgis.control.
    writeFileSync(path.join(bin, 'pg_config'), `#!/bin/sh\necho '${sharedir}'\n`, { mode: 0o755 })

    const err = errorOf(() => ensureServerBinaries(() => {}, { pgRoot, canInstall: false }))
    t.type(err, ClusterSetupError)
    t.match(err?.message, 'sudo apt-get install postgresql-16-postgis-3\n')
    t.notMatch(err?.message, 'postgresql-14')
    t.match(err?.message, 'DATABASE_URL')
  })

  t.test('the real installation: PostgreSQL 15 with PostGIS, nothing to install', async (t) => {
    const logs: string[] = []
    const found = ensureServerBinaries((m) => logs.push(m), { canInstall: false })
    t.same(found, { version: 15, bindir: '/usr/lib/postgresql/15/bin' })
    t.same(logs, [])
  })
})

/**
 * A brand-new database with no extensions (from template0, not the migrated template), owned by a new
 * LOGIN role that is not a superuser: what a managed PostgreSQL service hands out. Both are dropped
 * at teardown. The database name follows test/helpers/db.ts, so an aborted run's copy is dropped later.
 */
async function managedStyleDatabase(t: Teardown) {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`
  const database = `setu_t_${suffix}`
  const role = `setu_role_${suffix}`
  const password = randomBytes(12).toString('hex')
  const admin = new pg.Client({ connectionString: serverUrl('postgres') })
  await admin.connect()
  let db: Db | undefined
  t.teardown(async () => {
    await closePool(db)
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    await admin.query(`DROP ROLE IF EXISTS "${role}"`)
    await admin.end()
  })
  await admin.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER PASSWORD '${password}'`)
  await admin.query(`CREATE DATABASE "${database}" OWNER "${role}" TEMPLATE template0`)
  const url = new URL(serverUrl(database))
  url.username = role
  url.password = password
  db = createDb(url.toString(), { max: 2 })
  return { admin, database, role, url: url.toString(), db }
}

/**
 * A stand-in for apt-get that behaves as apt does where it matters: it records every call, holds "the dpkg
 * lock" while it installs (without -o DPkg::Lock::Timeout a second apt-get fails at once, as the real one does),
 * takes a second to install, and then the fake PostgreSQL 15 with PostGIS exists under `pgRoot`.
 */
function fakeAptGet(dir: string, pgRoot: string, { failInstall = false, listsLockedOnce = false } = {}) {
  const script = path.join(dir, 'apt-get')
  const calls = path.join(dir, 'calls')
  writeFileSync(
    script,
    `#!/bin/sh
echo "$*" >> '${calls}'
case " $* " in
  *" update "*)
    if [ ${listsLockedOnce ? 1 : 0} = 1 ] && mkdir '${dir}/lists-locked-once' 2>/dev/null; then
      echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2; exit 100
    fi
    exit 0 ;;
esac
if [ ${failInstall ? 1 : 0} = 1 ]; then echo "E: Unable to locate package postgresql-15-postgis-3" >&2; exit 100; fi
until mkdir '${dir}/dpkg-lock' 2>/dev/null; do
  case "$*" in
    *DPkg::Lock::Timeout=*) sleep 0.1 ;;
    *) echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2; exit 100 ;;
  esac
done
sleep 1
mkdir -p '${pgRoot}/15/bin' '${pgRoot}/share/extension'
printf '#!/bin/sh\necho ${pgRoot}/share\n' > '${pgRoot}/15/bin/pg_config'
chmod +x '${pgRoot}/15/bin/pg_config'
touch '${pgRoot}/15/bin/pg_ctl' '${pgRoot}/share/extension/postgis.control'
rmdir '${dir}/dpkg-lock'
`,
    { mode: 0o755 },
  )
  return { script, calls: () => readFileSync(calls, 'utf8').trim().split('\n') }
}

t.test('installing missing packages with apt-get', async (t) => {
  t.test('two first starts at once both succeed, and install once', async (t) => {
    const dir = tempDir(t, 'setu-apt-')
    const pgRoot = path.join(dir, 'pg')
    const apt = fakeAptGet(dir, pgRoot)
    const options = { pgRoot, canInstall: true, aptGet: apt.script, installLock: path.join(dir, 'install.lock') }
    const code = `import('./src/db/local-cluster.ts').then((m) => console.log(JSON.stringify(m.ensureServerBinaries(() => {}, ${JSON.stringify(options)}))))`
    const start = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      return once(child, 'exit').then(([status]) => ({ status, out }))
    }
    const results = await Promise.all([start(), start()])
    for (const r of results) {
      t.equal(r.status, 0, r.out)
      t.same(JSON.parse(r.out), { version: 15, bindir: path.join(pgRoot, '15', 'bin') })
    }
    const calls = apt.calls()
    t.same(calls.map((c) => c.split(' ').slice(2, 3)[0]), ['update', 'install'], 'one update and one install, by one process')
    t.ok(calls.every((c) => c.startsWith('-o DPkg::Lock::Timeout=600 ')), 'every call waits for the dpkg lock')
    t.match(calls[1], 'install -y -qq --no-install-recommends postgresql-15 postgresql-15-postgis-3')
  })

  t.test('dpkg busy with another installer (unattended-upgrades): waits for its lock instead of failing', async (t) => {
    const dir = tempDir(t, 'setu-apt-')
    const pgRoot = path.join(dir, 'pg')
    const apt = fakeAptGet(dir, pgRoot)
    mkdirSync(path.join(dir, 'dpkg-lock'))
    spawn('sh', ['-c', `sleep 1.5; rmdir '${path.join(dir, 'dpkg-lock')}'`], { stdio: 'ignore' })
    const started = Date.now()
    const found = ensureServerBinaries(() => {}, { pgRoot, canInstall: true, aptGet: apt.script, installLock: path.join(dir, 'lock') })
    t.same(found, { version: 15, bindir: path.join(pgRoot, '15', 'bin') })
    t.ok(Date.now() - started >= 1500, 'waited for the other installer')
  })

  t.test('package lists locked by another apt-get: waits for it, then installs', async (t) => {
    const dir = tempDir(t, 'setu-apt-')
    const pgRoot = path.join(dir, 'pg')
    const apt = fakeAptGet(dir, pgRoot, { listsLockedOnce: true })
    const logs: string[] = []
    const found = ensureServerBinaries((m) => logs.push(m), { pgRoot, canInstall: true, aptGet: apt.script, installLock: path.join(dir, 'lock') })
    t.same(found, { version: 15, bindir: path.join(pgRoot, '15', 'bin') })
    t.same(apt.calls().map((c) => c.split(' ')[2]), ['update', 'update', 'install'])
    t.same(logs, ['installing postgresql-15 postgresql-15-postgis-3 with apt-get (first run only)'])
  })

  t.test('a failing install: a clear message with apt-get\'s reason and what to do, no stack trace', async (t) => {
    const dir = tempDir(t, 'setu-apt-')
    const pgRoot = path.join(dir, 'pg')
    const apt = fakeAptGet(dir, pgRoot, { failInstall: true })
    const err = errorOf(() =>
      ensureServerBinaries(() => {}, { pgRoot, canInstall: true, aptGet: apt.script, installLock: path.join(dir, 'lock') }),
    )
    t.type(err, ClusterSetupError)
    t.match(err?.message, /^apt-get install failed \(exit 100\):\nE: Unable to locate package postgresql-15-postgis-3\n/)
    t.match(err?.message, 'sudo apt-get install postgresql-15 postgresql-15-postgis-3')
    t.match(err?.message, 'DATABASE_URL')
  })
})

t.test('a role that may not create PostGIS is stopped before any migration, told what an administrator must run', async (t) => {
  const target = await managedStyleDatabase(t)
  t.same(await contents(target.db), UNTOUCHED, 'starts empty')

  // PostgreSQL's own verdict, which the check must agree with: the owner may create pg_trgm (trusted)
  // but not postgis (superuser only).
  const client = await target.db.$client.connect()
  try {
    await client.query('BEGIN')
    await client.query('CREATE EXTENSION pg_trgm')
    await client.query('ROLLBACK')
    const denied = (await rejectionOf(client.query('CREATE EXTENSION postgis'))) as (Error & { code?: string }) | undefined
    t.equal(denied?.code, '42501', 'postgis: permission denied')
  } finally {
    client.release()
  }

  const err = await rejectionOf(migrateDatabase(target.db))
  t.type(err, PostgisMissingError)
  t.match(err?.message, `Database "${target.database}" lacks the extension postgis, and role "${target.role}" may not create it`)
  t.match(err?.message, 'only a superuser may create postgis')
  t.match(err?.message, `Ask an administrator to run, connected to database "${target.database}":\n  CREATE EXTENSION postgis;\n`)
  t.notMatch(err?.message, 'pg_trgm', 'pg_trgm is not asked for: the owner may create it')
  t.same(await contents(target.db), UNTOUCHED, 'nothing written')

  // Not the owner any more, so without CREATE on the database: pg_trgm is out of reach too.
  await target.admin.query(`ALTER DATABASE "${target.database}" OWNER TO CURRENT_USER`)
  const err2 = await rejectionOf(assertPostgisAvailable(target.db))
  t.type(err2, PostgisMissingError)
  t.match(err2?.message, `lacks the extensions postgis and pg_trgm, and role "${target.role}" may not create them`)
  t.match(err2?.message, 'pg_trgm needs the CREATE privilege on the database')
  t.match(err2?.message, 'CREATE EXTENSION postgis; CREATE EXTENSION pg_trgm;')
})

t.test('the server refuses such a database at start: exit 1, the message without a stack trace, nothing written', async (t) => {
  const target = await managedStyleDatabase(t)
  const started = Date.now()
  const { code, signal, output, fatal, fatalLine } = await serverExit({ DATABASE_URL: target.url })
  t.equal(signal, null, `exited by itself (after ${Date.now() - started} ms)`)
  t.equal(code, 1)
  t.match(
    fatal,
    `could not start: Database "${target.database}" lacks the extension postgis, and role "${target.role}" may not create it`,
  )
  t.match(fatal, `connected to database "${target.database}":\n  CREATE EXTENSION postgis;\n`)
  t.notOk(fatalLine && 'err' in fatalLine, 'no stack trace')
  t.notMatch(output, /^\s+at /m, 'no stack trace outside the log either')
  t.notMatch(output, 'permission denied', 'not the raw error from inside the migration')
  t.same(await contents(target.db), UNTOUCHED, 'nothing written')
})

t.test('a PostgreSQL server without PostGIS installed at all', async (t) => {
  // A throwaway PostgreSQL installation that lacks PostGIS: PostgreSQL finds its share/ and lib/
  // directories relative to its own executable, so copies of the real binaries under ROOT, next to
  // ROOT/<sharedir> and ROOT/<pkglibdir> holding links to everything but the PostGIS files, make one.
  const { version, bindir } = ensureServerBinaries(() => {}, { canInstall: false })
  const pgConfig = (bin: string, flag: string) => execFileSync(path.join(bin, 'pg_config'), [flag], { encoding: 'utf8' }).trim()
  const sharedir = pgConfig(bindir, '--sharedir')
  const pkglibdir = pgConfig(bindir, '--pkglibdir')

  const root = mkdtempSync(path.join(os.tmpdir(), 'setu-nopostgis-'))
  const dataDir = path.join(root, 'data')
  const socketDir = path.join(root, 'run')
  const copyBin = path.join(root, bindir)
  // initdb refuses to run as root, so as root the server belongs to the postgres system user.
  const asPostgres = process.getuid?.() === 0
  const pgTool = (tool: string, args: string[]) => {
    const cmd = path.join(copyBin, tool)
    const res = asPostgres
      ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', cwd: '/' })
      : spawnSync(cmd, args, { encoding: 'utf8', cwd: '/' })
    return { status: res.status, out: `${res.stdout}${res.stderr}` }
  }
  let db: Db | undefined
  // One teardown, in order, so the server is stopped and the folder removed even when an assertion fails.
  t.teardown(async () => {
    await closePool(db)
    pgTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'])
    rmSync(root, { recursive: true, force: true })
  })

  const linkAllExcept = (from: string, to: string, skip: (name: string) => boolean) => {
    mkdirSync(to, { recursive: true })
    for (const name of readdirSync(from)) if (!skip(name)) symlinkSync(path.join(from, name), path.join(to, name))
  }
  mkdirSync(copyBin, { recursive: true })
  for (const tool of ['postgres', 'initdb', 'pg_ctl', 'pg_config']) copyFileSync(path.join(bindir, tool), path.join(copyBin, tool))
  linkAllExcept(sharedir, path.join(root, sharedir), (name) => name === 'extension')
  linkAllExcept(path.join(sharedir, 'extension'), path.join(root, sharedir, 'extension'), (name) => name.startsWith('postgis'))
  linkAllExcept(pkglibdir, path.join(root, pkglibdir), (name) => name.startsWith('postgis'))
  t.equal(pgConfig(copyBin, '--sharedir'), path.join(root, sharedir), 'the copy uses its own share directory')

  chmodSync(root, 0o755)
  for (const dir of [dataDir, socketDir]) {
    mkdirSync(dir, { mode: 0o700 })
    if (asPostgres) execFileSync('chown', ['postgres:postgres', dir])
  }
  const init = pgTool('initdb', ['-D', dataDir, '-U', 'setu', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'])
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.out}`)
  const options = `-c listen_addresses='' -c unix_socket_directories='${socketDir}' -c fsync=off`
  const start = pgTool('pg_ctl', ['-D', dataDir, '-l', path.join(socketDir, 'server.log'), '-w', '-t', '30', '-o', options, 'start'])
  if (start.status !== 0) throw new Error(`pg_ctl start failed:\n${start.out}`)

  const url = `postgresql://setu@localhost/postgres?host=${encodeURIComponent(socketDir)}`
  db = createDb(url, { max: 2 })
  const { rows } = await db.$client.query<{ name: string }>(
    "SELECT name FROM pg_available_extensions WHERE name IN ('postgis', 'pg_trgm') ORDER BY name",
  )
  t.same(rows.map((r) => r.name), ['pg_trgm'], 'pg_trgm is available, postgis is not')

  const expected =
    `PostGIS is not available on the PostgreSQL ${version} server of database "postgres" (DATABASE_URL). ` +
    `Install it on that server (Debian: apt-get install postgresql-${version}-postgis-3)`
  const err = await rejectionOf(migrateDatabase(db))
  t.type(err, PostgisMissingError)
  t.match(err?.message, expected)
  t.match(err?.message, 'unset DATABASE_URL')

  const { code, signal, output, fatal, fatalLine } = await serverExit({ DATABASE_URL: url })
  t.equal(signal, null, 'exited by itself')
  t.equal(code, 1)
  t.match(fatal, `could not start: ${expected}`)
  t.notOk(fatalLine && 'err' in fatalLine, 'no stack trace')
  t.notMatch(output, /^\s+at /m, 'no stack trace outside the log either')
  t.same(await contents(db), UNTOUCHED, 'nothing written')
})
