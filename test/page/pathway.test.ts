// With a key (entered once, kept on the device): who refers there, the pathway from the area's focal point to the
// selected service, each link with its health.
import t from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, getJson, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import { keyFor } from '../helpers/app.js'
import {
  byTestId,
  CATEGORIES,
  demoAreas,
  chooseArea,
  chooseCategory,
  expectedNearest,
  openFieldPage,
  MESSAGES,
  shownName,
  shownResults,
  type ApiProvider,
  type Category,
  type DemoArea,
} from './field-page.js'

const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name', 'api-key', 'api-key-save', 'pathway')
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

interface Pathway {
  provider_ids: string[]
  providers: { id: string; name: string }[]
  links: { id: string; health: 'ok' | 'at_risk' | 'broken' }[]
}

interface Candidate {
  area: DemoArea
  focal: ApiProvider
  category: Category
  target: ApiProvider
  /** The pathways from the focal point that end at the target. */
  pathways: Pathway[]
}

/**
 * The union's focal point as the page finds it: the API's first active focal point registered for the area, or
 * else for the nearest of its parents that has one.
 */
async function focalPointOf(pcode: string) {
  const detail = await getJson<{ parents: { pcode: string }[] }>(server!, `/v1/areas/${pcode}`)
  for (const p of [pcode, ...detail.parents.map((a) => a.pcode).reverse()]) {
    const focal = (await getJson<{ items: ApiProvider[] }>(server!, `/v1/providers?kind=focal_point&area=${p}&status=active&limit=1`)).items[0]
    if (focal) return focal
  }
  return undefined
}

/** The first demo area, category and listed result (of the 10 nearest) that a pathway from the focal point reaches. */
async function pathwayCase(authorization: string): Promise<Candidate | undefined> {
  for (const area of [...demoAreas('BGD'), ...demoAreas('KHM')]) {
    const focal = await focalPointOf(area.pcode)
    if (!focal) continue
    for (const category of CATEGORIES) {
      const nearest = await expectedNearest(server!, area.pcode, category, 10)
      const { items } = await getJson<{ items: Pathway[] }>(server!, `/v1/pathways?from=${focal.id}&category=${category}&limit=10`, authorization)
      const target = nearest.find((p) => p.id !== focal.id && items.some((w) => w.provider_ids.at(-1) === p.id))
      if (target) return { area, focal, category, target, pathways: items.filter((w) => w.provider_ids.at(-1) === target.id) }
    }
  }
  return undefined
}

t.test('with a key: selecting a result shows the pathway from the area\'s focal point to it', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const key = await keyFor(server!.db, 'viewer')
  const found = await pathwayCase(key.authorization)
  if (!found) {
    t.test('a pathway to a listed provider', { skip: 'no demo area has a focal point with a pathway to one of its 10 nearest providers of a category' }, () => {})
    return
  }
  const { area, focal, category, target, pathways } = found
  t.comment(`area ${area.pcode}, ${category}: ${focal.name} → ${target.name}`)

  await withBrowser(t, server!, { locale: 'en-GB', name: 'pathway' }, async ({ page, requests }) => {
    await openFieldPage(page, server!)
    await byTestId(page, 'api-key').fill(key.key)
    await byTestId(page, 'api-key-save').click()
    t.equal(await byTestId(page, 'api-key').getAttribute('type'), 'password', 'the key is typed into a password field')
    await chooseArea(page, area.name_en)
    await chooseCategory(page, category)
    t.ok((await shownResults(page)).some((r) => r.id === target.id), 'the pathway\'s end is listed')
    // The contract names no hook for selecting a result; the page's is the result's toggle button ("show on map").
    const select = page.locator(`[data-testid="result"][data-provider-id="${target.id}"] button[aria-pressed]`)
    await select.click()
    t.equal(await select.getAttribute('aria-pressed'), 'true', 'the result is selected')
    const pathway = byTestId(page, 'pathway')
    // Loading first, then the chain: wait for the one that names the focal point.
    await page.locator('[data-testid="pathway"]', { hasText: shownName(focal, 'en') }).waitFor({ state: 'visible' })
    const text = await pathway.innerText()
    t.ok(text.includes(shownName(target, 'en')), `it ends at the selected provider: ${text}`)
    for (const p of pathways) {
      for (const name of p.providers.map((x) => x.name.replace(/ \(demo\)$/, ''))) t.ok(text.includes(name), `it passes ${name}`)
      // Each link's health, in the page's words (web/src/i18n/en.ts), as often as the links have it.
      for (const health of new Set(p.links.map((l) => l.health))) {
        const label = MESSAGES.en[`health_${health}`]
        const wanted = pathways.flatMap((w) => w.links).filter((l) => l.health === health).length
        t.ok(text.split(label).length - 1 >= wanted, `each ${health} link says "${label}" (${wanted})`)
      }
    }
    t.ok(requests.some((r) => new URL(r.url).pathname === '/v1/pathways'), 'asked /v1/pathways')

    // Kept on the device: after a reload the key is still there.
    await page.reload()
    await byTestId(page, 'api-key').waitFor({ state: 'attached' })
    t.ok(await page.evaluate((k) => Object.values(localStorage).some((v) => v.includes(k)), key.key), 'the key is kept in localStorage')
  })
})
