// Issue 8's table-driven role test: every role (anonymous, viewer, analyst, editor A of org-a, editor B of org-b
// limited to one area, admin) against every route family, with the status each must get; every refused request
// must leave every table as it was, and every allowed write must be in the audit trail under the caller's key.
// The table is checked against /openapi.json both ways, so a new route cannot escape it. Unknown, revoked and
// malformed keys get 401 on every route, public ones included.
import { sql } from 'drizzle-orm'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { conformanceOf, formatViolation } from '../helpers/conformance.js'
import { insertLink, insertMou } from '../helpers/factories.js'
import { tileOf, tileUrl } from '../tiles/mvt.js'
import {
  CALLERS,
  deref,
  insertAreas,
  insertOwnedProvider,
  makeCallers,
  openapiOf,
  operationsOf,
  ORG_A,
  short,
  tablesSnapshot,
  type CallerName,
  type Callers,
  type OpenApi,
} from './fixtures.js'

// Inside union BD404190 of district BD4041: org-a's ground, outside editor B's area.
const IN_A = { lat: 23.21, lon: 89.26 }
// Inside district BD4047: the one area editor B may write in.
const IN_B = { lat: 22.55, lon: 89.65 }

type Expect = Record<CallerName, number>

const everyone = (status: number): Expect => ({ anonymous: status, viewer: status, analyst: status, editorA: status, editorB: status, admin: status })
/** Any key: links, MOUs, pathways, area networks. */
const keyed = (status: number): Expect => ({ ...everyone(status), anonymous: 401 })
const adminOnly = (status: number): Expect => ({ anonymous: 401, viewer: 403, analyst: 403, editorA: 403, editorB: 403, admin: status })
/** A write: admins always, the editors named, every other key 403. */
const writers = (status: number, ...editors: Array<'editorA' | 'editorB'>): Expect => ({
  ...adminOnly(status),
  editorA: editors.includes('editorA') ? status : 403,
  editorB: editors.includes('editorB') ? status : 403,
})
/**
 * Provider history: admins, analysts and the owning organisation's keys (the viewer belongs to org-a, and sees the
 * history of org-a's providers masked); other keys 403.
 */
const historyOf = (owner: 'editorA' | 'editorB'): Expect => ({ ...writers(200, owner), analyst: 200, viewer: owner === 'editorA' ? 200 : 403 })

type Owner = 'A' | 'B'
type Where = 'A' | 'B'

interface Ctx {
  db: Db
  doc: OpenApi
  callers: Callers
  fx: Fixtures
  /** A fresh provider of org-a or org-b, inside org-a's ground or editor B's area. */
  provider(owner: Owner, at: Where): Promise<string>
  unique(): string
}

interface Request {
  method?: InjectOptions['method']
  url: string
  payload?: unknown
  headers?: Record<string, string>
}

interface Case {
  /** The operation as /openapi.json names it (`METHOD /path/{param}`). */
  op: string
  label?: string
  /** Served but hidden from the document (the document itself and its viewer). */
  undocumented?: true
  expect: Expect
  /** The request; a write first makes the rows it changes, fresh for every caller so no answer depends on another's. */
  request(ctx: Ctx): Request | Promise<Request>
}

const get = (url: string): Request => ({ url })

const providerBody = (name: string, at: { lat: number; lon: number }, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'ngo',
  categories: ['health', 'legal'],
  location: at,
  address: 'Road 4, Bagherpara',
  phones: ['+8801700000000'],
  verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
  ...extra,
})

/** An HSDS 3.0 service as POST /v1/providers/import?format=hsds reads it. */
const hsdsService = (id: string, at: { lat: number; lon: number }) => ({
  id,
  name: `HSDS service ${id}`,
  attributes: [{ taxonomy_term: { code: 'legal' } }],
  service_at_locations: [{ id: `sal-${id}`, location: { id: `loc-${id}`, latitude: at.lat, longitude: at.lon } }],
})

const mouBody = {
  counterparty: 'Ministry of Women and Children Affairs',
  counterparty_level: 'district',
  counterparty_area: 'BD4041',
  categories: ['legal'],
  status: 'signed',
  signed_on: '2024-07-01',
  expires_on: '2030-12-31',
}

// Fresh rows start at version 1: If-Match names it, so the writes pass whether or not If-Match is required.
const ifMatch = { 'if-match': '"1"' }

/**
 * A body for POST /v1/keys from its documented schema: a viewer key for org-a, named by the first organisation
 * field the schema has (by id or by name, whichever it offers).
 */
function newKeyBody(ctx: Ctx): Record<string, unknown> {
  const op = operationsOf(ctx.doc).find((o) => o.name === 'POST /v1/keys')
  const schema = deref(ctx.doc, op?.requestSchema)
  const body: Record<string, unknown> = {}
  let organisationNamed = false
  for (const [name, s] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
    const property = deref(ctx.doc, s)
    if (name === 'role') body[name] = 'viewer'
    else if (/^(organisation|organization|org)(_id)?$/.test(name) && !organisationNamed) {
      body[name] = name.endsWith('_id') || property.format === 'uuid' ? ctx.callers.orgA : ORG_A
      organisationNamed = true
    } else if (name === 'label') body[name] = `roles test ${ctx.unique()}`
  }
  return body
}

const cases: Case[] = [
  // The service itself and its documentation: anyone.
  { op: 'GET /healthz', expect: everyone(200), request: () => get('/healthz') },
  { op: 'GET /readyz', expect: everyone(200), request: () => get('/readyz') },
  { op: 'GET /v1', expect: everyone(200), request: () => get('/v1') },
  { op: 'GET /', expect: everyone(200), request: () => get('/') },
  { op: 'GET /openapi.json', undocumented: true, expect: everyone(200), request: () => get('/openapi.json') },
  { op: 'GET /docs', undocumented: true, expect: everyone(200), request: () => get('/docs') },

  // Areas: anyone.
  { op: 'GET /v1/areas', expect: everyone(200), request: () => get('/v1/areas?country=BGD&geometry=true') },
  { op: 'GET /v1/areas/locate', expect: everyone(200), request: () => get(`/v1/areas/locate?lat=${IN_A.lat}&lon=${IN_A.lon}`) },
  { op: 'GET /v1/areas/{pcode}', expect: everyone(200), request: () => get('/v1/areas/BD4041?geometry=true') },
  { op: 'GET /v1/areas/{pcode}/network', expect: keyed(200), request: () => get('/v1/areas/BD4041/network') },

  // The directory: anyone reads it; admins and editors write it, editors only their organisation's rows in their areas.
  { op: 'GET /v1/providers', expect: everyone(200), request: () => get('/v1/providers?area=BD40') },
  { op: 'GET /v1/providers', label: 'as GeoJSON', expect: everyone(200), request: () => get('/v1/providers?format=geojson') },
  { op: 'GET /v1/providers/nearest', expect: everyone(200), request: () => get(`/v1/providers/nearest?lat=${IN_A.lat}&lon=${IN_A.lon}&limit=10`) },
  { op: 'GET /v1/providers/{id}', expect: everyone(200), request: ({ fx }) => get(`/v1/providers/${fx.providerA}`) },
  // The export: admins and analysts everything, editors their own organisation's providers, viewers 403.
  { op: 'GET /v1/providers/export', expect: { ...keyed(200), viewer: 403 }, request: () => get('/v1/providers/export?format=csv&area=BD40') },
  { op: 'GET /v1/providers/export', label: 'as GeoJSON', expect: { ...keyed(200), viewer: 403 }, request: () => get('/v1/providers/export?format=geojson') },
  { op: 'GET /v1/providers/export', label: 'as HSDS', expect: { ...keyed(200), viewer: 403 }, request: () => get('/v1/providers/export?format=hsds') },
  { op: 'GET /v1/providers/{id}/history', label: "of org-a's provider", expect: historyOf('editorA'), request: ({ fx }) => get(`/v1/providers/${fx.providerA}/history`) },
  { op: 'GET /v1/providers/{id}/history', label: "of org-b's provider", expect: historyOf('editorB'), request: ({ fx }) => get(`/v1/providers/${fx.providerB}/history`) },
  {
    op: 'POST /v1/providers',
    label: "in org-a's ground, owner not named (outside editor B's area)",
    expect: writers(201, 'editorA'),
    request: (c) => ({ method: 'POST', url: '/v1/providers', payload: providerBody(`New in A ${c.unique()}`, IN_A) }),
  },
  {
    op: 'POST /v1/providers',
    label: "inside editor B's area, owner not named",
    expect: writers(201, 'editorA', 'editorB'),
    request: (c) => ({ method: 'POST', url: '/v1/providers', payload: providerBody(`New in B ${c.unique()}`, IN_B) }),
  },
  {
    op: 'POST /v1/providers',
    label: "for org-b, inside editor B's area",
    expect: writers(201, 'editorB'),
    request: (c) => ({ method: 'POST', url: '/v1/providers', payload: providerBody(`New for B ${c.unique()}`, IN_B, { organisation_id: c.callers.orgB }) }),
  },
  {
    op: 'POST /v1/providers/bulk',
    label: "in org-a's ground",
    expect: writers(201, 'editorA'),
    request: (c) => ({ method: 'POST', url: '/v1/providers/bulk', payload: { providers: [providerBody(`Bulk in A ${c.unique()}`, IN_A)] } }),
  },
  {
    op: 'POST /v1/providers/bulk',
    label: "inside editor B's area",
    expect: writers(201, 'editorA', 'editorB'),
    request: (c) => ({ method: 'POST', url: '/v1/providers/bulk', payload: { providers: [providerBody(`Bulk in B ${c.unique()}`, IN_B)] } }),
  },
  {
    op: 'POST /v1/providers/bulk',
    label: "one row inside editor B's area, one outside (all or nothing)",
    expect: writers(201, 'editorA'),
    request: (c) => ({
      method: 'POST',
      url: '/v1/providers/bulk',
      payload: { providers: [providerBody(`Bulk in B ${c.unique()}`, IN_B), providerBody(`Bulk in A ${c.unique()}`, IN_A)] },
    }),
  },
  {
    op: 'POST /v1/providers/import',
    label: "HSDS, for the caller's organisation, inside editor B's area",
    expect: writers(200, 'editorA', 'editorB'),
    request: (c) => ({ method: 'POST', url: '/v1/providers/import?format=hsds', payload: [hsdsService(`roles-${c.unique()}`, IN_B)] }),
  },
  {
    op: 'POST /v1/providers/import',
    label: 'HSDS, naming org-b as the owner',
    expect: writers(200, 'editorB'),
    request: (c) => ({ method: 'POST', url: `/v1/providers/import?format=hsds&organisation_id=${c.callers.orgB}`, payload: [hsdsService(`roles-${c.unique()}`, IN_B)] }),
  },
  {
    op: 'PATCH /v1/providers/{id}',
    label: "org-a's",
    expect: writers(200, 'editorA'),
    request: async (c) => ({ method: 'PATCH', url: `/v1/providers/${await c.provider('A', 'A')}`, headers: ifMatch, payload: { notes: 'changed' } }),
  },
  {
    op: 'PATCH /v1/providers/{id}',
    label: "org-b's, inside editor B's area",
    expect: writers(200, 'editorB'),
    request: async (c) => ({ method: 'PATCH', url: `/v1/providers/${await c.provider('B', 'B')}`, headers: ifMatch, payload: { notes: 'changed' } }),
  },
  {
    op: 'PATCH /v1/providers/{id}',
    label: "org-b's, outside editor B's area",
    expect: writers(200),
    request: async (c) => ({ method: 'PATCH', url: `/v1/providers/${await c.provider('B', 'A')}`, headers: ifMatch, payload: { notes: 'changed' } }),
  },
  {
    op: 'PATCH /v1/providers/{id}',
    label: "org-b's, moved out of editor B's area",
    expect: writers(200),
    request: async (c) => ({ method: 'PATCH', url: `/v1/providers/${await c.provider('B', 'B')}`, headers: ifMatch, payload: { location: IN_A } }),
  },
  {
    op: 'DELETE /v1/providers/{id}',
    label: "org-a's",
    expect: writers(200, 'editorA'),
    request: async (c) => ({ method: 'DELETE', url: `/v1/providers/${await c.provider('A', 'A')}`, headers: ifMatch }),
  },
  {
    op: 'DELETE /v1/providers/{id}',
    label: "org-b's, inside editor B's area",
    expect: writers(200, 'editorB'),
    request: async (c) => ({ method: 'DELETE', url: `/v1/providers/${await c.provider('B', 'B')}`, headers: ifMatch }),
  },
  {
    op: 'DELETE /v1/providers/{id}',
    label: "org-b's, outside editor B's area",
    expect: writers(200),
    request: async (c) => ({ method: 'DELETE', url: `/v1/providers/${await c.provider('B', 'A')}`, headers: ifMatch }),
  },

  // Referral links: any key reads them; a link belongs to the organisation of its referring (from) provider.
  { op: 'GET /v1/referral-links', expect: keyed(200), request: () => get('/v1/referral-links?area=BD40') },
  { op: 'GET /v1/referral-links/{id}', expect: keyed(200), request: ({ fx }) => get(`/v1/referral-links/${fx.link}`) },
  { op: 'GET /v1/providers/{id}/referral-links', expect: keyed(200), request: ({ fx }) => get(`/v1/providers/${fx.providerA}/referral-links`) },
  {
    op: 'POST /v1/referral-links',
    label: "from org-a's provider to org-b's (a link to another organisation is allowed)",
    expect: writers(201, 'editorA'),
    request: async (c) => ({
      method: 'POST',
      url: '/v1/referral-links',
      payload: { from_provider_id: await c.provider('A', 'A'), to_provider_id: await c.provider('B', 'B'), categories: ['legal'], basis: 'informal' },
    }),
  },
  {
    op: 'POST /v1/referral-links',
    label: "from org-b's provider inside editor B's area to org-a's",
    expect: writers(201, 'editorB'),
    request: async (c) => ({
      method: 'POST',
      url: '/v1/referral-links',
      payload: { from_provider_id: await c.provider('B', 'B'), to_provider_id: await c.provider('A', 'A'), categories: ['legal'], basis: 'informal' },
    }),
  },
  {
    op: 'POST /v1/referral-links',
    label: "from org-b's provider outside editor B's area",
    expect: writers(201),
    request: async (c) => ({
      method: 'POST',
      url: '/v1/referral-links',
      payload: { from_provider_id: await c.provider('B', 'A'), to_provider_id: await c.provider('B', 'B'), categories: ['legal'], basis: 'informal' },
    }),
  },
  {
    op: 'PATCH /v1/referral-links/{id}',
    label: "from org-a's provider to org-b's",
    expect: writers(200, 'editorA'),
    request: async (c) => {
      const id = await insertLink(c.db, { from: await c.provider('A', 'A'), to: await c.provider('B', 'B'), categories: ['legal'] })
      return { method: 'PATCH', url: `/v1/referral-links/${id}`, headers: ifMatch, payload: { notes: 'changed' } }
    },
  },
  {
    op: 'PATCH /v1/referral-links/{id}',
    label: "from org-b's provider inside editor B's area to org-a's",
    expect: writers(200, 'editorB'),
    request: async (c) => {
      const id = await insertLink(c.db, { from: await c.provider('B', 'B'), to: await c.provider('A', 'A'), categories: ['legal'] })
      return { method: 'PATCH', url: `/v1/referral-links/${id}`, headers: ifMatch, payload: { notes: 'changed' } }
    },
  },

  // MOUs: any key reads them and their history; an MOU belongs to its provider's organisation.
  { op: 'GET /v1/mous', expect: keyed(200), request: () => get('/v1/mous?area=BD40') },
  { op: 'GET /v1/mous/{id}', expect: keyed(200), request: ({ fx }) => get(`/v1/mous/${fx.mou}`) },
  { op: 'GET /v1/mous/{id}/history', expect: keyed(200), request: ({ fx }) => get(`/v1/mous/${fx.mou}/history`) },
  {
    op: 'POST /v1/providers/{id}/mous',
    label: "for org-a's provider",
    expect: writers(201, 'editorA'),
    request: async (c) => ({ method: 'POST', url: `/v1/providers/${await c.provider('A', 'A')}/mous`, payload: mouBody }),
  },
  {
    op: 'POST /v1/providers/{id}/mous',
    label: "for org-b's provider inside editor B's area",
    expect: writers(201, 'editorB'),
    request: async (c) => ({ method: 'POST', url: `/v1/providers/${await c.provider('B', 'B')}/mous`, payload: mouBody }),
  },
  {
    op: 'POST /v1/providers/{id}/mous',
    label: "for org-b's provider outside editor B's area",
    expect: writers(201),
    request: async (c) => ({ method: 'POST', url: `/v1/providers/${await c.provider('B', 'A')}/mous`, payload: mouBody }),
  },
  {
    op: 'PATCH /v1/mous/{id}',
    label: "of org-a's provider",
    expect: writers(200, 'editorA'),
    request: async (c) => {
      const id = await insertMou(c.db, { provider_id: await c.provider('A', 'A'), categories: ['legal'] })
      return { method: 'PATCH', url: `/v1/mous/${id}`, headers: ifMatch, payload: { notes: 'changed' } }
    },
  },
  {
    op: 'PATCH /v1/mous/{id}',
    label: "of org-b's provider inside editor B's area",
    expect: writers(200, 'editorB'),
    request: async (c) => {
      const id = await insertMou(c.db, { provider_id: await c.provider('B', 'B'), categories: ['legal'] })
      return { method: 'PATCH', url: `/v1/mous/${id}`, headers: ifMatch, payload: { notes: 'changed' } }
    },
  },

  // Pathways: any key.
  { op: 'GET /v1/pathways', expect: keyed(200), request: ({ fx }) => get(`/v1/pathways?from=${fx.focalA}&category=legal`) },

  // Keys, organisations and the audit trail: admins only.
  // Issue 9: analytics.
  { op: 'GET /v1/stats', expect: { ...adminOnly(200), analyst: 200 }, request: () => get('/v1/stats?country=BGD') },
  { op: 'GET /v1/keys', expect: adminOnly(200), request: () => get('/v1/keys') },
  { op: 'GET /v1/keys/{id}', expect: adminOnly(200), request: (c) => get(`/v1/keys/${c.callers.keys.editorA.id}`) },
  { op: 'POST /v1/keys', expect: adminOnly(201), request: (c) => ({ method: 'POST', url: '/v1/keys', payload: newKeyBody(c) }) },
  {
    op: 'DELETE /v1/keys/{id}',
    expect: adminOnly(200),
    request: async (c) => ({ method: 'DELETE', url: `/v1/keys/${(await keyFor(c.db, 'viewer', { organisation: ORG_A })).id}`, headers: ifMatch }),
  },
  { op: 'GET /v1/organisations', expect: adminOnly(200), request: () => get('/v1/organisations') },
  { op: 'GET /v1/organisations/{id}', expect: adminOnly(200), request: (c) => get(`/v1/organisations/${c.callers.orgB}`) },
  { op: 'POST /v1/organisations', expect: adminOnly(201), request: (c) => ({ method: 'POST', url: '/v1/organisations', payload: { name: `roles test org ${c.unique()}` } }) },
  { op: 'GET /v1/audit', expect: adminOnly(200), request: () => get('/v1/audit') },

  // Map tiles (issue 10): anyone; what a tile shows of a provider depends on the key (leak-sweep.test.ts).
  { op: 'GET /v1/tiles/{layer}/{z}/{x}/{y}.mvt', label: 'areas', expect: everyone(200), request: () => get(tileUrl('areas', tileOf(IN_A.lat, IN_A.lon, 8))) },
  { op: 'GET /v1/tiles/{layer}/{z}/{x}/{y}.mvt', label: 'providers', expect: everyone(200), request: () => get(tileUrl('providers', tileOf(IN_A.lat, IN_A.lon, 12))) },
  { op: 'GET /v1/tiles/{layer}.json', expect: everyone(200), request: () => get('/v1/tiles/providers.json') },

  // Coverage (issue 9): analysts and admins.
  { op: 'GET /v1/coverage', expect: { ...adminOnly(200), analyst: 200 }, request: () => get('/v1/coverage?country=BGD&admin_level=2&parent=BD40') },
  { op: 'GET /v1/coverage', label: 'as CSV', expect: { ...adminOnly(200), analyst: 200 }, request: () => get('/v1/coverage?country=BGD&admin_level=3&format=csv') },
]

async function setUpFixtures(db: Db, callers: Callers) {
  await insertAreas(db)
  const providerA = await insertOwnedProvider(db, { name: 'Org A legal aid', organisationId: callers.orgA, ...IN_A })
  const providerB = await insertOwnedProvider(db, { name: 'Org B clinic', organisationId: callers.orgB, ...IN_B })
  const focalA = await insertOwnedProvider(db, {
    name: 'Org A focal point',
    organisationId: callers.orgA,
    kind: 'focal_point',
    categories: ['counselling'],
    lat: 23.2,
    lon: 89.2,
  })
  await insertLink(db, { from: focalA, to: providerA, categories: ['legal'] })
  const link = await insertLink(db, { from: providerA, to: providerB, categories: ['legal'] })
  const mou = await insertMou(db, { provider_id: providerA, categories: ['legal'] })
  return { providerA, providerB, focalA, link, mou }
}
type Fixtures = Awaited<ReturnType<typeof setUpFixtures>>

const isProblem = (res: LightMyRequestResponse) => /^application\/problem\+json/.test(String(res.headers['content-type']))

const changedTables = (before: Record<string, string>, after: Record<string, string>) =>
  Object.keys(before).filter((k) => before[k] !== after[k]).map((k) => `${k}: ${before[k]} → ${after[k]}`)

t.test('every role against every route family', async (t) => {
  // No default key: a request without an Authorization header is anonymous.
  const { app, db } = await buildTestApp(t, {}, { auth: 'none' })
  const conformance = conformanceOf(app)
  // Drift from the document is reported at the end, not thrown from inside a case.
  conformance.throwOnViolation = false
  const callers = await makeCallers(db, { editorBAreas: ['BD4047'] })
  const fx = await setUpFixtures(db, callers)
  const doc = await openapiOf(app)
  let counter = 0
  const ctx: Ctx = {
    db,
    doc,
    callers,
    fx,
    unique: () => String(++counter),
    provider: (owner, at) =>
      insertOwnedProvider(db, {
        name: `Target ${owner}${at} ${++counter}`,
        organisationId: owner === 'A' ? callers.orgA : callers.orgB,
        ...(at === 'A' ? IN_A : IN_B),
      }),
  }

  const operations = operationsOf(doc)
  const documented = new Set(operations.map((o) => o.name))
  const tabled = new Set(cases.filter((c) => !c.undocumented).map((c) => c.op))
  t.same(operations.map((o) => o.name).filter((n) => !tabled.has(n)), [], 'every operation in /openapi.json has a row in the table')
  t.same([...tabled].filter((n) => !documented.has(n)), [], 'every operation of the table is in /openapi.json (issue 8 adds keys, organisations, audit, provider history)')
  const runnable = cases.filter((c) => c.undocumented || documented.has(c.op))

  for (const c of runnable) {
    await t.test(`${c.op}${c.label ? ` (${c.label})` : ''}`, async (t) => {
      for (const caller of CALLERS) {
        const request = await c.request(ctx)
        const before = await tablesSnapshot(db)
        const res = await app.inject({
          method: request.method ?? 'GET',
          url: request.url,
          headers: { ...request.headers, ...callers.headers(caller) },
          ...(request.payload !== undefined ? { payload: request.payload as InjectOptions['payload'] } : {}),
        })
        const after = await tablesSnapshot(db)
        const expected = c.expect[caller]
        const answer = `${res.statusCode} ${short(res.body, 400)}`
        t.equal(res.statusCode, expected, `${caller}: ${expected}`, { got: answer })
        const write = (request.method ?? 'GET') !== 'GET'
        if (res.statusCode >= 400) {
          t.same(changedTables(before, after), [], `${caller}: the refused ${request.method ?? 'GET'} changed nothing`)
          t.ok(isProblem(res), `${caller}: the refusal is application/problem+json`)
          if (res.statusCode === 401 || res.statusCode === 403) t.match(res.json(), { status: res.statusCode, title: String }, `${caller}: a ${res.statusCode} problem`)
        } else if (write && res.statusCode < 300) {
          // The snapshot sees a write, so its staying equal above means something; and the write names its key.
          t.not(changedTables(before, after).length, 0, `${caller}: the allowed ${request.method} changed the tables`)
          if (caller !== 'anonymous') {
            const sinceId = Number(before.audit_log.split('/')[1])
            const { rows } = await db.execute<{ n: number }>(
              sql`SELECT count(*)::int AS n FROM audit_log WHERE id > ${sinceId} AND key_id = ${callers.keys[caller].id}::uuid`,
            )
            t.ok(rows[0].n > 0, `${caller}: the audit trail records the write under the caller's key`)
          }
        }
      }
    })
  }

  await t.test('unknown, revoked and malformed keys are 401 on every route, public ones included', async (t) => {
    const revoked = await keyFor(db, 'admin')
    await db.execute(sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${revoked.id}::uuid`)
    const wellFormedUnknown = `setu_${'A'.repeat(43)}`
    const badKeys: Record<string, string> = {
      'an unknown key': `Bearer ${wellFormedUnknown}`,
      "a revoked admin's key": revoked.authorization,
      'a malformed key': 'Bearer not-a-key',
      'another scheme': `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      'a key without its scheme': callers.keys.admin.key,
    }
    const seen = new Set<string>()
    for (const c of runnable) {
      if (seen.has(c.op)) continue
      seen.add(c.op)
      for (const [what, authorization] of Object.entries(badKeys)) {
        const request = await c.request(ctx)
        const before = await tablesSnapshot(db)
        const res = await app.inject({
          method: request.method ?? 'GET',
          url: request.url,
          headers: { ...request.headers, authorization },
          ...(request.payload !== undefined ? { payload: request.payload as InjectOptions['payload'] } : {}),
        })
        t.equal(res.statusCode, 401, `${c.op} with ${what}`, { body: short(res.body, 300) })
        t.ok(isProblem(res), `${c.op} with ${what}: a problem document`)
        t.same(changedTables(before, await tablesSnapshot(db)), [], `${c.op} with ${what}: nothing changed`)
      }
    }
  })

  const violations = conformance.take()
  t.same(violations.map(formatViolation), [], 'every answer matches /openapi.json')
})

