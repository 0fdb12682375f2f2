// The request recorder the page tests rely on for "no request leaves setu's origin": it must see what the page
// fetches itself and what its service worker fetches, or an empty list would prove nothing.
import t from 'tap'
import { BROWSER_TEST_TIMEOUT_MS, skipWithoutChromium, startPageServer, withBrowser } from '../helpers/browser.js'

// A different origin that answers at once (connection refused) rather than hanging until a timeout.
const ELSEWHERE = 'http://127.0.0.2:9'

const SW = `
self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()))
self.addEventListener('message', (e) => {
  e.waitUntil(fetch('${ELSEWHERE}/from-worker').catch(() => {}).then(() => e.source.postMessage('done')))
})
`
const PAGE = `<!doctype html><html lang="en"><title>recorder</title><img src="${ELSEWHERE}/pixel.png" alt="">
<script>
  fetch('/v1').catch(() => {})
  fetch('${ELSEWHERE}/from-page').catch(() => {})
</script>`

t.test('the recorder sees off-origin requests of the page and of its service worker', { skip: skipWithoutChromium(), timeout: BROWSER_TEST_TIMEOUT_MS }, async (t) => {
  const server = await startPageServer(t)
  await withBrowser(t, server, { name: 'recorder', checkOrigin: false }, async ({ context, page, offOrigin, requests }) => {
    // Two same-origin documents the server does not have, served by the browser's router.
    await context.route(`${server.origin}/recorder-test.html`, (r) => r.fulfill({ contentType: 'text/html', body: PAGE }))
    await context.route(`${server.origin}/recorder-sw.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: SW }))
    await page.goto(`${server.origin}/recorder-test.html`)
    await page.waitForFunction(() => performance.getEntriesByType('resource').length >= 2)
    const answered = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.register('/recorder-sw.js', { scope: '/' })
      await navigator.serviceWorker.ready
      const worker = reg.active!
      return new Promise<string>((resolve) => {
        navigator.serviceWorker.addEventListener('message', (e) => resolve(String(e.data)))
        worker.postMessage('go')
      })
    })
    t.equal(answered, 'done')
    const off = offOrigin().map((r) => `${r.from} ${new URL(r.url).pathname}`)
    t.ok(off.includes('page /from-page'), 'a fetch() of the page')
    t.ok(off.includes('page /pixel.png'), 'an image of the page')
    t.ok(off.includes('service-worker /from-worker'), 'a fetch() of the service worker')
    t.ok(requests.some((r) => r.url === `${server.origin}/v1`), 'same-origin requests are recorded too')
    t.notOk(off.some((r) => r.endsWith('/v1')), '…and not counted as leaving')
  })
})
