import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

t.test('GET /v1 is an index whose links all answer', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/v1' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const index = res.json()
  t.equal(index.name, 'setu')
  t.match(index.version, /^\d+\.\d+\.\d+/)
  const hrefs = Object.values(index.links as Record<string, { href: string }>).map((l) => l.href)
  t.ok(hrefs.includes('/docs') && hrefs.includes('/openapi.json') && hrefs.includes('/v1/providers'))
  for (const href of hrefs) {
    // nearest and pathways need a point or a start: their links lead to a 400 that says so; every other
    // link to a 2xx or a redirect
    const linked = await app.inject({ url: href })
    if (href === '/v1/providers/nearest' || href === '/v1/pathways') t.equal(linked.statusCode, 400, href)
    else t.ok(linked.statusCode < 400, `${href} answers ${linked.statusCode}`)
  }
})

t.test('GET / is the field page, which links to the API index and its documentation', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/' })
  // test/setup.ts builds dist/web; without it the page answers 503 (test/page/serving.test.ts)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /<html lang=/)
  const doc = (await app.inject({ url: '/openapi.json' })).json()
  t.ok(doc.paths['/'].get.responses['200'].content['text/html'], 'documented as HTML')
  t.notOk(doc.paths['/'].get.responses['302'], 'no longer a redirect')
})

t.test('the document is served with a relative server, so /docs works on any host and port', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json()
  t.same(doc.servers.map((s: { url: string }) => s.url), ['/'])
})
