// A private PostgreSQL + PostGIS cluster under .data/, so that `npm start` and `npm test`
// need no configuration. Used only when DATABASE_URL is unset.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, openSync, closeSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const PG_ROOT = '/usr/lib/postgresql'
const SUPERUSER = 'setu'
export const LOCAL_DB_NAME = 'setu'
// Unix socket paths are limited to 107 bytes, including "/.s.PGSQL.5432".
const MAX_SOCKET_DIR_LENGTH = 90

export interface LocalCluster {
  /** Connection string for a database on the cluster. */
  url(database?: string): string
  dataDir: string
  /** True when this process started the server (and so should stop it). */
  startedHere: boolean
  stop(): void
}

type Log = (msg: string) => void

export class ClusterSetupError extends Error {}

const isRoot = () => process.getuid?.() === 0

function run(cmd: string, args: string[], opts: { asPostgres?: boolean; cwd?: string } = {}) {
  const [file, argv] = opts.asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]
  const res = spawnSync(file, argv, { encoding: 'utf8', cwd: opts.cwd ?? '/' })
  return { ok: res.status === 0, status: res.status, out: `${res.stdout ?? ''}${res.stderr ?? ''}`.trim() }
}

function installedVersions(pgRoot = PG_ROOT): number[] {
  if (!existsSync(pgRoot)) return []
  return readdirSync(pgRoot)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(pgRoot, v, 'bin', 'pg_ctl')))
    .map(Number)
    .sort((a, b) => b - a)
}

// dpkg's lock is held by whoever installs (unattended-upgrades, another setu starting at the same time); wait
// for it rather than die on it. apt honours this for the dpkg lock only.
const APT_LOCK_WAIT_S = 600
const APT_LOCK_OPTION = ['-o', `DPkg::Lock::Timeout=${APT_LOCK_WAIT_S}`]
const APT_LOCK_HELD = /Could not get lock|Unable to (lock|acquire)/

function apt(aptGet: string, args: string[]) {
  const res = spawnSync(aptGet, [...APT_LOCK_OPTION, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const stderr = (res.error ? String(res.error.message) : (res.stderr ?? '')).trim()
  return { ok: res.status === 0, status: res.status, stderr }
}

function aptInstall(packages: string[], log: Log, aptGet = 'apt-get') {
  log(`installing ${packages.join(' ')} with apt-get (first run only)`)
  const failed = (step: string, res: { status: number | null; stderr: string }) =>
    new ClusterSetupError(
      `apt-get ${step} failed (exit ${res.status ?? 'none'}):\n${res.stderr.split('\n').slice(-8).join('\n')}\n\n` +
        installHint(packages),
    )
  // The package lists' lock is not covered by DPkg::Lock::Timeout (apt 2.6): whoever holds it is refreshing the
  // same lists, so wait for it the same while.
  const deadline = Date.now() + APT_LOCK_WAIT_S * 1000
  for (;;) {
    const update = apt(aptGet, ['update', '-qq'])
    if (update.ok) break
    if (!APT_LOCK_HELD.test(update.stderr) || Date.now() > deadline) throw failed('update', update)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000)
  }
  const install = apt(aptGet, ['install', '-y', '-qq', '--no-install-recommends', ...packages])
  if (!install.ok) throw failed('install', install)
}

const canApt = () => isRoot() && run('sh', ['-c', 'command -v apt-get']).ok

const installHint = (packages: string[]) =>
  `setu needs ${packages.join(' and ')} to run its own database.\n` +
  `Install ${packages.length > 1 ? 'them' : 'it'} with:  sudo apt-get install ${packages.join(' ')}\n` +
  'or point DATABASE_URL at a PostgreSQL database that has PostGIS.'

export interface ServerBinariesOptions {
  /** Where the PostgreSQL versions live (Debian layout: <pgRoot>/<version>/bin). */
  pgRoot?: string
  /** Whether missing packages may be installed; default: running as root with apt-get. */
  canInstall?: boolean
  /** The apt-get to run; tests pass a stand-in. */
  aptGet?: string
  /** Held while installing; default: one lock for the machine, whose packages every checkout shares. */
  installLock?: string
}

const INSTALL_LOCK = path.join(os.tmpdir(), 'setu-install.lock')

/** Finds the newest installed PostgreSQL server with PostGIS, installing what is missing when allowed. */
export function ensureServerBinaries(log: Log, options: ServerBinariesOptions = {}): { version: number; bindir: string } {
  const pgRoot = options.pgRoot ?? PG_ROOT
  const found = findServerBinaries(pgRoot)
  if (!('missing' in found)) return found
  // Asked only when something is missing, so a complete installation never runs the apt-get probe.
  if (!(options.canInstall ?? canApt())) throw new ClusterSetupError(installHint(found.missing))
  // Two setu processes starting together on a fresh machine (a server and a test run) install once: the
  // second waits here, then finds the packages the first installed.
  return withLock(options.installLock ?? INSTALL_LOCK, () => {
    const again = findServerBinaries(pgRoot)
    if (!('missing' in again)) return again
    aptInstall(again.missing, log, options.aptGet)
    const installed = findServerBinaries(pgRoot)
    if ('missing' in installed) throw new ClusterSetupError(`apt-get reported success, but ${installHint(installed.missing)}`)
    return installed
  }, APT_LOCK_WAIT_S * 2 * 1000)
}

/** The newest PostgreSQL with PostGIS, or the packages that would complete the installation. */
function findServerBinaries(pgRoot: string): { version: number; bindir: string } | { missing: string[] } {
  const version = installedVersions(pgRoot)[0]
  if (version === undefined) return { missing: ['postgresql-15', 'postgresql-15-postgis-3'] }
  const bindir = path.join(pgRoot, String(version), 'bin')
  const sharedir = run(path.join(bindir, 'pg_config'), ['--sharedir']).out || `/usr/share/postgresql/${version}`
  if (!existsSync(path.join(sharedir, 'extension', 'postgis.control'))) return { missing: [`postgresql-${version}-postgis-3`] }
  return { version, bindir }
}

/** A lock shared by every process using the same cluster directory (server, test workers, scripts). */
function withLock<T>(lockPath: string, fn: () => T, waitMs = 120_000): T {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeFileSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = lockHolder(lockPath)
      if (holder === undefined) continue // released between our open and our read: try again at once
      if (holder && !processAlive(holder)) rmSync(lockPath, { force: true })
      else if (Date.now() > deadline) throw new ClusterSetupError(`timed out waiting for ${lockPath}`)
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    }
  }
  try {
    return fn()
  } finally {
    rmSync(lockPath, { force: true })
  }
}

/** The pid written in the lock file; 0 while its creator has not written it yet; undefined once it is gone. */
function lockHolder(lockPath: string): number | undefined {
  try {
    return Number(readFileSync(lockPath, 'utf8') || 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to another user). */
export function processAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

interface Layout {
  clusterDir: string
  dataDir: string
  socketDir: string
  logFile: string
  lockFile: string
}

function layout(projectRoot: string, version: number, asPostgres: boolean): Layout {
  let base = path.join(projectRoot, '.data')
  mkdirSync(base, { recursive: true })
  // initdb refuses to run as root, so as root the cluster belongs to the postgres system user,
  // which must be able to reach the folder. A checkout under /root is not reachable: fall back
  // to a folder of the postgres user's own, named after the checkout.
  if (asPostgres && !run('test', ['-x', base], { asPostgres: true }).ok) {
    const hash = createHash('sha1').update(projectRoot).digest('hex').slice(0, 10)
    base = path.join('/var/lib/postgresql', `setu-${hash}`)
    mkdirSync(base, { recursive: true })
  }
  // Everything the server writes lives in one folder that its owner controls.
  const clusterDir = path.join(base, 'postgres')
  let socketDir = path.join(clusterDir, 'run')
  if (socketDir.length > MAX_SOCKET_DIR_LENGTH) {
    const hash = createHash('sha1').update(base).digest('hex').slice(0, 10)
    socketDir = path.join('/tmp', `setu-${hash}`)
  }
  return {
    clusterDir,
    dataDir: path.join(clusterDir, String(version)),
    socketDir,
    logFile: path.join(clusterDir, 'server.log'),
    lockFile: path.join(projectRoot, '.data', 'cluster.lock'),
  }
}

function chownToPostgres(dir: string) {
  execFileSync('chown', ['postgres:postgres', dir])
}

/**
 * Creates the cluster on first use, starts it when it is not running, and makes sure the
 * application database exists. Safe to call from several processes at once.
 */
export function ensureLocalCluster(projectRoot: string, log: Log = () => {}): LocalCluster {
  const { version, bindir } = ensureServerBinaries(log)
  const asPostgres = isRoot()
  const dirs = layout(projectRoot, version, asPostgres)
  const pg = (tool: string, args: string[]) => run(path.join(bindir, tool), args, { asPostgres })

  const psql = (sql: string) =>
    run(path.join(bindir, 'psql'), ['-X', '-qAt', '-h', dirs.socketDir, '-U', SUPERUSER, '-d', 'postgres', '-c', sql])
  const ensureDatabase = () => {
    const exists = psql(`SELECT 1 FROM pg_database WHERE datname = '${LOCAL_DB_NAME}'`)
    if (!exists.ok) throw new ClusterSetupError(`cannot reach the private cluster:\n${exists.out}`)
    if (exists.out === '1') return
    const created = psql(`CREATE DATABASE ${LOCAL_DB_NAME}`)
    if (!created.ok) throw new ClusterSetupError(created.out)
  }

  const startedHere = withLock(dirs.lockFile, () => {
    for (const dir of [dirs.clusterDir, dirs.socketDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      if (asPostgres) chownToPostgres(dir)
    }
    if (!existsSync(path.join(dirs.dataDir, 'PG_VERSION'))) {
      log(`creating a private PostgreSQL ${version} cluster in ${dirs.dataDir}`)
      const init = pg('initdb', [
        '-D', dirs.dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8',
      ])
      if (!init.ok) throw new ClusterSetupError(`initdb failed:\n${init.out}`)
    }
    if (pg('pg_ctl', ['-D', dirs.dataDir, 'status']).ok) {
      ensureDatabase()
      return false
    }
    const options = [
      "-c listen_addresses=''",
      `-c unix_socket_directories='${dirs.socketDir}'`,
      '-c unix_socket_permissions=0700',
      '-c port=5432',
      '-c max_connections=200',
      '-c shared_buffers=128MB',
    ].join(' ')
    const start = pg('pg_ctl', ['-D', dirs.dataDir, '-l', dirs.logFile, '-w', '-t', '120', '-o', options, 'start'])
    if (!start.ok) {
      const tail = existsSync(dirs.logFile) ? readFileSync(dirs.logFile, 'utf8').split('\n').slice(-15).join('\n') : ''
      throw new ClusterSetupError(`could not start PostgreSQL:\n${start.out}\n${tail}`)
    }
    log(`started the private PostgreSQL cluster (socket in ${dirs.socketDir})`)
    ensureDatabase()
    return true
  })

  const url = (database = LOCAL_DB_NAME) =>
    `postgresql://${SUPERUSER}@localhost/${database}?host=${encodeURIComponent(dirs.socketDir)}`

  return {
    url,
    dataDir: dirs.dataDir,
    startedHere,
    stop() {
      const res = pg('pg_ctl', ['-D', dirs.dataDir, '-m', 'fast', '-w', 'stop'])
      if (res.ok) log('stopped the private PostgreSQL cluster')
    },
  }
}

/** Stops the private cluster if it runs; used by `npm run db:stop` and the test run's teardown. */
export function stopLocalCluster(projectRoot: string, log: Log = () => {}) {
  const version = installedVersions()[0]
  if (version === undefined) return
  const dirs = layout(projectRoot, version, isRoot())
  if (!existsSync(dirs.dataDir) || !statSync(dirs.dataDir).isDirectory()) return
  const res = run(path.join(PG_ROOT, String(version), 'bin', 'pg_ctl'), ['-D', dirs.dataDir, '-m', 'fast', '-w', 'stop'], {
    asPostgres: isRoot(),
  })
  if (res.ok) log('stopped the private PostgreSQL cluster')
}
