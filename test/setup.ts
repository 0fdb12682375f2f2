// Runs once before the test files (tap's `before`): start the database, build the template, build dist/.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../src/db/database.js'
import { ensureLocalCluster, processAlive } from '../src/db/local-cluster.js'
import { dropOrphanDatabases, ensureTemplate } from './helpers/db.js'

// tap adds its process tracker to the NODE_OPTIONS of every process spawned here; `env -u` takes it away
// from the processes this script runs or leaves behind.
const plainNode = (...args: string[]) => ['-u', 'NODE_OPTIONS', process.execPath, ...args]
// The tap runner: this script's parent, alive until the run (and its `after`) is over.
const runner = process.ppid
const marker = path.join(PROJECT_ROOT, '.data', 'started-for-tests')

if (!process.env.DATABASE_URL) {
  const cluster = ensureLocalCluster(PROJECT_ROOT, (m) => console.error(`# ${m}`))
  const owner = existsSync(marker) ? Number(readFileSync(marker, 'utf8')) : undefined
  // A marker whose run is gone means that run died before its teardown and left its cluster running (the one
  // just found running): this run takes it over and stops it at the end, as if it had started it.
  const adopt = owner !== undefined && !processAlive(owner)
  if (cluster.startedHere || adopt) {
    writeFileSync(marker, String(runner))
    if (!process.env.SETU_KEEP_DB) {
      spawn('env', plainNode('--import', 'tsx', 'test/helpers/cluster-watchdog.ts', String(runner), marker), {
        cwd: PROJECT_ROOT,
        detached: true,
        stdio: 'ignore',
      }).unref()
    }
  }
}
await dropOrphanDatabases()
await ensureTemplate()

// The system tests start the server as `npm start` does, from dist/: build it once here (plain node, as
// `npm start` runs it) rather than in whichever test starts a server first. A failed build (a type error)
// must not stop the other tests: the server tests then fail with tsc's output.
const built = spawnSync('env', plainNode('scripts/build.mjs', '--if-stale'), { cwd: PROJECT_ROOT, encoding: 'utf8' })
for (const line of `${built.stdout}${built.stderr}`.trim().split('\n')) console.error(`# ${line}`)
