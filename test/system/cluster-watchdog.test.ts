// The watchdog that stops a dead test run's private cluster (test/helpers/cluster-watchdog.ts), against real
// processes standing in for the tap runner. The cluster itself is not stopped here (other test files use it):
// `stop` records that it was called.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { descendants, watchTestRun } from '../helpers/cluster-watchdog.js'

function fakeRunner(t: { teardown(fn: () => unknown): void }) {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.teardown(() => child.kill('SIGKILL'))
  return child
}

t.test('the run dies before its teardown: the watchdog stops the cluster and removes the marker', async (t) => {
  const marker = path.join(t.testdir(), 'started-for-tests')
  const runner = fakeRunner(t)
  writeFileSync(marker, String(runner.pid))
  let stops = 0
  const watching = watchTestRun({ runnerPid: runner.pid!, marker, stop: () => stops++, intervalMs: 20 })
  await new Promise((r) => setTimeout(r, 100))
  t.equal(stops, 0, 'nothing while the run is alive')
  runner.kill('SIGKILL')
  await once(runner, 'exit')
  t.equal(await watching, true)
  t.equal(stops, 1)
  t.notOk(existsSync(marker))
})

t.test('the processes the dead run left behind (test files, servers) are ended before the cluster stops', async (t) => {
  const marker = path.join(t.testdir(), 'started-for-tests')
  // A runner with a test process, which has a server of its own: two generations of leftovers.
  const runner = spawn('sh', ['-c', 'sh -c "sleep 61 & wait" & wait'], { stdio: 'ignore' })
  t.teardown(() => runner.kill('SIGKILL'))
  writeFileSync(marker, String(runner.pid))
  for (let i = 0; descendants(runner.pid!).size < 2 && i < 100; i++) await new Promise((r) => setTimeout(r, 20))
  const leftovers = [...descendants(runner.pid!).keys()]
  t.equal(leftovers.length, 2, 'a child and a grandchild')
  let aliveAtStop: number[] = []
  const isAlive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  const watching = watchTestRun({
    runnerPid: runner.pid!,
    marker,
    stop: () => (aliveAtStop = leftovers.filter(isAlive)),
    intervalMs: 20,
  })
  await new Promise((r) => setTimeout(r, 100))
  runner.kill('SIGKILL')
  t.equal(await watching, true)
  // Killed processes linger as zombies until reaped by init; /proc shows them with state Z.
  const running = aliveAtStop.filter((pid) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return false
    }
  })
  t.same(running, [], 'none of them still running when the cluster is stopped')
})

t.test('the teardown ran (marker gone): the watchdog leaves at once without stopping anything', async (t) => {
  const marker = path.join(t.testdir(), 'started-for-tests')
  const runner = fakeRunner(t)
  writeFileSync(marker, String(runner.pid))
  let stops = 0
  const watching = watchTestRun({ runnerPid: runner.pid!, marker, stop: () => stops++, intervalMs: 20 })
  const { rmSync } = await import('node:fs')
  rmSync(marker)
  t.equal(await watching, false)
  t.equal(stops, 0)
})

t.test('a later run took the cluster over: the old watchdog does not stop it', async (t) => {
  const marker = path.join(t.testdir(), 'started-for-tests')
  const runner = fakeRunner(t)
  const later = fakeRunner(t)
  writeFileSync(marker, String(runner.pid))
  let stops = 0
  const watching = watchTestRun({ runnerPid: runner.pid!, marker, stop: () => stops++, intervalMs: 20 })
  runner.kill('SIGKILL')
  writeFileSync(marker, String(later.pid))
  await once(runner, 'exit')
  t.equal(await watching, false)
  t.equal(stops, 0)
  t.ok(existsSync(marker), 'the later run keeps its marker')
})
