// npm start: the compiled server (dist/), built first when it is missing or older than its sources, so that
// `npm ci && npm start` works on a fresh clone and an edit to src/ is never served stale. Plain node, no tsx.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { build, canBuild, ROOT, SERVER_ENTRY, staleReason } from './build.mjs'

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const log = pino({ level: levels.includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL : 'info' })

const stale = staleReason(ROOT)
if (stale && !canBuild(ROOT) && existsSync(path.join(ROOT, SERVER_ENTRY))) {
  // A deployment that installs without dev dependencies ships a dist/ built elsewhere; its file times prove nothing.
  log.warn(`${stale}, but TypeScript is not installed to rebuild it: serving dist/ as it is`)
} else if (stale) {
  try {
    build(ROOT, (msg) => log.info(msg))
  } catch (err) {
    log.fatal(`could not start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}
// Stack traces point at src/*.ts lines, not the compiled output.
process.setSourceMapsEnabled(true)
await import(pathToFileURL(path.join(ROOT, SERVER_ENTRY)).href)
