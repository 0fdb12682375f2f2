// A field worker's first minute: find the union by its Bangla name, ask for a shelter, read the nearest one's name
// and call it; then the page in Khmer and in English, and the choice still there after a reload.
import t from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import {
  byTestId,
  chooseArea,
  chooseCategory,
  chooseLanguage,
  demoArea,
  dialled,
  expectedNearest,
  htmlLang,
  MESSAGES,
  openFieldPage,
  SCRIPT,
  shownName,
  shownResults,
  type Lang,
} from './field-page.js'

const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name', 'language', 'result-distance', 'data-category')
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

t.test('a demo union searched in Bangla script, shelter: the nearest shelter first, with its name and a tel: link', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('BGD')
  t.comment(`area: ${area.pcode} ${area.name_en} / ${area.name_local} (from ${area.file})`)
  const expected = await expectedNearest(server!, area.pcode, 'shelter')
  t.ok(expected.length > 0, 'the API has shelters near the area')
  // A Bangladeshi phone's browser: the page starts in Bangla.
  await withBrowser(t, server!, { locale: 'bn-BD', name: 'search-bn' }, async ({ page }) => {
    await openFieldPage(page, server!)
    t.match(await htmlLang(page), /^bn/, 'first visit: the language comes from navigator.languages')
    await chooseArea(page, area.name_local)
    t.match(await byTestId(page, 'selected-area').textContent(), area.name_local, 'the selected area is named in Bangla')
    await chooseCategory(page, 'shelter')

    const shown = await shownResults(page)
    const nearest = expected[0]
    t.equal(shown[0].id, nearest.id, 'the first result is the API\'s nearest shelter')
    t.match(shown[0].name, shownName(nearest, 'bn'), 'named in Bangla when the directory has it')
    t.ok(nearest.phones.length > 0, 'the nearest shelter has a phone in the demo data')
    t.same(
      shown[0].tel.map(dialled).sort(),
      nearest.phones.map(dialled).sort(),
      'every phone number as a tel: link that dials it',
    )
    // Nearest first, as the API orders them (the page may list fewer).
    t.same(shown.map((r) => r.id), expected.slice(0, shown.length).map((p) => p.id), 'in the API\'s order')
    const distance = await byTestId(page, 'result').first().locator('[data-testid="result-distance"]').textContent()
    t.match(distance, /[\d০-৯]/, 'a distance is shown, in digits of some script')
  })
})

t.test('switching to Khmer and to English changes the strings, and the choice is remembered after a reload', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  await withBrowser(t, server!, { locale: 'bn-BD', name: 'languages' }, async ({ page }) => {
    await openFieldPage(page, server!)
    const label = async () => (await page.locator('button[data-category="shelter"]').innerText()).trim()
    const seen: Partial<Record<Lang, string>> = {}
    for (const lang of ['bn', 'km', 'en'] as const) {
      if (lang !== 'bn') await chooseLanguage(page, lang)
      t.match(await htmlLang(page), new RegExp(`^${lang}`), `<html lang> follows the choice (${lang})`)
      seen[lang] = await label()
      t.match(seen[lang], SCRIPT[lang], `the shelter button reads in ${lang}'s script: ${seen[lang]}`)
      t.ok(seen[lang]!.includes(MESSAGES[lang].cat_shelter), `…and says ${lang}'s cat_shelter: ${MESSAGES[lang].cat_shelter}`)
      t.equal(await page.locator('[data-testid="area-search"]').count(), 1, 'the controls are still there')
    }
    t.equal(new Set(Object.values(seen)).size, 3, 'three different labels')

    await chooseLanguage(page, 'km')
    await page.reload()
    await byTestId(page, 'area-search').waitFor()
    t.match(await htmlLang(page), /^km/, 'after a reload the page is still in Khmer (not the browser\'s Bangla)')
    t.equal(await byTestId(page, 'language').inputValue(), 'km', 'and the selector shows it')
    t.equal(await label(), seen.km)
  })
})

t.test('a link to a search (/?area=<pcode>&category=shelter) opens on that area\'s nearest shelters', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('KHM')
  const expected = await expectedNearest(server!, area.pcode, 'shelter')
  await withBrowser(t, server!, { locale: 'km-KH', name: 'linked-search' }, async ({ page }) => {
    await page.goto(`${server!.origin}/?area=${area.pcode}&category=shelter`)
    await page.locator('[data-testid="selected-area"]', { hasText: area.name_local }).waitFor({ state: 'visible' })
    t.equal(await page.locator('button[data-category="shelter"]').getAttribute('aria-pressed'), 'true', 'shelter is chosen')
    await page.waitForFunction((id) => document.querySelector('[data-testid="result"]')?.getAttribute('data-provider-id') === id, expected[0].id)
    const shown = await shownResults(page)
    t.same(shown.map((r) => r.id), expected.slice(0, shown.length).map((p) => p.id), 'the API\'s nearest shelters, in order')
    t.match(shown[0].name, shownName(expected[0], 'km'), 'named in Khmer when the directory has it')
  })
})
