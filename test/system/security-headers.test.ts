// helmet's headers (CSP off: /docs needs inline scripts) on every kind of response: answers, problems, 404s, HTML.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

const SECURITY_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}

t.test('every response carries the security headers', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [url, status] of [
    ['/v1/providers/nearest?lat=23.81&lon=90.41', 200],
    ['/v1/providers/nearest?lat=23.81&lon=90.41&format=geojson', 200],
    ['/v1/providers/nearest?lat=91&lon=90.41', 400],
    ['/v1/providers?limit=1', 200],
    ['/v1/nothing-here', 404],
    ['/docs', 200],
  ] as const) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, status, url)
    t.match(res.headers, SECURITY_HEADERS, `${url}: security headers`)
    t.notOk('content-security-policy' in res.headers, `${url}: no CSP`)
  }
})
