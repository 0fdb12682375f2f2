// Stops the private cluster a test run started when the run ends without its teardown: tap killed (SIGKILL,
// a closed terminal, Ctrl-C before `after`), or its runner crashing. test/setup.ts starts it detached, with
// the tap runner's pid and the marker file; a teardown that runs removes the marker first, and then the
// watchdog has nothing to do.
//
// A killed runner leaves its test processes running, and the servers they started; a test process that
// reaches the database after the cluster stopped would start it again (test/helpers/db.ts makes sure of the
// cluster). So the watchdog keeps a list of the runner's descendants and ends them before it stops the cluster.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { processAlive } from '../../src/db/local-cluster.js'


const markerOwner = (marker: string) => {
  try {
    return Number(readFileSync(marker, 'utf8'))
  } catch {
    return undefined
  }
}

/** pid → [parent pid, start time] of every process, from /proc. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      table.set(Number(entry), [Number(fields[1]), fields[19]])
    } catch {
      // gone meanwhile
    }
  }
  return table
}

/** The descendants of `pid`, each with its start time (so that a pid reused later is not taken for it). */
export function descendants(pid: number): Map<number, string> {
  const table = processTable()
  const found = new Map<number, string>()
  const queue = [pid]
  while (queue.length) {
    const parent = queue.shift()!
    for (const [child, [ppid, started]] of table) {
      if (ppid === parent && !found.has(child) && child !== process.pid) {
        found.set(child, started)
        queue.push(child)
      }
    }
  }
  return found
}

/** Whether the process is still running: present in /proc, not a zombie, and the same process (start time). */
function running(pid: number, started: string) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[0] !== 'Z' && fields[19] === started
  } catch {
    return false
  }
}

/**
 * SIGKILLs the leftovers and waits (up to 5 s) until they are gone: delivery is asynchronous, and a process
 * still running when the cluster stops could start it again.
 */
async function killLeftovers(seen: Map<number, string>) {
  const targets = [...seen].filter(([pid, started]) => running(pid, started))
  for (const [pid] of targets) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 250 && targets.some(([pid, started]) => running(pid, started)); i++) {
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface WatchOptions {
  /** The tap runner's pid: the test run is over when it is gone. */
  runnerPid: number
  /** .data/started-for-tests, holding the pid of the run that owns the cluster. */
  marker: string
  stop: () => void
  intervalMs?: number
}

/** Resolves once the runner is gone; true when it had to stop the cluster itself. */
export async function watchTestRun({ runnerPid, marker, stop, intervalMs = 1000 }: WatchOptions): Promise<boolean> {
  const seen = new Map<number, string>()
  while (processAlive(runnerPid)) {
    // The teardown ran, or a later run took the cluster over: nothing left to watch.
    if (markerOwner(marker) !== runnerPid) return false
    for (const [pid, started] of descendants(runnerPid)) seen.set(pid, started)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  if (!existsSync(marker) || markerOwner(marker) !== runnerPid) return false
  await killLeftovers(seen)
  rmSync(marker, { force: true })
  stop()
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [runnerPid, marker] = process.argv.slice(2)
  const { PROJECT_ROOT } = await import('../../src/db/database.js')
  const { stopLocalCluster } = await import('../../src/db/local-cluster.js')
  await watchTestRun({ runnerPid: Number(runnerPid), marker, stop: () => stopLocalCluster(PROJECT_ROOT) })
}
