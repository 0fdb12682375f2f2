// The field page on a phone: Lighthouse 12 (mobile form factor, its default simulated throttling) on `/` with Debian's
// Chromium, the page weight of the first load (as served, and gzip) by kind, and the time to the first list of
// results on a throttled mobile profile (CDP: 150 ms RTT, 1.6 Mbit/s down, CPU ×4) with Playwright.
// Usage: npm run bench:page -- [--runs 3] [--area BD1004] [--category shelter]
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import * as chromeLauncher from 'chrome-launcher'
import lighthouse from 'lighthouse'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_FLAGS } from '../test/helpers/browser.js'
import { freePort, startServer } from '../test/helpers/server.js'
import { scratchDatabase } from './scratch.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    area: { type: 'string' },
    category: { type: 'string', default: 'shelter' },
  },
})
const RUNS = Number(values.runs)
const CATEGORY = values.category!

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

const database = await scratchDatabase()
const port = await freePort()
const origin = `http://127.0.0.1:${port}`
const server = startServer({
  DATABASE_URL: database.url,
  PORT: String(port),
  HOST: '127.0.0.1',
  SEED_DEMO: 'true',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '0',
})
try {
  await server.listening
  console.log(`setu on ${origin} with the demo data; load average ${load()}`)
  await lighthouseRuns()
  await firstResults()
} finally {
  server.child.kill('SIGTERM')
  await server.exited
  await database.drop()
}

interface NetworkItem {
  url: string
  transferSize: number
  resourceSize: number
  resourceType?: string
}

/** Lighthouse's default (mobile) run on `/`, RUNS times: the median of each score and the weights of the median run. */
async function lighthouseRuns() {
  const results: { performance: number; accessibility: number; bestPractices: number; items: NetworkItem[]; load: string }[] = []
  for (let run = 0; run < RUNS; run++) {
    const profile = mkdtempSync(path.join(tmpdir(), 'setu-lighthouse-'))
    const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROMIUM_FLAGS, userDataDir: profile })
    try {
      const before = load()
      const result = await lighthouse(`${origin}/`, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility', 'best-practices'],
      })
      if (!result) throw new Error('Lighthouse returned nothing')
      const { categories, audits, runtimeError } = result.lhr
      if (runtimeError) throw new Error(`Lighthouse: ${runtimeError.code} ${runtimeError.message}`)
      const score = (id: string) => Math.round((categories[id]?.score ?? 0) * 100)
      const items = ((audits['network-requests']?.details as { items?: NetworkItem[] } | undefined)?.items ?? []).filter((i) => !i.url.startsWith('data:'))
      results.push({ performance: score('performance'), accessibility: score('accessibility'), bestPractices: score('best-practices'), items, load: `${before} → ${load()}` })
      const metric = (id: string) => audits[id]?.displayValue ?? 'n/a'
      console.log(
        `lighthouse run ${run + 1}: performance ${score('performance')}, accessibility ${score('accessibility')}, ` +
          `best practices ${score('best-practices')}; FCP ${metric('first-contentful-paint')}, LCP ${metric('largest-contentful-paint')}, ` +
          `TBT ${metric('total-blocking-time')}, CLS ${metric('cumulative-layout-shift')}; load ${before} → ${load()}`,
      )
      for (const audit of Object.values(audits)) {
        const failed = audit.score !== null && audit.score < 0.9 && audit.scoreDisplayMode !== 'informative' && audit.scoreDisplayMode !== 'manual'
        if (run === 0 && failed && audit.scoreDisplayMode !== 'notApplicable') console.log(`  below 0.9: ${audit.id} (${audit.score}) ${audit.title}`)
      }
    } finally {
      await chrome.kill()
      rmSync(profile, { recursive: true, force: true })
    }
  }
  const pick = (k: 'performance' | 'accessibility' | 'bestPractices') => median(results.map((r) => r[k]))
  console.log(`\nLighthouse 12, mobile, simulated throttling, median of ${RUNS}: performance ${pick('performance')}, accessibility ${pick('accessibility')}, best practices ${pick('bestPractices')}`)
  await pageWeight(results[0].items)
}

/** What the first load transferred (as served: br/gzip) and what each file weighs gzipped (level 9), by kind. */
async function pageWeight(items: NetworkItem[]) {
  const kinds: Record<string, string> = { Script: 'JS', Stylesheet: 'CSS', Font: 'fonts', Document: 'HTML' }
  const sums = new Map<string, { n: number; transfer: number; gzip: number; raw: number }>()
  for (const item of items) {
    const kind = kinds[item.resourceType ?? ''] ?? (item.url.includes('/v1/') ? 'API and tiles' : 'other')
    let gzip = item.transferSize
    let raw = item.resourceSize
    if (new URL(item.url).origin === origin) {
      const res = await fetch(item.url, { headers: { 'accept-encoding': 'identity' } })
      const body = Buffer.from(await res.arrayBuffer())
      raw = body.length
      gzip = gzipSync(body, { level: 9 }).length
    }
    const s = sums.get(kind) ?? { n: 0, transfer: 0, gzip: 0, raw: 0 }
    sums.set(kind, { n: s.n + 1, transfer: s.transfer + item.transferSize, gzip: s.gzip + gzip, raw: s.raw + raw })
  }
  console.log('\npage weight of the first load of / (Lighthouse\'s network requests):')
  console.log('  kind            files  transferred  gzip -9   uncompressed')
  let total = { n: 0, transfer: 0, gzip: 0, raw: 0 }
  for (const [kind, s] of [...sums].sort((a, b) => b[1].gzip - a[1].gzip)) {
    console.log(`  ${kind.padEnd(15)} ${String(s.n).padStart(5)}  ${kB(s.transfer).padStart(11)}  ${kB(s.gzip).padStart(8)}  ${kB(s.raw).padStart(12)}`)
    total = { n: total.n + s.n, transfer: total.transfer + s.transfer, gzip: total.gzip + s.gzip, raw: total.raw + s.raw }
  }
  console.log(`  ${'total'.padEnd(15)} ${String(total.n).padStart(5)}  ${kB(total.transfer).padStart(11)}  ${kB(total.gzip).padStart(8)}  ${kB(total.raw).padStart(12)}`)
}

/**
 * Time from navigation to the first `data-testid="result"` on a throttled phone, in a fresh profile (nothing
 * cached, no service worker yet). The area is preselected by the page's `?area=&category=` parameters when it
 * reads them; otherwise the time includes typing the area's name (instantly) and choosing it and the category.
 */
async function firstResults() {
  const area = values.area ?? (await demoAreaPcode())
  const { name_en: name } = (await (await fetch(`${origin}/v1/areas/${area}`)).json()) as { name_en: string }
  const times: number[] = []
  let how = ''
  for (let run = 0; run < RUNS; run++) {
    const profile = mkdtempSync(path.join(tmpdir(), 'setu-bench-page-'))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'bn-BD',
    })
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      // Slow 4G as Lighthouse's mobile profile: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up.
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9 })
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 })
      const before = load()
      const started = performance.now()
      await page.goto(`${origin}/?area=${area}&category=${CATEGORY}`, { waitUntil: 'commit', timeout: 120_000 })
      const first = page.locator('[data-testid="result"]').first()
      const preselected = await first.waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false)
      if (!preselected) {
        how = 'search + click (the page does not read ?area=&category=)'
        await page.locator('[data-testid="area-search"]').fill(name, { timeout: 120_000 })
        await page.locator('[role="listbox"] [role="option"]', { hasText: name }).first().click({ timeout: 120_000 })
        await page.locator(`button[data-category="${CATEGORY}"]`).click({ timeout: 120_000 })
        await first.waitFor({ state: 'visible', timeout: 120_000 })
      } else how = 'preselected with ?area=&category='
      const ms = performance.now() - started
      times.push(ms)
      console.log(`first results run ${run + 1}: ${(ms / 1000).toFixed(2)} s (${how}); load ${before} → ${load()}`)
    } finally {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
  console.log(`\nfirst list of results on a throttled phone (150 ms RTT, 1.6 Mbit/s, CPU ×4), area ${area}, ${CATEGORY}: median ${(median(times) / 1000).toFixed(2)} s of ${RUNS} (${how}); goal 3 s`)
}

/** A Bangladeshi demo area: a union once the demo has them, else a district. */
async function demoAreaPcode() {
  for (const level of [4, 3, 2]) {
    const res = await fetch(`${origin}/v1/areas?country=BGD&admin_level=${level}&limit=1`)
    if (!res.ok) continue
    const { items } = (await res.json()) as { items: { pcode: string }[] }
    if (items.length > 0) return items[0].pcode
  }
  throw new Error('no Bangladeshi demo area')
}
