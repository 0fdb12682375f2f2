// Issue 7's reproductions of hostile input that reached PostgreSQL and came back as a 500, and a few
// more that the sweep in fuzz.test.ts found: each must be a 400 or 422 problem naming the field,
// with nothing written.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp } from '../helpers/app.js'
import { conformanceOf, formatViolation } from '../helpers/conformance.js'
import { insertArea } from '../helpers/factories.js'
import { rowsChecksum } from '../helpers/rows.js'

const DHAKA = { lat: 23.81, lon: 90.41 }

const newProvider = (extra: Record<string, unknown> = {}) => ({
  name: 'Dhaka Legal Aid',
  names: { en: 'Dhaka Legal Aid', bn: 'ঢাকা আইনি সহায়তা' },
  kind: 'ngo',
  categories: ['health', 'legal'],
  services: [{ category: 'legal', name: 'Court accompaniment' }],
  location: DHAKA,
  verification: { on: '2025-03-14', method: 'phone_call' },
  funded_until: '2027-06-30',
  external_ids: [{ scheme: 'ngoab', id: '2214' }],
  notes: 'fictitious',
  ...extra,
})

/**
 * The app with rows to aim at. Answers that drift from /openapi.json are collected rather than thrown,
 * so that each test first says what is wrong with the answer itself, then (in `conforms`) with the document.
 */
async function setUp(t: Test) {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD30', name_en: 'Dhaka', country: 'BGD', admin_level: 1, bbox: [89.5, 22.5, 91.5, 25] })
  await insertArea(db, { pcode: 'BD3026', name_en: 'Dhaka', country: 'BGD', admin_level: 2, parent_pcode: 'BD30', bbox: [90, 23.5, 90.8, 24.1] })
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, payload })
    if (res.statusCode !== 201) throw new Error(`setting up: POST ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json().id as string
  }
  const provider = await post('/v1/providers', newProvider())
  const other = await post('/v1/providers', newProvider({ name: 'Dhaka Shelter Home', names: {}, external_ids: [] }))
  const link = await post('/v1/referral-links', {
    from_provider_id: other,
    to_provider_id: provider,
    categories: ['legal'],
    basis: 'sop',
    established_on: '2024-03-01',
    last_used_on: '2024-09-15',
  })
  const mou = await post(`/v1/providers/${provider}/mous`, {
    counterparty: 'Ministry of Women and Children Affairs',
    counterparty_level: 'national',
    categories: ['legal'],
    status: 'draft',
  })
  const conformance = conformanceOf(app)
  conformance.throwOnViolation = false
  const conforms = (t: Test) => {
    const drift = [...new Set(conformance.take().map(formatViolation))]
    t.same(drift, [], 'every answer matches /openapi.json')
  }
  return { app, db, post, provider, other, link, mou, conforms }
}

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s)

/** A 400 or 422 problem whose errors name `path` (any of `path` when several are acceptable). */
function refused(t: Test, res: LightMyRequestResponse, path: string | string[], what: string) {
  const paths = [path].flat()
  t.ok([400, 422].includes(res.statusCode), `${what}: 400 or 422 (got ${res.statusCode} ${short(res.body)})`)
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: a problem document`)
  let body: { type?: unknown; title?: unknown; status?: unknown; errors?: Array<{ path?: string }> } = {}
  try {
    body = res.json()
  } catch {
    // the content-type assertion above already failed
  }
  t.match(body, { type: String, title: String, status: res.statusCode }, `${what}: type, title and status`)
  t.ok(
    body.errors?.some((e) => paths.includes(e.path ?? '')),
    `${what}: errors name ${paths.join(' or ')} (errors: ${JSON.stringify(body.errors)})`,
  )
}

/** Sends a write that must be refused, and checks that no table changed. */
async function refusedWrite(t: Test, app: FastifyInstance, db: Db, request: InjectOptions, path: string | string[], what: string) {
  const before = await rowsChecksum(db)
  const res = await app.inject(request)
  refused(t, res, path, what)
  t.equal(await rowsChecksum(db), before, `${what}: nothing written`)
}

const providerPaths: Array<[string, Record<string, unknown>, string]> = [
  ['name', { name: 'a\u0000b' }, 'name'],
  ['notes', { notes: 'a\u0000b' }, 'notes'],
  ['services[].name', { services: [{ category: 'legal', name: 'a\u0000b' }] }, 'services.0.name'],
  ['names', { names: { en: 'Dhaka Legal Aid', bn: 'a\u0000b' } }, 'names.bn'],
  ['external_ids[].id', { external_ids: [{ scheme: 'ngoab', id: 'a\u0000b' }] }, 'external_ids.0.id'],
  ['external_ids[].scheme', { external_ids: [{ scheme: 'ng\u0000ab', id: '2214' }] }, 'external_ids.0.scheme'],
]

t.test('NUL in a provider’s text is a 400 naming the field, on POST and PATCH, and nothing is written', async (t) => {
  const { app, db, provider, conforms } = await setUp(t)
  for (const [field, change, path] of providerPaths) {
    await refusedWrite(t, app, db, { method: 'POST', url: '/v1/providers', payload: newProvider(change) }, path, `POST ${field}`)
    await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/providers/${provider}`, payload: change }, path, `PATCH ${field}`)
  }
  conforms(t)
})

t.test('NUL in a query or path parameter is a 400 naming the parameter', async (t) => {
  const { app, conforms } = await setUp(t)
  const cases: Array<[string, string]> = [
    ['/v1/providers?q=a%00b', 'q'],
    ['/v1/areas?q=a%00b', 'q'],
    ['/v1/areas/BD%0030', 'pcode'],
    ['/v1/areas/BD%00/network', 'pcode'],
    ['/v1/providers?area=BD%0030', 'area'],
    ['/v1/providers?external_id=a%00:b', 'external_id'],
    ['/v1/mous?area=%00', 'area'],
  ]
  for (const [url, path] of cases) refused(t, await app.inject({ url }), path, `GET ${url}`)
  conforms(t)
})

t.test('a year 0000 date is refused in every place that takes a date', async (t) => {
  const { app, db, post, provider, link, mou, conforms } = await setUp(t)
  const y0 = '0000-01-01'
  refused(t, await app.inject({ url: `/v1/providers?verified_since=${y0}` }), 'verified_since', 'GET verified_since')
  refused(t, await app.inject({ url: `/v1/providers?funded_after=${y0}` }), 'funded_after', 'GET funded_after')
  const verification = { on: y0, method: 'phone_call' }
  await refusedWrite(t, app, db, { method: 'POST', url: '/v1/providers', payload: newProvider({ verification }) }, 'verification.on', 'POST provider verification.on')
  await refusedWrite(t, app, db, { method: 'POST', url: '/v1/providers', payload: newProvider({ funded_until: y0 }) }, 'funded_until', 'POST provider funded_until')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/providers/${provider}`, payload: { verification } }, 'verification.on', 'PATCH provider verification.on')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/providers/${provider}`, payload: { funded_until: y0 } }, 'funded_until', 'PATCH provider funded_until')
  const newMou = { counterparty: 'Department of Social Services', counterparty_level: 'national', categories: ['health'], status: 'signed', signed_on: y0 }
  await refusedWrite(t, app, db, { method: 'POST', url: `/v1/providers/${provider}/mous`, payload: newMou }, 'signed_on', 'POST MOU signed_on')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/mous/${mou}`, payload: { signed_on: y0 } }, 'signed_on', 'PATCH MOU signed_on')
  const third = await post('/v1/providers', newProvider({ name: 'Dhaka Counselling Centre', names: {}, external_ids: [] }))
  const newLink = { from_provider_id: third, to_provider_id: provider, categories: ['health'], basis: 'informal', established_on: y0 }
  await refusedWrite(t, app, db, { method: 'POST', url: '/v1/referral-links', payload: newLink }, 'established_on', 'POST link established_on')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/referral-links/${link}`, payload: { established_on: y0 } }, 'established_on', 'PATCH link established_on')
  conforms(t)
})

t.test('a referral link used before it was established is a 422 naming the dates, on POST and on PATCH of either date', async (t) => {
  const { app, db, provider, other, link, conforms } = await setUp(t)
  const dates = ['established_on', 'last_used_on']
  // The link of setUp was established on 2024-03-01 and last used on 2024-09-15.
  const backwards = { from_provider_id: provider, to_provider_id: other, categories: ['health'], basis: 'informal', established_on: '2024-06-01', last_used_on: '2024-01-01' }
  await refusedWrite(t, app, db, { method: 'POST', url: '/v1/referral-links', payload: backwards }, dates, 'POST last_used_on before established_on')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/referral-links/${link}`, payload: { established_on: '2024-12-01' } }, dates, 'PATCH established_on after last_used_on')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/referral-links/${link}`, payload: { last_used_on: '2024-01-01' } }, dates, 'PATCH last_used_on before established_on')
  const res = await app.inject({ url: `/v1/referral-links/${link}` })
  t.match(res.json(), { established_on: '2024-03-01', last_used_on: '2024-09-15', version: 1 }, 'the link is as it was')
  conforms(t)
})

t.test('MOUs already refuse the same kind of rule: an expiry before signing is a 422 naming expires_on', async (t) => {
  const { app, db, provider, conforms } = await setUp(t)
  const payload = { counterparty: 'Department of Social Services', counterparty_level: 'national', categories: ['health'], status: 'signed', signed_on: '2024-06-01', expires_on: '2024-01-01' }
  await refusedWrite(t, app, db, { method: 'POST', url: `/v1/providers/${provider}/mous`, payload }, 'expires_on', 'POST expires_on before signed_on')
  conforms(t)
})

t.test('found by the sweep: lone surrogates in text kept as JSON, NUL and year 0000 in cursors, malformed and overlong URLs', async (t) => {
  const { app, db, provider, mou, conforms } = await setUp(t)
  // A lone surrogate has no UTF-8 form: PostgreSQL's jsonb refuses its \ud800 escape.
  await refusedWrite(t, app, db, { method: 'POST', url: '/v1/providers', payload: newProvider({ names: { bn: 'a\ud800b' } }) }, 'names.bn', 'POST names with a lone surrogate')
  await refusedWrite(t, app, db, { method: 'PATCH', url: `/v1/mous/${mou}`, payload: { notes: 'a\ud800b' } }, 'notes', 'PATCH MOU notes with a lone surrogate')
  const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url')
  for (const url of [
    `/v1/providers?cursor=${cursor(['a\u0000b', provider])}`,
    `/v1/mous?cursor=${cursor(['0000-01-01T00:00:00Z', mou])}`,
    `/v1/referral-links?cursor=${cursor(['0000-01-01T00:00:00Z', mou])}`,
  ]) {
    refused(t, await app.inject({ url }), 'cursor', `GET ${url}`)
  }
  // fastify answers these before any route runs, with its own JSON body unless told otherwise.
  for (const url of [`/v1/providers/${'x'.repeat(101)}`, '/v1/providers/%E0%A4%A', '/v1/areas/%C0%80/network']) {
    const res = await app.inject({ url })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `GET ${url.slice(0, 40)}: a 4xx (${res.statusCode})`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `GET ${url.slice(0, 40)}: a problem document (${short(res.body)})`)
  }
  conforms(t)
})
