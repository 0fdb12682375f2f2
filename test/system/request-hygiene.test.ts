// What every request gets whatever it asks: an id it can quote, CORS only for the origins configured, and a rate
// limit per API key (per client address without one, read through the proxies TRUST_PROXY names).
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, keyFor } from '../helpers/app.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('every response carries a request id; a safe incoming one is kept, any other replaced', async (t) => {
  const { app } = await buildTestApp(t, {}, { auth: 'none' })
  const a = await app.inject({ url: '/v1/providers?limit=1' })
  const b = await app.inject({ url: '/v1/providers?limit=1' })
  t.match(a.headers['x-request-id'], UUID, 'generated: a UUID')
  t.not(a.headers['x-request-id'], b.headers['x-request-id'], 'one per request')

  const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'lb-7f3a.2024:0001_x' } })
  t.equal(kept.headers['x-request-id'], 'lb-7f3a.2024:0001_x', 'a proxy’s id is kept')
  for (const unsafe of ['has space', '<script>', 'x'.repeat(65), 'quote"d', 'a,b']) {
    const res = await app.inject({ url: '/healthz', headers: { 'x-request-id': unsafe } })
    t.match(res.headers['x-request-id'], UUID, `${JSON.stringify(unsafe.slice(0, 12))} is replaced`)
  }
})

t.test('every problem names its request id, the same as the header', async (t) => {
  const { app } = await buildTestApp(t, {}, { auth: 'none' })
  const { app: limited } = await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: 1 }, { auth: 'none' })
  await limited.inject({ url: '/v1/providers?limit=1' })
  const answers = {
    'not found (no route)': await app.inject({ url: '/v1/nowhere' }),
    'bad query': await app.inject({ url: '/v1/providers/nearest?lat=91&lon=90' }),
    'no key for a write': await app.inject({ method: 'POST', url: '/v1/providers', payload: {} }),
    'unknown key': await app.inject({ url: '/v1/providers', headers: { authorization: `Bearer setu_${'A'.repeat(43)}` } }),
    'rate limited': await limited.inject({ url: '/v1/providers?limit=1', headers: { 'x-request-id': 'client-supplied-1' } }),
  }
  t.same(
    Object.fromEntries(Object.entries(answers).map(([what, res]) => [what, res.statusCode])),
    { 'not found (no route)': 404, 'bad query': 400, 'no key for a write': 401, 'unknown key': 401, 'rate limited': 429 },
  )
  for (const [what, res] of Object.entries(answers)) {
    t.match(res.headers['content-type'], /^application\/problem\+json/, what)
    t.equal(res.json().request_id, res.headers['x-request-id'], `${what}: request_id is the header`)
    t.ok(res.headers['x-content-type-options'], `${what}: security headers on a refusal too`)
  }
  t.equal(answers['rate limited'].json().request_id, 'client-supplied-1')
})

t.test('CORS is off by default: no Access-Control headers, no preflight', async (t) => {
  const { app } = await buildTestApp(t, {}, { auth: 'none' })
  const res = await app.inject({ url: '/v1/providers?limit=1', headers: { origin: 'https://partner.example.org' } })
  t.equal(res.statusCode, 200)
  t.notOk(Object.keys(res.headers).some((h) => h.startsWith('access-control-')), 'no access-control header')
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/v1/providers',
    headers: { origin: 'https://partner.example.org', 'access-control-request-method': 'POST' },
  })
  t.equal(preflight.statusCode, 404)
  t.notOk(preflight.headers['access-control-allow-origin'])
})

t.test('CORS_ORIGINS allows exactly those origins, with the headers the API uses', async (t) => {
  const partner = 'https://partner.example.org'
  const { app } = await buildTestApp(t, { CORS_ORIGINS: [partner, 'http://localhost:5173'] }, { auth: 'none' })

  const read = await app.inject({ url: '/v1/providers?limit=1', headers: { origin: partner } })
  t.equal(read.statusCode, 200)
  t.equal(read.headers['access-control-allow-origin'], partner)
  t.match(read.headers.vary, /Origin/, 'caches keep answers for different origins apart')
  const exposed = String(read.headers['access-control-expose-headers']).split(/,\s*/)
  for (const h of ['X-Request-Id', 'ETag', 'Location']) t.ok(exposed.includes(h), `exposes ${h}`)
  t.notOk(read.headers['access-control-allow-credentials'], 'no cookies: keys travel in Authorization')

  const stranger = await app.inject({ url: '/v1/providers?limit=1', headers: { origin: 'https://evil.example.com' } })
  t.equal(stranger.statusCode, 200, 'the server still answers (CORS is enforced by the browser)')
  t.notOk(stranger.headers['access-control-allow-origin'], 'but does not allow another origin to read it')

  // A browser's preflight carries no Authorization: it must be answered before authentication.
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/v1/providers',
    headers: { origin: partner, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,idempotency-key,content-type' },
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], partner)
  const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/)
  for (const h of ['authorization', 'if-match', 'idempotency-key', 'content-type']) t.ok(allowed.includes(h), `allows ${h}`)
  const methods = String(preflight.headers['access-control-allow-methods']).split(/,\s*/)
  for (const m of ['GET', 'POST', 'PATCH', 'DELETE']) t.ok(methods.includes(m), `allows ${m}`)

  const refused = await app.inject({ method: 'POST', url: '/v1/providers', payload: {}, headers: { origin: partner } })
  t.equal(refused.statusCode, 401)
  t.equal(refused.headers['access-control-allow-origin'], partner, 'a refusal is readable by the allowed origin')
})

t.test('rate limits are per API key; requests without a key share their address’s', async (t) => {
  const { app, db } = await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: 2 }, { auth: 'none' })
  const first = await keyFor(db, 'viewer')
  const second = await keyFor(db, 'viewer')
  const statuses = async (n: number, headers: Record<string, string> = {}, remoteAddress?: string) => {
    const out = []
    for (let i = 0; i < n; i++) out.push((await app.inject({ url: '/v1/providers?limit=1', headers, ...(remoteAddress ? { remoteAddress } : {}) })).statusCode)
    return out
  }
  // A key the process has not verified lately counts against its client's address, before it is looked up (so that
  // made-up keys cost a lookup each only within the address's budget): verify both keys once from elsewhere first.
  for (const key of [first, second]) await statuses(1, { authorization: key.authorization }, '192.0.2.99')
  t.same(await statuses(3, { authorization: first.authorization }), [200, 200, 429], 'one key runs out')
  t.same(await statuses(2, { authorization: second.authorization }), [200, 200], 'another key from the same address has its own budget')
  t.same(await statuses(3), [200, 200, 429], 'anonymous requests from one address share one')
  t.same(await statuses(1, {}, '198.51.100.7'), [200], 'another address has its own')
  t.same(await statuses(1, { authorization: first.authorization }, '198.51.100.8'), [429], 'a key’s budget follows the key, not the address')
  const madeUp = () => ({ authorization: `Bearer setu_${randomBytes(32).toString('base64url')}` })
  const guesses = []
  for (let i = 0; i < 3; i++) guesses.push((await app.inject({ url: '/v1/providers?limit=1', headers: madeUp(), remoteAddress: '198.51.100.9' })).statusCode)
  t.same(guesses, [401, 401, 429], 'made-up keys are counted against their address before they are looked up')
})

t.test('TRUST_PROXY: X-Forwarded-For counts only from the proxies it names', async (t) => {
  const budgets = async (trustProxy: boolean | string[] | undefined, from: string) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: 1, ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy }) }, { auth: 'none' })
    const out = []
    for (const client of ['203.0.113.1', '203.0.113.2']) {
      out.push((await app.inject({ url: '/v1/providers?limit=1', remoteAddress: from, headers: { 'x-forwarded-for': client } })).statusCode)
    }
    return out
  }
  t.same(await budgets(undefined, '127.0.0.1'), [200, 429], 'by default the header is ignored: a client cannot claim another address')
  t.same(await budgets(['127.0.0.1'], '127.0.0.1'), [200, 200], 'behind the named proxy each client has its own budget')
  t.same(await budgets(['10.0.0.0/8'], '127.0.0.1'), [200, 429], 'a peer that is not a named proxy is not believed')
  t.same(await budgets(true, '192.0.2.50'), [200, 200], 'true believes any peer')
})

t.test('CORS_ORIGINS and TRUST_PROXY are checked when the server starts', async (t) => {
  t.same(loadConfig({}).CORS_ORIGINS, [], 'CORS off by default')
  t.equal(loadConfig({}).TRUST_PROXY, false, 'no proxy trusted by default')
  t.same(loadConfig({ CORS_ORIGINS: 'https://a.example.org, http://localhost:5173' }).CORS_ORIGINS, ['https://a.example.org', 'http://localhost:5173'])
  for (const bad of ['https://a.example.org/', '*', 'a.example.org', 'https://a.example.org/app', 'ftp://a.example.org', 'https://A.example.org']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }), /is not an origin[\s\S]*CORS_ORIGINS/, `refuses ${bad}`)
  }
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY, true)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.0.0/8,loopback,::1' }).TRUST_PROXY, ['10.0.0.1', '10.0.0.0/8', 'loopback', '::1'])
  for (const bad of ['yes', '10.0.0.0/33', '300.1.1.1', '2']) {
    t.throws(() => loadConfig({ TRUST_PROXY: bad }), /TRUST_PROXY/, `refuses ${bad}`)
  }
  t.throws(() => loadConfig({ TRUST_PROXY: '2' }), /number of hops is not accepted/)
})
