// A property-based sweep of /openapi.json: every parameter and body field of every operation gets
// hostile values (NUL and other control characters, 10,000-character strings, RTL overrides, quotes,
// SQL-looking text, extreme numbers, edge dates, wrong types), one field at a time in an otherwise
// valid request, so that the value reaches as deep into the handler as validation lets it. Whatever
// the value, the answer must not be a 5xx, a 4xx must be a problem document, and a refused write must
// leave every table as it was.
import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { DEMO_ORGANISATION_ID } from '../../src/modules/access/keys.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { conformanceOf, formatViolation } from '../helpers/conformance.js'
import { insertArea, insertVerifiedProvider } from '../helpers/factories.js'
import { rowsChecksum } from '../helpers/rows.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20250007)
// Generated values per field, after the fixed examples every field gets (see examplesFor).
const RUNS = Number(process.env.FUZZ_RUNS ?? 6)
// FUZZ_ALL=1 keeps going after a field's first failure and lists every distinct failing answer:
// slower, for seeing everything that is left to fix rather than for CI.
const ALL = process.env.FUZZ_ALL === '1'

// ---------------------------------------------------------------------------------------------------
// Hostile values

/** A value sent without percent-encoding, for malformed escapes in paths and query strings. */
class Raw {
  constructor(readonly text: string) {}
}

/** A cursor as the API encodes one, around a key of our choosing: printed as the key, sent encoded. */
class Cursor {
  constructor(readonly key: unknown) {}
  get text() {
    return Buffer.from(JSON.stringify(this.key), 'utf8').toString('base64url')
  }
}

/** A generated value with a short printed form: fast-check prints it in the counterexample. */
class Shown {
  constructor(readonly value: unknown) {}
  [fc.toStringMethod]() {
    const v = this.value
    const s = v instanceof Raw ? `raw ${JSON.stringify(v.text)}` : v instanceof Cursor ? `cursor of ${fc.stringify(v.key)}` : fc.stringify(v)
    return s.length > 160 ? `${s.slice(0, 60)}… (${s.length} characters)` : s
  }
}

const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => !'\t\n\r'.includes(c))
const INSERTS = [...C0, '\u007f', '\u202e', '\u2066', '\u200b', '\ufeff', '\u2028', '\ud800', '%', '%00', '%%', '\\', '\\0', "'", '"', '`', "';--", '$1', '\n', '\t', '\r']
const STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\u202eevil', 'x'.repeat(10_000), 'é'.repeat(10_000), '%', '%00', '%25', '\\', '\\\\', "'", '"',
  "' OR '1'='1", "'; DROP TABLE providers; --", 'x"); DROP TABLE mous;--', '1 UNION SELECT NULL--', '$$;$$', '%_%', '*',
  '../../etc/passwd', '<script>alert(1)</script>', '\ud800', '👩🏽‍⚕️', 'null', 'undefined', 'true', '[]', '{}',
  'NaN', 'Infinity', '-Infinity', '1e308', '-1e308', '0000-01-01',
]
const DATES = [
  '0000-01-01', '9999-12-31', '1899-12-31', '2101-01-01', '2024-02-30', '2023-02-29', '0001-01-01', '1900-01-01', '2100-12-31',
  '10000-01-01', '-001-01-01', '2024-13-01', '2024-00-10', '2024-01-00', '2024-1-1', '20240101', '2024-01-01T00:00:00Z',
  ' 2024-01-01', 'infinity', '-infinity', 'epoch', 'today', 'allballs',
]
const JSON_NUMBERS = [1e308, -1e308, Number.MIN_VALUE, 0, -1, 1.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 32768, -32769, 1e21]
const NUMBER_STRINGS = [
  'NaN', 'Infinity', '-Infinity', '1e308', '-1e308', '1e309', '5e-324', '1e-400', '0x10', '1_000', ' 1', '+5', '-0', '00012',
  '1.5', '9007199254740993', '32768', '2147483648', '1e21', 'abc', '1,2',
]
const UUIDS = [
  '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
  '0b7e3a52-52f4-9c57-9a53-1f6f0d3b8f11', '{0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11}', '0b7e3a5252f44c579a531f6f0d3b8f11',
]
const WRONG_TYPES: unknown[] = [null, true, 0, -1, 1e308, '', 'x', [], {}, ['a\u0000b'], { a: 'a\u0000b' }, [[[[[[[[[[]]]]]]]]]]]
const RAW = ['%', '%zz', '%00', '%C0%80', '%E0%A4%A', '..', '%2e%2e', '%2F', ';', '%u0000', '%%00']

const pad = (n: number, w: number) => String(n).padStart(w, '0')
const anyDate = fc
  .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
  .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`)
const headerSafe = (v: unknown) => typeof v === 'string' && /^[\t\x20-\x7e\x80-\xff]*$/.test(v)

type Kind = 'string' | 'date' | 'uuid' | 'number' | 'boolean' | 'array' | 'object' | 'cursor'
type Where = 'path' | 'query' | 'header' | 'body'

const SOME_ID = '0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11'
const insertAt = (s: string, at: number, c: string) => s.slice(0, at) + c + s.slice(at)

/** Values every field gets, whatever the seed: the reproductions of issue 7 and their kin. */
function examplesFor(kind: Kind, valid: unknown, where: Where): unknown[] {
  const s = typeof valid === 'string' && valid.length > 0 ? valid : 'ab'
  const mid = Math.ceil(s.length / 2)
  const out: unknown[] = []
  if (kind === 'date') out.push('0000-01-01', '9999-12-31', '1899-12-31', '2101-01-01', '2024-02-30')
  if (kind === 'cursor') {
    out.push(new Cursor(['a\u0000b', SOME_ID]), new Cursor(['0000-01-01', SOME_ID]), new Cursor({ a: 1 }), 'not base64!')
  }
  out.push(insertAt(s, mid, '\u0000'), insertAt(s, mid, '\u001b'), '\u202e' + s, `${s}' OR '1'='1`, 'x'.repeat(10_000))
  if (kind === 'number') out.push(where === 'body' ? 1e308 : '1e308', where === 'body' ? -1e308 : 'NaN')
  if (where === 'body') out.push(kind === 'string' || kind === 'date' || kind === 'uuid' ? 42 : 'x')
  if (kind === 'array' && Array.isArray(valid) && valid.length) out.push([valid[0], valid[0]])
  return out
}

function hostileValues(kind: Kind, valid: unknown, where: Where): fc.Arbitrary<unknown> {
  const parts: Array<{ weight: number; arbitrary: fc.Arbitrary<unknown> }> = []
  if (typeof valid === 'string') {
    parts.push({ weight: 4, arbitrary: fc.tuple(fc.nat({ max: valid.length }), fc.constantFrom(...INSERTS)).map(([i, c]) => insertAt(valid, i, c)) })
  }
  parts.push({ weight: 2, arbitrary: fc.constantFrom(...STRINGS) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) })
  if (kind === 'date') parts.push({ weight: 3, arbitrary: fc.constantFrom(...DATES) }, { weight: 2, arbitrary: anyDate })
  if (kind === 'uuid') parts.push({ weight: 2, arbitrary: fc.constantFrom(...UUIDS) })
  if (kind === 'number') {
    parts.push(
      where === 'body'
        ? { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...JSON_NUMBERS), fc.double(), fc.integer()) }
        : { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...NUMBER_STRINGS), fc.double().map(String)) },
    )
  }
  if (kind === 'cursor') {
    const keyPart = fc.oneof(fc.constantFrom(...STRINGS, ...DATES, ...JSON_NUMBERS, null), fc.uuid())
    parts.push({ weight: 4, arbitrary: fc.array(keyPart, { minLength: 1, maxLength: 3 }).map((key) => new Cursor(key)) })
  }
  if (where === 'body') {
    parts.push({ weight: 2, arbitrary: fc.constantFrom(...WRONG_TYPES) })
    if (Array.isArray(valid) && valid.length) {
      parts.push({ weight: 1, arbitrary: fc.constantFrom<unknown>([], [valid[0], valid[0]], Array(10_000).fill(valid[0])) })
    }
    if (valid && typeof valid === 'object' && !Array.isArray(valid)) {
      parts.push({
        weight: 1,
        arbitrary: fc.constantFrom<unknown>({}, { ...valid, unexpected: 'x' }, { ...valid, ['__proto__']: { polluted: true } }, { ...valid, constructor: { prototype: { polluted: true } } }),
      })
    }
  }
  if (where === 'query') parts.push({ weight: 1, arbitrary: fc.array(fc.constantFrom(...STRINGS), { minLength: 2, maxLength: 3 }) })
  if (where === 'query' || where === 'path') parts.push({ weight: 1, arbitrary: fc.constantFrom(...RAW).map((r) => new Raw(r)) })
  const all = fc.oneof(...parts)
  return where === 'header' ? all.filter(headerSafe) : all
}

// ---------------------------------------------------------------------------------------------------
// Requests

type QueryValue = string | string[] | Raw
interface Spec {
  path: Record<string, string | Raw>
  query: Record<string, QueryValue>
  headers: Record<string, string>
  body?: unknown
}
const spec = (s: Partial<Spec> = {}): Spec => ({ path: {}, query: {}, headers: {}, ...s })

type Key = string | number
interface Slot {
  where: Where
  name: string
  at: Key[]
  kind: Kind
  valid: unknown
}
const label = (s: Slot) =>
  s.where === 'body' ? `body${s.at.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}` : `${s.where}.${s.name}`

// A lone surrogate has no UTF-8 form, so encodeURIComponent refuses it; a client can still send the
// bytes a careless encoder makes of it (WTF-8, e.g. %ED%A0%80), which is what the server must survive.
const percentEncode = (s: string) =>
  s.replace(/[\s\S]/gu, (c) => {
    if (c.length === 2 || c.charCodeAt(0) < 0xd800 || c.charCodeAt(0) > 0xdfff) return encodeURIComponent(c)
    const u = c.charCodeAt(0)
    return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
  })
const encode = (v: unknown) => (v instanceof Raw ? v.text : percentEncode(String(v)))

function toInject(method: string, route: string, s: Spec): InjectOptions {
  const path = route.replace(/\{([^}]+)\}/g, (_, name: string) => encode(s.path[name] ?? ''))
  const query = Object.entries(s.query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${percentEncode(k)}=${encode(one)}`))
    .join('&')
  const url = query ? `${path}?${query}` : path
  const opts: InjectOptions = { method: method as InjectOptions['method'], url, headers: { ...s.headers } }
  if (s.body !== undefined) {
    opts.payload = JSON.stringify(s.body)
    opts.headers = { ...opts.headers, 'content-type': 'application/json' }
  }
  return opts
}

function setIn(root: unknown, at: Key[], value: unknown): unknown {
  if (at.length === 0) return value
  const [head, ...rest] = at
  const container = (Array.isArray(root) ? [...root] : root && typeof root === 'object' ? { ...root } : typeof head === 'number' ? [] : {}) as Record<Key, unknown>
  container[head] = setIn(container[head], rest, value)
  return container
}

function getIn(root: unknown, at: Key[]): unknown {
  let v = root
  for (const k of at) v = v && typeof v === 'object' ? (v as Record<Key, unknown>)[k] : undefined
  return v
}

function mutate(valid: Spec, slot: Slot, value: unknown, companions: Record<string, string | undefined> = {}): Spec {
  if (value instanceof Cursor) value = value.text
  const s = spec({ path: { ...valid.path }, query: { ...valid.query }, headers: { ...valid.headers }, body: valid.body })
  if (slot.where === 'path') s.path[slot.name] = value instanceof Raw ? value : String(value)
  if (slot.where === 'header') s.headers[slot.name] = String(value)
  if (slot.where === 'query') {
    for (const [k, v] of Object.entries(companions)) {
      if (v === undefined) delete s.query[k]
      else s.query[k] = v
    }
    s.query[slot.name] = value instanceof Raw || Array.isArray(value) ? (value as QueryValue) : String(value)
  }
  if (slot.where === 'body') s.body = setIn(valid.body, slot.at, value)
  return s
}

// ---------------------------------------------------------------------------------------------------
// The operations: a valid request for each, built on rows made through the API

type JsonSchema = Record<string, unknown>
interface Operation {
  method: string
  route: string
  parameters: Array<{ in: string; name: string; schema?: JsonSchema }>
  body?: JsonSchema
}

const JESSORE = { lat: 23.1667, lon: 89.2083 }

const providerBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  names: { en: name, bn: 'নারী সহায়তা কেন্দ্র' },
  kind: 'ngo',
  categories: ['health', 'legal', 'counselling'],
  services: [{ category: 'counselling', name: 'Trauma counselling', description: 'Individual sessions in Bangla' }],
  location: JESSORE,
  address: 'Jessore Sadar, Jessore',
  phones: ['+8801700000000'],
  email: 'help@example.org',
  website: 'https://example.org/jessore',
  languages: ['bn', 'en-GB'],
  eligibility: { genders: ['female'], min_age: 18, max_age: 60, requires: ['referral_letter'] },
  cost: 'free',
  capacity: 24,
  opening_hours: 'Sa-Th 09:00-17:00',
  status: 'active',
  funded_until: '2030-06-30',
  verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
  external_ids: [{ scheme: 'ngoab', id: '2214' }],
  notes: 'Created by the hostile-input sweep',
  ...extra,
})

const mouBody = {
  counterparty: 'Ministry of Women and Children Affairs',
  funding_project: 'Safe Return 2024–2026',
  counterparty_level: 'district',
  counterparty_area: 'BD4041',
  categories: ['health', 'legal'],
  status: 'signed',
  signed_on: '2024-07-01',
  expires_on: '2030-12-31',
  document_ref: 'MoWCA/2024/117',
  notes: 'sweep',
  status_note: 'signed at the district office',
}

async function created(app: FastifyInstance, url: string, payload: unknown): Promise<string> {
  const res = await app.inject({ method: 'POST', url, payload: payload as InjectOptions['payload'] })
  if (res.statusCode !== 201) throw new Error(`setting up: POST ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json().id
}

async function setUp(app: FastifyInstance, db: Db) {
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] })
  await insertArea(db, { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] })
  const from = await created(app, '/v1/providers', providerBody('Fuzz Referring Centre'))
  const to = await created(app, '/v1/providers', providerBody('Fuzz Legal Aid'))
  const focal = await created(app, '/v1/providers', providerBody('Fuzz Focal Point', { kind: 'focal_point', external_ids: [] }))
  const patched = await created(app, '/v1/providers', providerBody('Fuzz Patched'))
  const closed = await created(app, '/v1/providers', providerBody('Fuzz Closed'))
  const link = await created(app, '/v1/referral-links', { from_provider_id: from, to_provider_id: to, categories: ['legal'], basis: 'mou', established_on: '2024-03-01' })
  await created(app, '/v1/referral-links', { from_provider_id: focal, to_provider_id: from, categories: ['legal'], basis: 'informal' })
  const patchedLink = await created(app, '/v1/referral-links', { from_provider_id: to, to_provider_id: from, categories: ['health'], basis: 'sop' })
  const mou = await created(app, `/v1/providers/${from}/mous`, mouBody)
  const patchedMou = await created(app, `/v1/providers/${from}/mous`, mouBody)
  const organisation = await created(app, '/v1/organisations', { name: 'Fuzz Partner' })
  const key = await created(app, '/v1/keys', { organisation_id: organisation, role: 'analyst' })
  return { from, to, focal, patched, closed, link, patchedLink, mou, patchedMou, organisation, key }
}
type Fixtures = Awaited<ReturnType<typeof setUp>>

interface Plan {
  valid(fx: Fixtures, db: Db): Spec | Promise<Spec>
  /** Valid parameters that must accompany a mutated one (undefined: drop it). */
  companions?: Record<string, Record<string, string | undefined>>
}

const listFormat = { limit: '10', format: 'json' }
let organisations = 0
let hsdsIds = 0
const plans: Record<string, Plan> = {
  'GET /healthz': { valid: () => spec() },
  'GET /readyz': { valid: () => spec() },
  'GET /v1': { valid: () => spec() },
  'GET /': { valid: () => spec() },
  'GET /v1/areas': { valid: () => spec({ query: { country: 'BGD', admin_level: '2', parent: 'BD40', q: 'jess', geometry: 'false', ...listFormat } }) },
  'GET /v1/areas/locate': { valid: () => spec({ query: { lat: '23.1', lon: '89.2' } }) },
  'GET /v1/areas/{pcode}': { valid: () => spec({ path: { pcode: 'BD4041' }, query: { geometry: 'false', format: 'json' } }) },
  'GET /v1/areas/{pcode}/network': { valid: () => spec({ path: { pcode: 'BD4041' } }) },
  'GET /v1/providers/nearest': {
    valid: () =>
      spec({
        query: { lat: '23.1', lon: '89.2', category: 'legal', limit: '5', max_km: '50', gender: 'female', age: '30', cost: 'free', not_requiring: 'court_order,formal_identification', kind: 'ngo', not_kind: 'focal_point,private', status: 'active', mou_status: 'signed', format: 'json' },
      }),
  },
  'GET /v1/providers': {
    valid: () =>
      spec({
        query: { category: 'legal', kind: 'ngo', status: 'active', area: 'BD4041', q: 'fuzz', funded_after: '2020-01-01', verified_since: '2020-01-01', external_id: 'ngoab:2214', mou_status: 'signed', ...listFormat },
      }),
    companions: {
      lat: { lon: '89.2', radius_km: '10' },
      lon: { lat: '23.1', radius_km: '10' },
      radius_km: { lat: '23.1', lon: '89.2' },
    },
  },
  'GET /v1/providers/export': {
    valid: () =>
      spec({
        query: { category: 'legal', kind: 'ngo', status: 'active', area: 'BD4041', q: 'fuzz', funded_after: '2020-01-01', verified_since: '2020-01-01', external_id: 'ngoab:2214', mou_status: 'signed', format: 'hsds' },
      }),
    companions: {
      lat: { lon: '89.2', radius_km: '10' },
      lon: { lat: '23.1', radius_km: '10' },
      radius_km: { lat: '23.1', lon: '89.2' },
    },
  },
  'POST /v1/providers': { valid: () => spec({ body: providerBody('Fuzz New Provider') }) },
  'POST /v1/providers/bulk': { valid: () => spec({ body: { providers: [providerBody('Fuzz Bulk Provider')] } }) },
  // A new HSDS id each time, so that every value meets the create path (matching on an id is tried by the valid ones).
  'POST /v1/providers/import': {
    valid: () =>
      spec({
        query: { format: 'hsds', category: 'legal', kind: 'ngo' },
        body: {
          contents: [
            {
              id: `fuzz-hsds-${++hsdsIds}`,
              name: 'Fuzz HSDS Service',
              description: 'Sessions in Bangla',
              status: 'active',
              email: 'fuzz@example.org',
              url: 'https://example.org',
              minimum_age: 12,
              maximum_age: 60,
              phones: [{ number: '+8801700000000' }],
              languages: [{ code: 'bn' }],
              attributes: [{ taxonomy_term: { code: 'legal aid', name: 'Legal aid', taxonomy: 'setu' } }],
              organization: { id: 'fuzz-org', name: 'Fuzz Partner Directory' },
              service_at_locations: [
                { id: 'fuzz-sal', location: { id: 'fuzz-loc', location_type: 'physical', latitude: 23.1, longitude: 89.2, addresses: [{ address_1: 'Road 4', city: 'Jessore', country: 'BD' }] } },
              ],
            },
          ],
        },
      }),
  },
  'GET /v1/stats': { valid: () => spec({ query: { country: 'BGD', gap_km: '25' } }) },
  'GET /v1/providers/{id}': { valid: (fx) => spec({ path: { id: fx.from } }) },
  'PATCH /v1/providers/{id}': { valid: (fx) => spec({ path: { id: fx.patched }, body: providerBody('Fuzz Patched') }) },
  'DELETE /v1/providers/{id}': { valid: (fx) => spec({ path: { id: fx.closed } }) },
  'GET /v1/providers/{id}/referral-links': {
    valid: (fx) => spec({ path: { id: fx.from }, query: { direction: 'outgoing', health: 'ok', status: 'active', ...listFormat } }),
  },
  // A new pair each time: a second link between the same providers is a conflict before any value is stored.
  'POST /v1/referral-links': {
    valid: async (fx, db) => {
      const from = await insertVerifiedProvider(db, { ...JESSORE, categories: ['health', 'legal'] })
      const to = await insertVerifiedProvider(db, { ...JESSORE, categories: ['health', 'legal'] })
      return spec({
        body: { from_provider_id: from, to_provider_id: to, categories: ['legal'], basis: 'mou', status: 'active', established_on: '2024-03-01', last_used_on: '2024-06-01', notes: 'sweep' },
      })
    },
  },
  'GET /v1/referral-links': {
    valid: (fx) => spec({ query: { provider: fx.from, from: fx.from, to: fx.to, category: 'legal', basis: 'mou', status: 'active', area: 'BD4041', health: 'ok', ...listFormat } }),
  },
  'GET /v1/referral-links/{id}': { valid: (fx) => spec({ path: { id: fx.link } }) },
  'PATCH /v1/referral-links/{id}': {
    valid: (fx) =>
      spec({
        path: { id: fx.patchedLink },
        body: { categories: ['health'], basis: 'sop', status: 'active', established_on: '2024-01-01', last_used_on: '2024-06-01', notes: 'sweep' },
      }),
  },
  'GET /v1/mous': { valid: (fx) => spec({ query: { status: 'signed', provider: fx.from, category: 'health', area: 'BD4041', expiring_within_days: '60', limit: '10' } }) },
  'GET /v1/mous/{id}': { valid: (fx) => spec({ path: { id: fx.mou } }) },
  'GET /v1/mous/{id}/history': { valid: (fx) => spec({ path: { id: fx.mou } }) },
  'PATCH /v1/mous/{id}': {
    valid: (fx) => {
      const { status: _status, ...rest } = mouBody
      return spec({ path: { id: fx.patchedMou }, body: rest })
    },
  },
  'POST /v1/providers/{id}/mous': { valid: (fx) => spec({ path: { id: fx.from }, body: mouBody }) },
  // Access: keys and organisations (admin), the audit trail, provider history. A fresh key or organisation for
  // each request that writes one, so that no value is refused for a name taken by an earlier run, and the
  // revocations never touch the admin key the sweep itself sends.
  'POST /v1/keys': {
    valid: (fx) => spec({ body: { organisation_id: fx.organisation, role: 'editor', areas: ['BD4041'], label: 'sweep key' } }),
  },
  'GET /v1/keys': { valid: (fx) => spec({ query: { organisation: fx.organisation, limit: '10' } }) },
  'GET /v1/keys/{id}': { valid: (fx) => spec({ path: { id: fx.key } }) },
  'DELETE /v1/keys/{id}': {
    valid: async (_fx, db) => spec({ path: { id: (await keyFor(db, 'viewer', { organisation: 'Fuzz Partner' })).id }, headers: { 'if-match': '"1"' } }),
  },
  'GET /v1/organisations': { valid: () => spec({ query: { limit: '10' } }) },
  'POST /v1/organisations': { valid: () => spec({ body: { name: `Fuzz Organisation ${++organisations}` } }) },
  'GET /v1/organisations/{id}': { valid: (fx) => spec({ path: { id: fx.organisation } }) },
  'GET /v1/audit': {
    valid: (fx) =>
      spec({
        query: { entity: 'provider', entity_id: fx.patched, org: DEMO_ORGANISATION_ID, since: '2020-01-01T00:00:00Z', until: '2100-01-01T00:00:00+06:00', order: 'oldest', limit: '10' },
      }),
  },
  'GET /v1/providers/{id}/history': { valid: (fx) => spec({ path: { id: fx.patched }, query: { order: 'oldest', limit: '10' } }) },
  'GET /v1/coverage': {
    valid: () => spec({ query: { country: 'BGD', admin_level: '2', parent: 'BD40', category: 'legal', gap_km: '25', simplify: '100', format: 'json' } }),
  },
  // Issue 10: a zoom-8 tile over Jessore (the fixture's areas), and a TileJSON document.
  'GET /v1/tiles/{layer}/{z}/{x}/{y}.mvt': { valid: () => spec({ path: { layer: 'areas', z: '8', x: '191', y: '111' } }) },
  'GET /v1/tiles/{layer}.json': { valid: () => spec({ path: { layer: 'providers' } }) },
  'GET /v1/pathways': {
    valid: (fx) => spec({ query: { from: fx.focal, category: 'legal', max_hops: '3', limit: '5' } }),
    companions: { lat: { from: undefined, lon: '89.2' }, lon: { from: undefined, lat: '23.1' } },
  },
}

// ---------------------------------------------------------------------------------------------------
// Which fields an operation has: its documented parameters, and every body field of its documented
// schema and of its valid body (the bulk rows are untyped in the schema but not in the valid body).

function deref(doc: JsonSchema, schema: unknown): JsonSchema {
  let s = (schema ?? {}) as JsonSchema
  for (let i = 0; typeof s.$ref === 'string' && i < 10; i++) {
    s = (s.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, k) => (node as JsonSchema)[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc) as JsonSchema
  }
  return s
}

function kindOf(schema: JsonSchema, valid: unknown, name = ''): Kind {
  if (name === 'cursor') return 'cursor'
  if (typeof valid === 'number') return 'number'
  if (typeof valid === 'boolean') return 'boolean'
  if (Array.isArray(valid)) return 'array'
  if (valid && typeof valid === 'object') return 'object'
  if (schema.format === 'date') return 'date'
  if (schema.format === 'uuid') return 'uuid'
  if (schema.type === 'number' || schema.type === 'integer') return 'number'
  if (schema.type === 'array') return 'array'
  if (schema.type === 'object') return 'object'
  if (typeof valid === 'string' && /^\d{4}-\d\d-\d\d$/.test(valid)) return 'date'
  return 'string'
}

function bodySlots(doc: JsonSchema, schema: unknown, body: unknown): Slot[] {
  const found = new Map<string, { at: Key[]; schema: JsonSchema }>()
  const visit = (s: unknown, at: Key[], depth: number) => {
    const node = deref(doc, s)
    const key = JSON.stringify(at)
    // A nullable field is an anyOf: the branch that is not null says what the field is.
    if (!('type' in (found.get(key)?.schema ?? {}))) found.set(key, { at, schema: node })
    if (depth > 4) return
    for (const branch of [...((node.anyOf as unknown[]) ?? []), ...((node.oneOf as unknown[]) ?? [])]) {
      const b = deref(doc, branch)
      if (b.type !== 'null') visit(b, at, depth)
    }
    for (const [k, sub] of Object.entries((node.properties as Record<string, unknown>) ?? {})) visit(sub, [...at, k], depth + 1)
    if (node.items && typeof node.items === 'object') visit(node.items, [...at, 0], depth + 1)
  }
  visit(schema, [], 0)
  const walk = (v: unknown, at: Key[]) => {
    const key = JSON.stringify(at)
    if (!found.has(key)) found.set(key, { at, schema: {} })
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...at, i]))
    else if (v && typeof v === 'object') for (const [k, item] of Object.entries(v)) walk(item, [...at, k])
  }
  walk(body, [])
  return [...found.values()].map(({ at, schema: s }) => {
    const valid = getIn(body, at)
    return { where: 'body' as const, name: at.join('.'), at, kind: kindOf(s, valid), valid }
  })
}

function slotsOf(doc: JsonSchema, op: Operation, valid: Spec): Slot[] {
  const params = op.parameters.map((p) => {
    const where = p.in as Where
    const current = where === 'path' ? valid.path[p.name] : where === 'header' ? valid.headers[p.name] : valid.query[p.name]
    return { where, name: p.name, at: [], kind: kindOf(deref(doc, p.schema), current, p.name), valid: current ?? (p.schema?.example as unknown) }
  })
  return [...params, ...(op.body ? bodySlots(doc, op.body, valid.body) : [])]
}

// ---------------------------------------------------------------------------------------------------
// The sweep

/** A body for a test message: cut short, and with control characters escaped (a map tile is binary, and binary in
 * the TAP output makes grep treat the whole log as a binary file). */
const short = (s: string, n = 300) => {
  const printable = s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return printable.length > n ? `${printable.slice(0, n)}… (${s.length} characters)` : printable
}

t.test('hostile values in every parameter and body field of every operation', async (t) => {
  const { app, db } = await buildTestApp(t)
  const conformance = conformanceOf(app)
  const fx = await setUp(app, db)
  // Drift between the answers and the document is reported per operation below, apart from the
  // properties of the sweep itself.
  conformance.throwOnViolation = false
  const doc = (await app.inject({ url: '/openapi.json' })).json() as JsonSchema
  const operations: Operation[] = []
  for (const [route, item] of Object.entries(doc.paths as Record<string, Record<string, JsonSchema>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      const body = (op.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content?.['application/json']?.schema
      operations.push({ method: method.toUpperCase(), route, parameters: (op.parameters as Operation['parameters']) ?? [], body })
    }
  }
  const names = operations.map((o) => `${o.method} ${o.route}`)
  t.same(names.filter((n) => !plans[n]), [], 'every operation in /openapi.json has a valid request to start from')
  t.same(Object.keys(plans).filter((n) => !names.includes(n)), [], 'every planned operation is still in /openapi.json')
  t.comment(`fast-check seed ${SEED}, ${RUNS} generated values per field after the fixed examples (FUZZ_SEED, FUZZ_RUNS to change)`)

  let seed = SEED
  for (const op of operations) {
    const name = `${op.method} ${op.route}`
    const plan = plans[name]
    if (!plan) continue
    await t.test(name, async (t) => {
      const sample = await plan.valid(fx, db)
      const baseline = await app.inject(toInject(op.method, op.route, sample))
      t.ok(baseline.statusCode < 400, `the valid request succeeds (${baseline.statusCode} ${short(baseline.body, 200)})`)
      const write = op.method !== 'GET'
      /** What is wrong with the answer to one request, if anything. */
      const probe = async (request: Spec): Promise<string | undefined> => {
        const opts = toInject(op.method, op.route, request)
        const before = write ? await rowsChecksum(db) : undefined
        const res = await app.inject(opts)
        const answer = `${opts.method} ${short(String(opts.url), 160)} → ${res.statusCode} ${res.headers['content-type'] ?? ''}: ${short(res.body)}`
        if (res.statusCode >= 500) return `a server error: ${answer}`
        if (res.statusCode < 400) return undefined
        if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) return `a 4xx that is not application/problem+json: ${answer}`
        let problem: { type?: unknown; title?: unknown; status?: unknown }
        try {
          problem = res.json()
        } catch {
          return `a problem document that is not JSON: ${answer}`
        }
        if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== res.statusCode) {
          return `a problem without type, title and its status: ${answer}`
        }
        const after = write ? await rowsChecksum(db) : undefined
        if (after !== before) return `a refused write changed rows (${before} → ${after}): ${answer}`
        return undefined
      }
      for (const slot of slotsOf(doc, op, sample)) {
        const failures: string[] = []
        const property = fc.asyncProperty(hostileValues(slot.kind, slot.valid, slot.where).map((v) => new Shown(v)), async (shown) => {
          const failure = await probe(mutate(await plan.valid(fx, db), slot, shown.value, plan.companions?.[slot.name]))
          if (failure && !ALL) throw new Error(failure)
          if (failure) failures.push(`${shown[fc.toStringMethod]()}: ${failure}`)
        })
        const examples = examplesFor(slot.kind, slot.valid, slot.where)
          .filter((v) => slot.where !== 'header' || headerSafe(v))
          .map((v) => [new Shown(v)] as [Shown])
        const details = await fc.check(property, { seed: seed++, numRuns: RUNS + examples.length, examples, endOnFailure: true })
        if (details.failed) {
          // fast-check keeps the property's error as errorInstance; its report gives the counterexample and seed.
          const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
          t.fail(`${name} ${label(slot)}: ${error}\n${fc.defaultReportMessage(details)}`)
        } else if (failures.length) {
          t.fail(`${name} ${label(slot)}: ${failures.length} of ${details.numRuns} hostile values fail`, { failures })
        } else t.pass(`${name} ${label(slot)}: ${details.numRuns} hostile values`)
      }
      const drift = [...new Set(conformance.take().map(formatViolation))]
      if (drift.length) t.fail(`${drift.length} kinds of answer to ${name} that /openapi.json does not describe`, { drift })
      else t.pass(`every answer to ${name} matches /openapi.json`)
    })
  }
})
