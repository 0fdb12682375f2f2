// Browser tests of the field page: the real server (as `npm start` runs it, with the demo data) and Debian's
// Chromium driven by playwright-core, with a recorder of every request the page and its service worker make.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core'
import type { Db } from '../../src/db/client.js'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { createTestDatabase } from './db.js'
import { freePort, startServer } from './server.js'

/** Debian's Chromium (`.ci/run` installs it with apt-get). Playwright's own browser downloads are never used. */
export const CHROMIUM = process.env.SETU_CHROMIUM || '/usr/bin/chromium'

/**
 * Headless, no sandbox (containers and CI run as root), and nothing Chromium would fetch on its own (updates,
 * safe browsing lists, sync, QUIC probes): the only requests are the page's, so the origin check sees them all.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Generous: two cores shared with other test files, Chromium and a server with PostGIS behind it. */
export const BROWSER_TEST_TIMEOUT_MS = 300_000
/** How long one step (a selector to appear, a navigation) may take before the test fails with its name. */
export const STEP_TIMEOUT_MS = 60_000

/** tap's `skip` option for a test that needs Chromium: false when it is there, else why the test cannot run. */
export function skipWithoutChromium(): false | string {
  return existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (.ci/run installs it with apt-get when run as root)`
}

/** The text of the page's sources (web/, without its node_modules), to see which contract hooks it has. */
function pageSources(dir = path.join(PROJECT_ROOT, 'web')): string {
  if (!existsSync(dir)) return ''
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
    .map((e) => (e.isDirectory() ? pageSources(path.join(dir, e.name)) : readFileSync(path.join(dir, e.name), 'utf8')))
    .join('\n')
}

/**
 * tap's `skip` option for a test of the field page: false when it can run, else why not. The page's sources
 * (web/) absent means a checkout from before the page; `hooks` are the data-testid values of the page contract
 * (its stable data-testid hooks) the test drives: while the page under construction lacks one, the
 * test says which instead of failing on a missing element. `.ci/run` counts a skip as a failure, so CI never
 * passes without running these.
 */
export function skipBrowserTest(...hooks: string[]): false | string {
  const noChromium = skipWithoutChromium()
  if (noChromium) return noChromium
  const sources = pageSources()
  if (!sources) return 'the field page (web/) is not in this checkout'
  const missing = hooks.filter((h) => !sources.includes(h))
  if (missing.length > 0) return `the field page (web/) does not have the contract's ${missing.map((h) => `"${h}"`).join(', ')} yet`
  return false
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface PageServer {
  /** http://127.0.0.1:<port>, setu's own origin: the only one the page may talk to. */
  origin: string
  db: Db
  /** The server's log so far, for failure messages. */
  output(): string
}

/**
 * How the page's server runs for the browser tests and bench:page, beside its DATABASE_URL and PORT: on loopback,
 * with the demo data (SEED_DEMO: loaded into an empty database as `npm start` does), quiet, and without rate
 * limiting: a page load is a burst of requests (assets, fonts, tiles) from one address, which rate limiting would
 * only make flaky on a slow machine.
 */
export const PAGE_SERVER_ENV = { HOST: '127.0.0.1', SEED_DEMO: 'true', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' } as const

/**
 * The production server over a fresh database of its own with the demo data set loaded (SEED_DEMO: the
 * server loads it into an empty database as `npm start` does), removed when `t` ends.
 */
export async function startPageServer(t: Teardown, env: Record<string, string> = {}): Promise<PageServer> {
  const database = await createTestDatabase()
  const port = await freePort()
  const server = startServer({ DATABASE_URL: database.url, PORT: String(port), ...PAGE_SERVER_ENV, ...env })
  // One teardown, in this order: the server lets go of its connections before its database is dropped.
  t.teardown(async () => {
    server.child.kill('SIGTERM')
    await server.exited
    await database.drop()
  })
  await server.listening
  // The server listens only once the demo data has loaded (src/server.ts).
  const origin = `http://127.0.0.1:${port}`
  return { origin, db: database.db, output: server.output }
}

/** GET a JSON document from the server as the page would (anonymous unless `authorization` is given). */
export async function getJson<T = unknown>(server: PageServer, url: string, authorization?: string): Promise<T> {
  const res = await fetch(new URL(url, server.origin), { headers: authorization ? { authorization } : {} })
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

export interface RecordedRequest {
  url: string
  method: string
  resourceType: string
  /** 'page' or 'service-worker' (requests a service worker makes are reported on the context only). */
  from: string
}

export interface BrowserSession {
  context: BrowserContext
  page: Page
  /** Every request the pages and service workers of this context made, in order. */
  requests: RecordedRequest[]
  /** The page's console messages and uncaught errors, in order. */
  console: string[]
  /** Requests that went anywhere but setu's origin (data: and blob: URLs never leave the browser). */
  offOrigin(): RecordedRequest[]
}

export interface SessionOptions {
  /** navigator.languages[0]: the page picks its first language from it. Default en-GB. */
  locale?: string
  viewport?: { width: number; height: number }
  /** More Chromium flags, e.g. --disable-webgl. */
  extraFlags?: string[]
  /** A name for the failure artefacts' folder. */
  name?: string
  /** false only for the recorder's own test, which makes off-origin requests on purpose. */
  checkOrigin?: boolean
}

/** Whether a URL stays in the browser or on setu's origin. */
export const staysHome = (url: string, origin: string) =>
  url.startsWith('data:') || url.startsWith('blob:') || url.startsWith('about:') || new URL(url).origin === origin

/**
 * Runs `fn` with a fresh Chromium (a temporary profile of its own, removed after) on `server`. Afterwards checks
 * that every request went to setu's origin. When `fn` throws or a check failed, saves a screenshot, the page's
 * HTML, its console and the request log to a temporary folder and prints the paths.
 */
export async function withBrowser(
  t: Test,
  server: PageServer,
  options: SessionOptions,
  fn: (session: BrowserSession) => Promise<void>,
): Promise<void> {
  const profile = mkdtempSync(path.join(tmpdir(), 'setu-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.extraFlags ?? [])],
    locale: options.locale ?? 'en-GB',
    viewport: options.viewport ?? { width: 412, height: 915 },
    timeout: STEP_TIMEOUT_MS,
  })
  context.setDefaultTimeout(STEP_TIMEOUT_MS)
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS)
  const requests: RecordedRequest[] = []
  const consoleLines: string[] = []
  // The context's event covers every page and, since Playwright 1.48, the service workers' own fetches.
  context.on('request', (req: Request) =>
    requests.push({ url: req.url(), method: req.method(), resourceType: req.resourceType(), from: req.serviceWorker() ? 'service-worker' : 'page' }),
  )
  const watch = (page: Page) => {
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`))
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.stack ?? e.message}`))
    page.on('requestfailed', (r) => consoleLines.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}`))
  }
  context.on('page', watch)
  const page = context.pages()[0] ?? (await context.newPage())
  watch(page)
  const session: BrowserSession = {
    context,
    page,
    requests,
    console: consoleLines,
    offOrigin: () => requests.filter((r) => !staysHome(r.url, server.origin)),
  }
  let error: unknown
  try {
    await fn(session)
  } catch (err) {
    error = err
  }
  try {
    if (options.checkOrigin !== false) {
      t.same(session.offOrigin(), [], `every request went to setu's own origin (${requests.length} requests)`)
    }
    if (error !== undefined || !t.passing()) await saveArtefacts(t, session, server, options.name ?? 'page')
  } finally {
    await context.close().catch(() => {})
    rmSync(profile, { recursive: true, force: true })
  }
  if (error !== undefined) throw error
}

async function saveArtefacts(t: Test, session: BrowserSession, server: PageServer, name: string) {
  const dir = path.join(tmpdir(), 'setu-browser-failures', `${name.replace(/[^\w.-]+/g, '-')}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  const save = (file: string, text: string) => {
    writeFileSync(path.join(dir, file), text)
    files.push(path.join(dir, file))
  }
  try {
    await session.page.screenshot({ path: path.join(dir, 'screenshot.png'), fullPage: true, timeout: 20_000 })
    files.push(path.join(dir, 'screenshot.png'))
  } catch (err) {
    save('screenshot-error.txt', String(err))
  }
  save('page.html', await session.page.content().catch((err: unknown) => `(no content: ${String(err)})`))
  save('console.txt', session.console.join('\n'))
  save('requests.txt', session.requests.map((r) => `${r.from} ${r.method} ${r.resourceType} ${r.url}`).join('\n'))
  save('server.log', server.output())
  t.comment(`browser test failed; page state saved:\n${files.map((f) => `  ${f}`).join('\n')}`)
}
