// With a key (entered once, kept on the device): who refers there, the pathway from the area's focal point to the
// selected service, each link with its health.
import t from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, getJson, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import { keyFor } from '../helpers/app.js'
import {
  areaPoint,
  byTestId,
  CATEGORIES,
  chooseArea,
  chooseCategory,
  demoArea,
  expectedNearest,
  openFieldPage,
  shownName,
  shownResults,
  type ApiProvider,
} from './field-page.js'

const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name', 'api-key', 'api-key-save', 'pathway')
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

interface Pathway {
  provider_ids: string[]
  providers: { id: string; name: string }[]
}

t.test('with a key: selecting a result shows the pathway from the area\'s focal point to it', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('BGD')
  const key = await keyFor(server!.db, 'viewer')
  const focal = (await getJson<{ items: ApiProvider[] }>(server!, `/v1/providers?kind=focal_point&area=${area.pcode}&limit=100`)).items
  if (focal.length === 0) {
    t.test(`pathway from ${area.pcode}`, { skip: `the demo data has no focal point in ${area.pcode} ${area.name_en}` }, () => {})
    return
  }
  // A category whose nearest results (as the page lists them) include the end of a pathway from a focal point.
  const { lat, lon } = await areaPoint(server!, area.pcode)
  let found: { category: (typeof CATEGORIES)[number]; target: ApiProvider; from: ApiProvider } | undefined
  for (const category of CATEGORIES) {
    const nearest = await expectedNearest(server!, area.pcode, category)
    for (const from of focal) {
      const { items } = await getJson<{ items: Pathway[] }>(server!, `/v1/pathways?from=${from.id}&category=${category}&limit=20`, key.authorization)
      const target = nearest.find((p) => p.id !== from.id && items.some((w) => w.provider_ids.at(-1) === p.id))
      if (target) {
        found = { category, target, from }
        break
      }
    }
    if (found) break
  }
  if (!found) {
    t.test(`pathway from ${area.pcode}`, { skip: `no pathway from ${area.pcode}'s focal points ends at a provider nearest to ${lat},${lon}` }, () => {})
    return
  }
  const { category, target } = found
  t.comment(`area ${area.pcode}, ${category}: ${found.from.name} → ${target.name}`)

  await withBrowser(t, server!, { locale: 'en-GB', name: 'pathway' }, async ({ page, requests }) => {
    await openFieldPage(page, server!)
    await byTestId(page, 'api-key').fill(key.key)
    await byTestId(page, 'api-key-save').click()
    t.equal(await byTestId(page, 'api-key').getAttribute('type'), 'password', 'the key is typed into a password field')
    await chooseArea(page, area.name_en)
    await chooseCategory(page, category)
    t.ok((await shownResults(page)).some((r) => r.id === target.id), 'the pathway\'s end is listed')
    await page.locator(`[data-testid="result"][data-provider-id="${target.id}"] [data-testid="result-name"]`).click()
    const pathway = byTestId(page, 'pathway')
    await pathway.waitFor({ state: 'visible' })
    const text = await pathway.innerText()
    t.ok(focal.some((f) => text.includes(shownName(f, 'en'))), `it starts at a focal point of ${area.name_en}: ${text}`)
    t.ok(text.includes(shownName(target, 'en')), 'it ends at the selected provider')
    t.ok(requests.some((r) => new URL(r.url).pathname === '/v1/pathways'), 'asked /v1/pathways')

    // Kept on the device: after a reload the key is still there.
    await page.reload()
    await byTestId(page, 'api-key').waitFor({ state: 'attached' })
    t.ok(await page.evaluate((k) => Object.values(localStorage).some((v) => v.includes(k)), key.key), 'the key is kept in localStorage')
  })
})
