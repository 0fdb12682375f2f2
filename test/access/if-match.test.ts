// Optimistic concurrency on every resource: each single-resource GET sends an ETag, and every PATCH and DELETE in
// /openapi.json refuses a stale If-Match with the same 412 problem and changes nothing. The operations are read
// from the document, so a new PATCH or DELETE without a case here fails the test.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { rowsChecksum } from '../helpers/rows.js'
import { minimalProvider } from '../providers/helpers.js'

t.test('every PATCH and DELETE answers a stale If-Match with the one 412 problem and writes nothing', async (t) => {
  const { app, db } = await buildTestApp(t)
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, 201, `POST ${url}: ${res.body.slice(0, 200)}`)
    return res.json()
  }
  const from = await post('/v1/providers', minimalProvider({ name: 'From', categories: ['health'] }))
  const to = await post('/v1/providers', minimalProvider({ name: 'To', categories: ['health'], location: { lat: 23.2, lon: 90.2 } }))
  const link = await post('/v1/referral-links', { from_provider_id: from.id, to_provider_id: to.id, categories: ['health'], basis: 'informal' })
  const mou = await post(`/v1/providers/${to.id}/mous`, { counterparty: 'District office', counterparty_level: 'district', categories: ['health'], status: 'draft' })
  const key = await post('/v1/keys', { organisation: 'setu-demo', role: 'viewer' })

  // Each operation's URL, a valid body, and the resource's single GET (whose ETag is its version).
  const cases: Record<string, { url: string; body?: object }> = {
    'patch /v1/providers/{id}': { url: `/v1/providers/${from.id}`, body: { notes: 'stale write' } },
    'delete /v1/providers/{id}': { url: `/v1/providers/${from.id}` },
    'patch /v1/referral-links/{id}': { url: `/v1/referral-links/${link.id}`, body: { notes: 'stale write' } },
    'patch /v1/mous/{id}': { url: `/v1/mous/${mou.id}`, body: { notes: 'stale write' } },
    'delete /v1/keys/{id}': { url: `/v1/keys/${key.id}` },
  }
  const document = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> }
  const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.keys(ops).filter((m) => m === 'patch' || m === 'delete').map((m) => `${m} ${path}`),
  )
  t.same(operations.sort(), Object.keys(cases).sort(), 'every PATCH and DELETE of the document has a case here')

  for (const operation of operations) {
    const { url, body } = cases[operation]
    const read = await app.inject({ url })
    t.equal(read.statusCode, 200, `GET ${url}`)
    t.match(read.headers.etag, /^"\d+"$/, `GET ${url} sends an ETag`)
    const version = Number(String(read.headers.etag).replaceAll('"', ''))

    const before = await rowsChecksum(db)
    const method = operation.split(' ')[0].toUpperCase() as 'PATCH' | 'DELETE'
    const stale = await app.inject({ method, url, headers: { 'if-match': `"${version + 7}"` }, ...(body ? { payload: body } : {}) })
    t.equal(stale.statusCode, 412, `${operation} with a stale If-Match`)
    t.match(stale.headers['content-type'], /^application\/problem\+json/)
    t.match(stale.json(), { type: 'urn:setu:problem:precondition-failed', status: 412, current_version: version }, `${operation}: the one 412 body`)
    t.equal(await rowsChecksum(db), before, `${operation}: a refused write changes nothing`)

    const fresh = await app.inject({ method, url, headers: { 'if-match': read.headers.etag as string }, ...(body ? { payload: body } : {}) })
    t.equal(fresh.statusCode, 200, `${operation} with the current ETag goes through`)
  }
})
