// The field page as the server sends it: each built file at its own path, HTML and sw.js revalidated and under the
// page's CSP, hashed assets immutable, precompressed bodies when accepted, unknown paths the API's 404 problem, and a
// 503 problem when the page was never built.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { brotliDecompressSync } from 'node:zlib'
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import t from 'tap'
import { registerProblemHandlers } from '../../src/lib/problem.js'
import { PAGE_CSP, pageRoutes, WEB_ROOT } from '../../src/modules/page/routes.js'
import { buildTestApp } from '../helpers/app.js'

/** The page's routes alone, as buildApp sets them up (zod schemas, problem handlers). */
function bareApp() {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerProblemHandlers(app)
  return app
}

t.test('the built page, its assets and its service worker', async (t) => {
  const { app } = await buildTestApp(t, {}, { auth: 'none' })
  const index = await app.inject({ url: '/' })
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /^text\/html/)
  t.equal(index.headers['content-security-policy'], PAGE_CSP)
  t.equal(index.headers['cache-control'], 'no-cache')
  t.ok(index.headers.etag, 'an ETag to revalidate with')
  t.equal(index.body, readFileSync(path.join(WEB_ROOT, 'index.html'), 'utf8'))
  t.match(index.headers, { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }, 'helmet headers as elsewhere')

  const again = await app.inject({ url: '/', headers: { 'if-none-match': String(index.headers.etag) } })
  t.equal(again.statusCode, 304)

  const directory = await app.inject({ url: '/directory.html?area=BD4041' })
  t.equal(directory.statusCode, 200)
  t.equal(directory.headers['content-security-policy'], PAGE_CSP)

  const sw = await app.inject({ url: '/sw.js' })
  t.equal(sw.statusCode, 200)
  t.match(sw.headers['content-type'], /javascript/)
  t.equal(sw.headers['cache-control'], 'no-cache')

  // Every script the page loads is an immutable hashed asset; the largest is sent brotli-compressed when accepted.
  const scripts = [...index.body.matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1])
  t.ok(scripts.length >= 1, 'the page loads a script from /assets/')
  for (const src of scripts) {
    const res = await app.inject({ url: src })
    t.equal(res.statusCode, 200, src)
    t.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', src)
    t.notOk(res.headers['content-security-policy'], `${src}: the CSP is the HTML's`)
  }
  const assets = readdirSync(path.join(WEB_ROOT, 'assets'))
  const brotli = assets.find((f) => f.endsWith('.js.br'))
  if (brotli) {
    const file = brotli.replace(/\.br$/, '')
    const res = await app.inject({ url: `/assets/${file}`, headers: { 'accept-encoding': 'br, gzip' } })
    t.equal(res.headers['content-encoding'], 'br')
    t.equal(brotliDecompressSync(res.rawPayload).toString(), readFileSync(path.join(WEB_ROOT, 'assets', file), 'utf8'))
    const gz = await app.inject({ url: `/assets/${brotli}` })
    t.equal(gz.statusCode, 404, 'a compressed copy has no URL of its own')
  }

  for (const url of ['/nothing-here', '/assets/nothing.js', '/index.html/../package.json', '/assets/../../package.json']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.match(res.headers['content-type'], /^application\/problem\+json/, url)
    t.notOk(res.headers['content-security-policy'], url)
  }
  // The API keeps its own headers: no CSP on JSON.
  const api = await app.inject({ url: '/v1' })
  t.notOk(api.headers['content-security-policy'])
})

t.test('without a built page, GET / is a 503 problem that says to build it', async (t) => {
  const root = t.testdir({ 'empty': {} })
  const app = bareApp()
  await app.register(pageRoutes, { root: path.join(root, 'empty') })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/' })
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { status: 503, detail: /npm run build/ })
})

t.test('files added after the server started are not served: only what existed is routed', async (t) => {
  const root = t.testdir({ 'index.html': '<!doctype html><html lang="en"></html>', assets: { 'a-1234.js': 'x' } })
  const app = bareApp()
  await app.register(pageRoutes, { root })
  t.teardown(() => app.close())
  mkdirSync(path.join(root, 'later'))
  writeFileSync(path.join(root, 'later', 'b.js'), 'y')
  t.equal((await app.inject({ url: '/assets/a-1234.js' })).statusCode, 200)
  t.equal((await app.inject({ url: '/later/b.js' })).statusCode, 404)
})
