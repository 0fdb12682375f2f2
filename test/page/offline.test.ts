// A weak connection that drops: after one search, the page and the last results open from the service worker with
// no network at all, saying when they were fetched.
import t from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import { areaWithFocalPoints, byTestId, chooseArea, chooseCategory, demoArea, expectedNearest, focalPointsOf, openFieldPage, shownResults } from './field-page.js'

const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name', 'fetched-at')
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

t.test('offline after a search: a reload opens the page and the last results from the service worker, with the date', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('BGD')
  const expected = await expectedNearest(server!, area.pcode, 'health')
  await withBrowser(t, server!, { locale: 'en-GB', name: 'offline' }, async ({ context, page }) => {
    await openFieldPage(page, server!)
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope)
    t.equal(scope, `${server!.origin}/`, 'a service worker is active for the whole origin')
    // Searched by the English name: the areas search takes any script.
    await chooseArea(page, area.name_en)
    await chooseCategory(page, 'health')
    const online = await shownResults(page)
    t.equal(online[0].id, expected[0].id, 'online: the nearest health provider first')

    await context.setOffline(true)
    const reloaded = await page.reload()
    t.ok(reloaded?.fromServiceWorker(), 'the page itself came from the service worker')
    await byTestId(page, 'result').first().waitFor({ state: 'visible' })
    const offline = await shownResults(page)
    t.same(offline.map((r) => r.id), online.map((r) => r.id), 'the same results, offline')
    t.same(offline.map((r) => r.name), online.map((r) => r.name), 'with the same names')
    const fetchedAt = byTestId(page, 'fetched-at')
    await fetchedAt.waitFor({ state: 'visible' })
    // The date in the page's own language and digits (today in the browser's time zone: it was fetched just now).
    const [year, day] = await page.evaluate(() => {
      const now = new Date()
      const nf = new Intl.NumberFormat(document.documentElement.lang, { useGrouping: false })
      return [nf.format(now.getFullYear()), nf.format(now.getDate())]
    })
    const text = (await fetchedAt.innerText()).trim()
    t.ok(text.includes(year) && text.includes(day), `fetched-at shows today's date: ${JSON.stringify(text)}`)
    await context.setOffline(false)
  })
})

t.test('offline: a union directory opened once opens again, with its services, focal points and the date', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = await areaWithFocalPoints(server!, 'BGD')
  const focal = await focalPointsOf(server!, area.pcode)
  await withBrowser(t, server!, { locale: 'en-GB', name: 'offline-directory' }, async ({ context, page }) => {
    await openFieldPage(page, server!)
    await page.evaluate(async () => navigator.serviceWorker.ready)
    await page.goto(`${server!.origin}/directory.html?area=${encodeURIComponent(area.pcode)}`)
    await page.waitForSelector('body[data-ready="true"]')
    const read = () =>
      page.locator('[data-testid="directory-entry"], [data-testid="directory-focal-point"]').evaluateAll((els) =>
        els.map((el) => `${el.getAttribute('data-testid')}:${el.getAttribute('data-category') ?? ''}:${el.getAttribute('data-provider-id') ?? ''}`),
      )
    const online = await read()
    t.equal(online.filter((e) => e.startsWith('directory-focal-point')).length, focal.length, `online: ${online.length} entries, ${focal.length} of them focal points`)
    t.ok(await byTestId(page, 'fetched-at').isHidden(), 'online: no fetched-at note')

    await context.setOffline(true)
    const reloaded = await page.reload()
    t.ok(reloaded?.fromServiceWorker(), 'the directory page came from the service worker')
    await page.waitForSelector('body[data-ready="true"]')
    t.same(await read(), online, 'the same entries and focal points, offline')
    const fetchedAt = byTestId(page, 'fetched-at')
    await fetchedAt.waitFor({ state: 'visible' })
    t.match(await fetchedAt.innerText(), /\d/, 'with the date they were fetched')
    await context.setOffline(false)
  })
})
