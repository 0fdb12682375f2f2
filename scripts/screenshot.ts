// npm run screenshot: the README's pictures of the field page, taken from the real page with the demo data in
// Debian's Chromium: docs/field-page.png (a 360 px phone, a union searched in Bangla, the two nearest shelters) and
// docs/field-directory.png (the union directory as printed).
// Usage: npm run screenshot -- [--area <pcode>] [--category shelter] [--lang bn]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { PROJECT_ROOT } from '../src/db/database.js'
import { scratchDatabase } from '../bench/scratch.js'
import { CHROMIUM, CHROMIUM_FLAGS } from '../test/helpers/browser.js'
import { freePort, startServer } from '../test/helpers/server.js'

const { values } = parseArgs({
  options: {
    area: { type: 'string' },
    category: { type: 'string', default: 'shelter' },
    lang: { type: 'string', default: 'bn' },
  },
})
const LOCALES: Record<string, string> = { bn: 'bn-BD', km: 'km-KH', en: 'en-GB' }
const DOCS = path.join(PROJECT_ROOT, 'docs')
const STEP_MS = 120_000

const database = await scratchDatabase()
const port = await freePort()
const origin = `http://127.0.0.1:${port}`
const server = startServer({ DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'true', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' })
const profile = mkdtempSync(path.join(tmpdir(), 'setu-screenshot-'))
try {
  await server.listening
  const pcode = values.area ?? (await firstArea())
  const area = (await (await fetch(`${origin}/v1/areas/${pcode}`)).json()) as { name_en: string; name_local: string | null }
  const name = (values.lang !== 'en' && area.name_local) || area.name_en
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    locale: LOCALES[values.lang!] ?? 'en-GB',
    viewport: { width: 360, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  })
  context.setDefaultTimeout(STEP_MS)
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(`${origin}/`)
  await page.locator('[data-testid="area-search"]').fill(name)
  await page.locator('[role="listbox"] [role="option"]', { hasText: name }).first().click()
  await page.locator(`button[data-category="${values.category}"]`).click()
  await page.locator('[data-testid="result"]').first().waitFor({ state: 'visible' })
  await page.evaluate(() => document.fonts.ready)
  // Let the map draw its tiles (it may have none to draw; the list is what matters).
  await page.waitForLoadState('networkidle').catch(() => {})
  mkdirSync(DOCS, { recursive: true })
  const pagePng = path.join(DOCS, 'field-page.png')
  // From the top to the end of the second result: the controls and what they found, not all ten results and the map.
  const bottom = await page.locator('[data-testid="result"]').nth(1).evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY + 8)
  await page.screenshot({ path: pagePng, fullPage: true, clip: { x: 0, y: 0, width: 360, height: Math.ceil(bottom) } })
  console.log(`wrote ${path.relative(PROJECT_ROOT, pagePng)} (${pcode} ${name}, ${values.category})`)

  // As on A4 paper (210 mm at 96 dpi), not squeezed to the phone's width.
  await page.setViewportSize({ width: 794, height: 1123 })
  await page.goto(`${origin}/directory.html?area=${pcode}`)
  await page.locator('[data-testid="directory-entry"]').first().waitFor()
  await page.emulateMedia({ media: 'print' })
  await page.evaluate(() => document.fonts.ready)
  const directoryPng = path.join(DOCS, 'field-directory.png')
  await page.screenshot({ path: directoryPng, fullPage: true })
  console.log(`wrote ${path.relative(PROJECT_ROOT, directoryPng)}`)
  await context.close()
} finally {
  server.child.kill('SIGTERM')
  await server.exited
  await database.drop()
  rmSync(profile, { recursive: true, force: true })
}

/** A Bangladeshi demo union (a district before the demo has unions). */
async function firstArea() {
  for (const level of [4, 3, 2]) {
    const res = await fetch(`${origin}/v1/areas?country=BGD&admin_level=${level}&limit=1`)
    const { items } = (await res.json()) as { items: { pcode: string }[] }
    if (items.length > 0) return items[0].pcode
  }
  throw new Error('no Bangladeshi demo area')
}
