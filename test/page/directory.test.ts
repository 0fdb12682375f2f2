// The union directory pinned on the Union Parishad wall: one entry per category, the nearest active provider of
// each, and a PDF from Chromium (A4) whose text has the names in Bangla, and in Khmer for a Cambodian area.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import {
  byTestId,
  CATEGORIES,
  chooseArea,
  areaWithFocalPoints,
  dialled,
  expectedNearest,
  focalPointsOf,
  openFieldPage,
  shownName,
  squeezed,
  type ApiProvider,
  type Category,
  type Lang,
} from './field-page.js'

const PDFTOTEXT = '/usr/bin/pdftotext'
const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name', 'open-directory', 'directory-entry', 'printed-on') || (existsSync(PDFTOTEXT) ? false : `poppler's pdftotext is not installed at ${PDFTOTEXT} (.ci/run installs poppler-utils)`)
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

/**
 * The text of a PDF, as poppler extracts it (UTF-8), in the order it was drawn (-raw): poppler's layout mode places a
 * Bangla conjunct drawn above or below the line (ন্ত in আন্তর্জাতিক) on a line of its own, splitting the word.
 */
function pdfText(pdf: Buffer, pages: string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'setu-pdf-'))
  try {
    const file = path.join(dir, 'directory.pdf')
    writeFileSync(file, pdf)
    return execFileSync(PDFTOTEXT, ['-raw', '-enc', 'UTF-8', ...pages, file, '-'], { encoding: 'utf8' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function checkDirectory(t: Test, country: 'BGD' | 'KHM', lang: Lang, locale: string) {
  const area = await areaWithFocalPoints(server!, country)
  const expected = new Map<Category, ApiProvider | undefined>()
  for (const category of CATEGORIES) expected.set(category, (await expectedNearest(server!, area.pcode, category, 1))[0])
  const focal = await focalPointsOf(server!, area.pcode)
  t.comment(`area: ${area.pcode} ${area.name_en} / ${area.name_local} (from ${area.file}), ${focal.length} focal points`)

  await withBrowser(t, server!, { locale, name: `directory-${lang}` }, async ({ page }) => {
    await openFieldPage(page, server!)
    await chooseArea(page, area.name_local)
    const link = byTestId(page, 'open-directory')
    const href = await link.getAttribute('href')
    const target = new URL(href ?? '', page.url())
    t.equal(target.origin, server!.origin)
    t.equal(target.pathname, '/directory.html')
    t.equal(target.searchParams.get('area'), area.pcode, 'the link names the selected area')
    // Followed in this tab whatever its target, so that the checks below run on it.
    await page.goto(target.href)
    await byTestId(page, 'directory').waitFor({ state: 'visible' })
    await byTestId(page, 'directory-entry').first().waitFor()
    t.match(await page.evaluate(() => document.documentElement.lang), new RegExp(`^${lang}`), 'in the remembered language')
    await page.evaluate(() => document.fonts.ready)

    const entries = await byTestId(page, 'directory-entry').evaluateAll((els) =>
      els.map((el) => ({
        category: el.getAttribute('data-category'),
        text: (el as HTMLElement).innerText,
        tel: [...el.querySelectorAll('a[href^="tel:"]')].map((a) => a.getAttribute('href') ?? ''),
      })),
    )
    const categories = entries.map((e) => e.category)
    t.same([...categories].sort(), CATEGORIES.filter((c) => expected.get(c)).sort(), 'one entry per category that has a provider')
    for (const entry of entries) {
      const provider = expected.get(entry.category as Category)!
      t.match(entry.text, shownName(provider, lang), `${entry.category}: the nearest active provider, named in ${lang}`)
      t.same(entry.tel.map(dialled).sort(), provider.phones.map(dialled).sort(), `${entry.category}: its phones as tel: links`)
    }
    t.notOk([...expected.values()].some((p) => p?.kind === 'focal_point'), 'the services are services, not focal points')

    const shownFocal = await byTestId(page, 'directory-focal-point').evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-provider-id'),
        text: (el as HTMLElement).innerText,
        tel: [...el.querySelectorAll('a[href^="tel:"]')].map((a) => a.getAttribute('href') ?? ''),
      })),
    )
    t.same(shownFocal.map((f) => f.id).sort(), focal.map((f) => f.id).sort(), "the area's own focal points, each once")
    for (const f of focal) {
      const shown = shownFocal.find((x) => x.id === f.id)
      t.match(shown?.text, shownName(f, lang), `focal point named in ${lang}: ${shownName(f, lang)}`)
      t.same(shown?.tel.map(dialled).sort(), f.phones.map(dialled).sort(), 'with its phones as tel: links')
    }
    t.ok(await byTestId(page, 'printed-on').isVisible(), 'the date printed is shown')

    const pdf = await page.pdf({ format: 'A4', printBackground: true })
    t.ok(pdf.subarray(0, 5).toString() === '%PDF-', 'Chromium printed a PDF')
    const text = squeezed(pdfText(pdf))
    const printedOn = squeezed(await byTestId(page, 'printed-on').innerText())
    t.ok(printedOn.length > 0 && squeezed(pdfText(pdf, ['-f', '1', '-l', '1'])).includes(printedOn), `the first sheet has the date printed: ${printedOn}`)
    t.ok(text.includes(squeezed(area.name_local)), `the PDF has the area's name as text: ${area.name_local}`)
    for (const [category, provider] of expected) {
      if (!provider) continue
      const name = shownName(provider, lang)
      t.ok(text.includes(squeezed(name)), `the PDF has the ${category} provider's name as text: ${name}`)
    }
    for (const f of focal) t.ok(text.includes(squeezed(shownName(f, lang))), `the PDF has the focal point's name as text: ${shownName(f, lang)}`)
  })
}

t.test('the directory of a Bangladeshi union in Bangla, and its PDF', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  await checkDirectory(t, 'BGD', 'bn', 'bn-BD')
})

t.test('the directory of a Cambodian commune in Khmer, and its PDF', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  await checkDirectory(t, 'KHM', 'km', 'km-KH')
})
