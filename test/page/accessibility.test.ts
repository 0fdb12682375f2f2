// Accessibility: axe-core finds no serious or critical violation on the page after a search and on the union
// directory; at 360 px (a low-end Android phone) nothing overflows sideways and every control is on screen.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { BROWSER_TEST_TIMEOUT_MS, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import { byTestId, CATEGORIES, chooseArea, chooseCategory, demoArea, openFieldPage } from './field-page.js'

const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name', 'language', 'locate-me', 'open-directory', 'directory-entry')
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[]; failureSummary?: string }[]
}

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(page: Page) {
  // Evaluated through the DevTools protocol, not added as a <script>: the page's Content-Security-Policy (script-src
  // 'self') rightly refuses inline scripts, and turning it off (bypassCSP) would test another page.
  await page.evaluate(AXE_SOURCE)
  const { violations, passes } = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe
    const results = await axe.run(document, { resultTypes: ['violations'] })
    return { violations: results.violations, passes: results.passes.length }
  })
  if (passes === 0) throw new Error('axe-core checked nothing')
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }))
}

t.test('axe-core: no serious or critical violation on the page after a search, nor on the directory', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('BGD')
  for (const [lang, locale] of [['bn', 'bn-BD'], ['en', 'en-GB']] as const) {
    await withBrowser(t, server!, { locale, name: `axe-${lang}` }, async ({ page }) => {
      await openFieldPage(page, server!)
      await chooseArea(page, lang === 'bn' ? area.name_local : area.name_en)
      await chooseCategory(page, 'shelter')
      t.same(await seriousViolations(page), [], `the field page with results (${lang})`)
      await page.goto(`${server!.origin}/directory.html?area=${area.pcode}`)
      await byTestId(page, 'directory-entry').first().waitFor()
      t.same(await seriousViolations(page), [], `the union directory (${lang})`)
    })
  }
})

/** Whether the element is displayed and lies inside the viewport's width. */
async function onScreen(t: Test, page: Page, selector: string, what: string) {
  const el = page.locator(selector).first()
  await el.scrollIntoViewIfNeeded()
  const box = await el.boundingBox()
  const visible = await el.isVisible()
  t.ok(visible && box && box.x >= 0 && box.x + box.width <= 360.5 && box.width > 0, `${what} is visible inside 360 px: ${JSON.stringify(box)}`)
}

t.test('at 360 px wide nothing overflows sideways and the controls are visible', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('BGD')
  await withBrowser(t, server!, { locale: 'bn-BD', viewport: { width: 360, height: 740 }, name: 'narrow' }, async ({ page }) => {
    await openFieldPage(page, server!)
    const scrollWidth = () => page.evaluate(() => document.scrollingElement!.scrollWidth)
    t.ok((await scrollWidth()) <= 360, `before a search: scrollWidth ${await scrollWidth()} <= 360`)
    await chooseArea(page, area.name_local)
    await chooseCategory(page, 'shelter')
    t.ok((await scrollWidth()) <= 360, `with results: scrollWidth ${await scrollWidth()} <= 360`)
    await onScreen(t, page, '[data-testid="language"]', 'the language selector')
    await onScreen(t, page, '[data-testid="area-search"]', 'the area search')
    await onScreen(t, page, '[data-testid="locate-me"]', 'the locate-me button')
    for (const c of CATEGORIES) await onScreen(t, page, `button[data-category="${c}"]`, `the ${c} button`)
    await onScreen(t, page, '[data-testid="result"]', 'the first result')
    await onScreen(t, page, '[data-testid="result"] a[href^="tel:"]', 'its phone link')
    await onScreen(t, page, '[data-testid="open-directory"]', 'the directory link')

    await page.goto(`${server!.origin}/directory.html?area=${area.pcode}`)
    await byTestId(page, 'directory-entry').first().waitFor()
    t.ok((await scrollWidth()) <= 360, `the directory: scrollWidth ${await scrollWidth()} <= 360`)
  })
})
