// The real server process, started as `npm start` starts it, for system tests.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { PROJECT_ROOT } from '../../src/db/database.js'

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  srv.close()
  return port
}

export function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  const listening = new Promise<void>((resolve, reject) => {
    const check = () => (/API on http/.test(output) ? resolve() : undefined)
    child.stdout.on('data', check)
    child.stderr.on('data', check)
    void exited.then(() => reject(new Error(`server exited early:\n${output}`)))
  })
  // Tests that expect an early exit never await `listening`.
  listening.catch(() => {})
  return { child, exited, listening, output: () => output }
}
