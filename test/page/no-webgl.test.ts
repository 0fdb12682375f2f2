// Low-end phones and old browsers without WebGL: the map cannot draw, the list of results still works.
import t from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, skipBrowserTest, startPageServer, withBrowser, type PageServer } from '../helpers/browser.js'
import { chooseArea, chooseCategory, demoArea, expectedNearest, openFieldPage, shownResults } from './field-page.js'

const skip = skipBrowserTest('area-search', 'selected-area', 'result', 'result-name')
let server: PageServer | undefined
t.before(async () => {
  if (!skip) server = await startPageServer(t)
})

t.test('with WebGL unavailable the page still lists the nearest results', { skip, timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const area = demoArea('BGD')
  const expected = await expectedNearest(server!, area.pcode, 'legal')
  await withBrowser(t, server!, { locale: 'en-GB', name: 'no-webgl', extraFlags: ['--disable-webgl', '--disable-3d-apis'] }, async ({ page, console }) => {
    await openFieldPage(page, server!)
    const contexts = await page.evaluate(() => {
      const canvas = document.createElement('canvas')
      return { webgl: canvas.getContext('webgl') !== null, webgl2: canvas.getContext('webgl2') !== null }
    })
    t.same(contexts, { webgl: false, webgl2: false }, 'this browser really has no WebGL')
    await chooseArea(page, area.name_en)
    await chooseCategory(page, 'legal')
    const shown = await shownResults(page)
    t.same(shown.map((r) => r.id), expected.slice(0, shown.length).map((p) => p.id), 'the nearest legal services, in order')
    t.same(console.filter((l) => l.startsWith('[pageerror]')), [], 'no uncaught error')
  })
})
