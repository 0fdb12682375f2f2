// The real server process, started as `npm start` starts it (plain node, compiled dist/, built first when it is
// missing or stale), for system tests.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { PROJECT_ROOT } from '../../src/db/database.js'

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  srv.close()
  return port
}

/** The JSON lines of a pino log; other lines (Node's own warnings) are left out. */
export function logLines(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return []
    try {
      return [JSON.parse(line) as Record<string, unknown>]
    } catch {
      return []
    }
  })
}

/** Whether something accepts TCP connections on host:port. */
export const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

export function startServer(env: Record<string, string>) {
  // tap adds its process tracker to the NODE_OPTIONS of every process a test spawns; `env -u` takes it away
  // again, so that the server runs as `npm start` runs it (and exec keeps the pid).
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, 'scripts/start.mjs'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  // 'close', not 'exit': by then the output has been read to its end.
  const exited = once(child, 'close') as Promise<[number | null, string | null]>
  let done = false
  void exited.then(() => (done = true))
  const listening = new Promise<void>((resolve, reject) => {
    const check = () => (/API on http/.test(output) ? resolve() : undefined)
    child.stdout.on('data', check)
    child.stderr.on('data', check)
    void exited.then(() => reject(new Error(`server exited early:\n${output}`)))
    // Below info the "API on" line is not written (benchmarks run at warn): the port accepting is the sign.
    const port = Number(env.PORT)
    if (Number.isInteger(port) && port > 0) {
      const poll = async () => {
        while (!done) {
          if (await accepts(env.HOST ?? '127.0.0.1', port)) return resolve()
          await new Promise((r) => setTimeout(r, 200))
        }
      }
      void poll()
    }
  })
  // Tests that expect an early exit never await `listening`.
  listening.catch(() => {})
  return { child, exited, listening, output: () => output, logs: () => logLines(output) }
}
