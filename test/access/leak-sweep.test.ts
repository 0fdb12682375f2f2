// Issue 8's confidentiality sweep. Three shelters of org-a (approximate, hidden, and one created without the field,
// which a shelter defaults to approximate) are linked to and from, have MOUs and history, and lie on pathways; every
// GET operation in /openapi.json is asked, in every format, as an anonymous caller, a viewer and another
// organisation's editor, and no answer may carry a shelter's exact coordinates (at 3 decimals or more, in any
// spelling), its address, a point within 500 m of it other than an area's representative point, or an unrounded
// distance to it. The same requests by the owner's editor, an analyst and an admin must show the exact point (and
// the address where the resource has one): the sweep is known to see a leak when there is one.
import { sql } from 'drizzle-orm'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp } from '../helpers/app.js'
import { conformanceOf, formatViolation } from '../helpers/conformance.js'
import { decodeTile, tileBox, tileOf, tileUrl, unitDeg, type Tile } from '../tiles/mvt.js'
import {
  AREA_PCODES,
  areaRepPoints,
  haversineM,
  insertAreas,
  insertOwnedProvider,
  makeCallers,
  openapiOf,
  operationsOf,
  short,
  type CallerName,
  type Callers,
  type LatLon,
} from './fixtures.js'

const MASKED_CALLERS: CallerName[] = ['anonymous', 'viewer', 'editorB']
const SEEING_CALLERS: CallerName[] = ['editorA', 'analyst', 'admin']
/** How near a shown point may come to a masked shelter, unless it is an area's representative point. */
const NEAR_M = 500
const MAX_PAGES = 60

type ShelterKey = 'approximate' | 'hidden' | 'default'

// Coordinates with many decimals and addresses with words found nowhere else, so that any spelling of them in an
// answer is a leak and nothing else can look like one. All three lie in union BD404190, ≥ 2 km from its centre.
const SHELTERS: Record<ShelterKey, { name: string; lat: number; lon: number; address: string; word: string }> = {
  approximate: { name: 'Kestrel Haven', lat: 23.1734871, lon: 89.2361947, address: 'House 41, Kestrelwood Lane, Bagherpara 7470', word: 'Kestrelwood' },
  hidden: { name: 'Heron Haven', lat: 23.2418263, lon: 89.1872519, address: 'Plot 9B, Heronsgate Road, Dhalgram 7471', word: 'Heronsgate' },
  default: { name: 'Osprey Haven', lat: 23.1526384, lon: 89.3127456, address: 'Flat 3, Ospreymead Villa, Narikelbaria 7472', word: 'Ospreymead' },
}
const SHELTER_KEYS = Object.keys(SHELTERS) as ShelterKey[]
const EXTERNAL_ID = { scheme: 'ngoab', id: 'SH-7713' }

// Query points 1–3 km from the shelters: near enough to find them first, and sharing no 3-decimal prefix with them
// (an echoed query point must not look like a leak).
const QUERY_POINTS: LatLon[] = [
  { lat: 23.18, lon: 89.25 },
  { lat: 23.23, lon: 89.2 },
  { lat: 23.16, lon: 89.3 },
  { lat: 23.2, lon: 89.24 },
]

interface Shelter {
  key: ShelterKey
  id: string
  lat: number
  lon: number
  address: string
  word: string
  visibility: 'approximate' | 'hidden'
  /** What a masked caller may be shown: the representative point of the smallest area containing it, or nothing. */
  shownAt: LatLon | null
}

interface Fixtures {
  shelters: Shelter[]
  focalA: string
  focalB: string
  legal: string
  clinicB: string
  links: string[]
  /** Links with a hidden end: their line has no geometry for a masked caller. */
  hiddenLinks: string[]
  mous: string[]
  callers: Callers
  repPoints: LatLon[]
  /** What the API did not do as issue 8 says while the ground was laid (the owner or visibility of a shelter). */
  setupProblems: string[]
}

// ---------------------------------------------------------------------------------------------------
// The ground: built through the API where the write path matters (a shelter created without the field, links,
// MOUs, edits that make history), straight in SQL where the API has no say (the owner and visibility of the rest).

async function expectCreated(res: LightMyRequestResponse, what: string): Promise<string> {
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`setting up ${what}: ${res.statusCode} ${short(res.body, 500)}`)
  return res.json().id
}

async function setUp(app: FastifyInstance, db: Db): Promise<Fixtures> {
  await insertAreas(db)
  const callers = await makeCallers(db)
  const admin = callers.headers('admin')
  const editorA = callers.headers('editorA')
  const own = (org: 'A' | 'B') => (org === 'A' ? callers.orgA : callers.orgB)

  const ids = {} as Record<ShelterKey, string>
  for (const key of ['approximate', 'hidden'] as const) {
    const s = SHELTERS[key]
    ids[key] = await insertOwnedProvider(db, {
      name: s.name,
      organisationId: callers.orgA,
      categories: ['shelter', 'counselling'],
      lat: s.lat,
      lon: s.lon,
      address: s.address,
      visibility: key,
    })
  }
  // The owner's editor creates the third without naming a visibility: a shelter defaults to approximate.
  const d = SHELTERS.default
  ids.default = await expectCreated(
    await app.inject({
      method: 'POST',
      url: '/v1/providers',
      headers: editorA,
      payload: {
        name: d.name,
        kind: 'ngo',
        categories: ['shelter', 'counselling'],
        location: { lat: d.lat, lon: d.lon },
        address: d.address,
        phones: ['+8801700000001'],
        funded_until: '2099-12-31',
        verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
        external_ids: [EXTERNAL_ID],
      },
    }),
    'the default shelter',
  )
  // Verified today like the others: a link to a provider verified long ago is broken and pathways skip it.
  await db.execute(sql`UPDATE providers SET verified_on = setu_today() WHERE id = ${ids.default}`)

  const focalA = await insertOwnedProvider(db, { name: 'Focal point A', organisationId: own('A'), kind: 'focal_point', categories: ['counselling'], lat: 23.205, lon: 89.205 })
  const focalB = await insertOwnedProvider(db, { name: 'Focal point B', organisationId: own('B'), kind: 'focal_point', categories: ['counselling'], lat: 23.26, lon: 89.3 })
  const legal = await insertOwnedProvider(db, { name: 'Legal aid B', organisationId: own('B'), categories: ['legal', 'counselling'], lat: 23.135, lon: 89.2, address: 'Court Road 2' })
  const clinicB = await insertOwnedProvider(db, { name: 'Clinic B', organisationId: own('B'), categories: ['health'], lat: 22.55, lon: 89.65 })

  const link = async (from: string, to: string, categories: string[]) =>
    expectCreated(
      await app.inject({ method: 'POST', url: '/v1/referral-links', headers: admin, payload: { from_provider_id: from, to_provider_id: to, categories, basis: 'informal' } }),
      `a link ${from} → ${to}`,
    )
  const links: string[] = []
  const hiddenLinks: string[] = []
  for (const key of SHELTER_KEYS) {
    const into = await link(focalA, ids[key], ['shelter'])
    const out = await link(ids[key], legal, ['legal'])
    links.push(into, out)
    if (key === 'hidden') hiddenLinks.push(into, out)
  }
  links.push(await link(focalB, ids.approximate, ['shelter']))
  links.push(await link(legal, ids.default, ['counselling']))
  links.push(await link(clinicB, ids.approximate, ['shelter']))
  const between = await link(ids.approximate, ids.hidden, ['counselling'])
  links.push(between)
  hiddenLinks.push(between)

  const mous: string[] = []
  for (const key of SHELTER_KEYS) {
    mous.push(
      await expectCreated(
        await app.inject({
          method: 'POST',
          url: `/v1/providers/${ids[key]}/mous`,
          headers: admin,
          payload: { counterparty: 'Department of Social Services', counterparty_level: 'district', counterparty_area: 'BD4041', categories: ['shelter'], status: 'signed', signed_on: '2024-07-01', expires_on: '2030-12-31' },
        }),
        `an MOU of the ${key} shelter`,
      ),
    )
  }
  // History: each shelter edited by its owner's editor, one MOU edited by an admin.
  for (const key of SHELTER_KEYS) {
    const res = await app.inject({ method: 'PATCH', url: `/v1/providers/${ids[key]}`, headers: { ...editorA, 'if-match': '"1"' }, payload: { notes: `checked ${key}` } })
    if (res.statusCode !== 200) throw new Error(`setting up: the owner's editor could not edit the ${key} shelter: ${res.statusCode} ${short(res.body, 500)}`)
  }
  const patched = await app.inject({ method: 'PATCH', url: `/v1/mous/${mous[0]}`, headers: { ...admin, 'if-match': '"1"' }, payload: { notes: 'renewal discussed' } })
  if (patched.statusCode !== 200) throw new Error(`setting up: could not edit an MOU: ${patched.statusCode} ${short(patched.body, 500)}`)

  const shelters: Shelter[] = []
  const setupProblems: string[] = []
  for (const key of SHELTER_KEYS) {
    const s = SHELTERS[key]
    // The smallest area containing the real point, computed here rather than by the function under test.
    const { rows } = await db.execute<{ visibility: string; organisation_id: string; lat: number | null; lon: number | null }>(sql`
      SELECT p.location_visibility AS visibility, p.organisation_id,
             (SELECT ST_Y(a.rep_point) FROM areas a WHERE ST_Intersects(a.geom, p.location) ORDER BY a.admin_level DESC LIMIT 1) AS lat,
             (SELECT ST_X(a.rep_point) FROM areas a WHERE ST_Intersects(a.geom, p.location) ORDER BY a.admin_level DESC LIMIT 1) AS lon
      FROM providers p WHERE p.id = ${ids[key]}`)
    const row = rows[0]
    const expected = key === 'default' ? 'approximate' : key
    if (row.visibility !== expected || row.organisation_id !== callers.orgA) {
      setupProblems.push(`the ${key} shelter is ${row.visibility} and owned by ${row.organisation_id}, not ${expected} and owned by org-a (${callers.orgA})`)
    }
    shelters.push({
      key,
      id: ids[key],
      lat: s.lat,
      lon: s.lon,
      address: s.address,
      word: s.word,
      visibility: expected,
      shownAt: expected === 'approximate' && row.lat !== null ? { lat: Number(row.lat), lon: Number(row.lon) } : null,
    })
  }
  return { shelters, focalA, focalB, legal, clinicB, links, hiddenLinks, mous, callers, repPoints: await areaRepPoints(db), setupProblems }
}

// ---------------------------------------------------------------------------------------------------
// What every GET operation is asked. Access says who may ask (the masked callers' answers to what they may not
// ask are checked all the same); reveals says what the operation shows of a shelter to those who see exact
// locations, which the positive control requires the sweep to find.

type Access = 'public' | 'reader' | 'owner-history' | 'analyst' | 'export' | 'admin'
interface SweepOp {
  access: Access
  reveals?: 'point' | 'point and address'
  urls(fx: Fixtures): string[]
  /** Map tiles: a hidden provider is in no tile (rather than a feature without a point), and an empty tile is a 204. */
  tiles?: true
}

const q = (path: string, queries: string[]) => queries.map((query) => (query ? `${path}?${query}` : path))
const near = (p: LatLon) => `lat=${p.lat}&lon=${p.lon}`
const shelterIds = (fx: Fixtures) => fx.shelters.map((s) => s.id)

const SWEEP: Record<string, SweepOp> = {
  'GET /healthz': { access: 'public', urls: () => ['/healthz'] },
  'GET /readyz': { access: 'public', urls: () => ['/readyz'] },
  'GET /v1': { access: 'public', urls: () => ['/v1'] },
  'GET /': { access: 'public', urls: () => ['/'] },
  'GET /v1/areas': {
    access: 'public',
    urls: () => q('/v1/areas', ['', 'geometry=true', 'country=BGD&admin_level=3&geometry=true', 'parent=BD4041&geometry=true', 'q=bagher', 'limit=1&geometry=true']),
  },
  'GET /v1/areas/locate': { access: 'public', urls: () => QUERY_POINTS.map((p) => `/v1/areas/locate?${near(p)}`) },
  'GET /v1/areas/{pcode}': { access: 'public', urls: () => AREA_PCODES.flatMap((p) => [`/v1/areas/${p}`, `/v1/areas/${p}?geometry=true`]) },
  'GET /v1/areas/{pcode}/network': { access: 'reader', reveals: 'point', urls: () => AREA_PCODES.map((p) => `/v1/areas/${p}/network`) },
  'GET /v1/providers/nearest': {
    access: 'public',
    reveals: 'point and address',
    urls: () =>
      QUERY_POINTS.flatMap((p) =>
        q('/v1/providers/nearest', [
          `${near(p)}&limit=20`,
          `${near(p)}&category=shelter`,
          `${near(p)}&category=shelter&max_km=10`,
          `${near(p)}&category=counselling&mou_status=signed&limit=10`,
          `${near(p)}&kind=ngo&status=active&cost=free&limit=100`,
        ]),
      ),
  },
  'GET /v1/providers': {
    access: 'public',
    reveals: 'point and address',
    urls: () =>
      q('/v1/providers', [
        '',
        'category=shelter',
        'area=BD404190',
        'area=BD4041',
        'area=BD40',
        'bbox=89.1,23.1,89.4,23.3',
        'q=haven',
        'kind=ngo',
        'status=active',
        'funded_after=2020-01-01',
        'verified_since=2020-01-01',
        'mou_status=signed',
        'category=shelter&mou_status=signed',
        `external_id=${EXTERNAL_ID.scheme}:${EXTERNAL_ID.id}`,
        'limit=1',
        'limit=2&category=shelter',
        ...QUERY_POINTS.flatMap((p) => [`${near(p)}&radius_km=5`, `${near(p)}&radius_km=1.5&limit=1`]),
      ]),
  },
  'GET /v1/providers/{id}': { access: 'public', reveals: 'point and address', urls: (fx) => [...shelterIds(fx), fx.focalA].map((id) => `/v1/providers/${id}`) },
  'GET /v1/providers/{id}/referral-links': {
    access: 'reader',
    reveals: 'point',
    urls: (fx) => [
      ...shelterIds(fx).flatMap((id) => q(`/v1/providers/${id}/referral-links`, ['', 'direction=incoming', 'direction=outgoing', 'limit=1'])),
      `/v1/providers/${fx.focalA}/referral-links`,
      `/v1/providers/${fx.legal}/referral-links`,
    ],
  },
  'GET /v1/providers/{id}/history': {
    access: 'owner-history',
    reveals: 'point and address',
    urls: (fx) => shelterIds(fx).flatMap((id) => q(`/v1/providers/${id}/history`, ['', 'order=oldest&limit=1'])),
  },
  'GET /v1/referral-links': {
    access: 'reader',
    reveals: 'point',
    urls: (fx) =>
      q('/v1/referral-links', [
        '',
        ...shelterIds(fx).flatMap((id) => [`provider=${id}`, `from=${id}`, `to=${id}`]),
        'area=BD404190',
        'area=BD4047',
        'category=shelter',
        'health=ok',
        'basis=informal&status=active',
        'limit=1',
      ]),
  },
  'GET /v1/referral-links/{id}': { access: 'reader', reveals: 'point', urls: (fx) => fx.links.map((id) => `/v1/referral-links/${id}`) },
  'GET /v1/mous': { access: 'reader', urls: (fx) => q('/v1/mous', ['', ...shelterIds(fx).map((id) => `provider=${id}`), 'area=BD404190', 'category=shelter', 'limit=1']) },
  'GET /v1/mous/{id}': { access: 'reader', urls: (fx) => fx.mous.map((id) => `/v1/mous/${id}`) },
  'GET /v1/mous/{id}/history': { access: 'reader', urls: (fx) => fx.mous.map((id) => `/v1/mous/${id}/history`) },
  'GET /v1/pathways': {
    access: 'reader',
    reveals: 'point',
    urls: (fx) => [
      ...['shelter', 'legal', 'counselling'].map((c) => `/v1/pathways?from=${fx.focalA}&category=${c}&max_hops=3&limit=20`),
      `/v1/pathways?from=${fx.focalB}&category=legal`,
      `/v1/pathways?from=${fx.shelters[0].id}&category=legal`,
      ...QUERY_POINTS.flatMap((p) => [`/v1/pathways?${near(p)}&category=shelter`, `/v1/pathways?${near(p)}&category=legal&max_hops=3`]),
    ],
  },
  // Every format; editor B (org-b) exports only org-b's providers, so it must see no shelter of org-a at all.
  'GET /v1/providers/export': {
    access: 'export',
    reveals: 'point and address',
    urls: () =>
      ['csv', 'geojson', 'hsds'].flatMap((format) =>
        q('/v1/providers/export', [
          `format=${format}`,
          `format=${format}&category=shelter`,
          `format=${format}&area=BD404190`,
          `format=${format}&bbox=89.1,23.1,89.4,23.3`,
          `format=${format}&q=haven&status=active`,
          `format=${format}&mou_status=signed&category=shelter`,
          ...QUERY_POINTS.map((p) => `format=${format}&${near(p)}&radius_km=5`),
        ]),
      ),
  },
  'GET /v1/keys': { access: 'admin', urls: () => ['/v1/keys'] },
  'GET /v1/organisations': { access: 'admin', urls: () => ['/v1/organisations'] },
  'GET /v1/audit': {
    access: 'admin',
    reveals: 'point and address',
    urls: (fx) => q('/v1/audit', ['', 'entity=provider', ...shelterIds(fx).map((id) => `entity=provider&entity_id=${id}`), 'limit=5']),
  },
  // Issue 9: counts only, no location; swept so that a shelter's point never creeps in.
  'GET /v1/stats': { access: 'analyst', urls: () => q('/v1/stats', ['country=BGD', 'country=BGD&gap_km=2', 'country=KHM']) },
  // Not asked for by issue 8; swept when they exist.
  'GET /v1/keys/{id}': { access: 'admin', urls: (fx) => [`/v1/keys/${fx.callers.keys.viewer.id}`] },
  'GET /v1/organisations/{id}': { access: 'admin', urls: (fx) => [`/v1/organisations/${fx.callers.orgA}`] },
  // Issue 9. No provider point in any format; nearest_km would be whole km for a masked caller (who is refused).
  'GET /v1/coverage': {
    access: 'analyst',
    urls: () =>
      q('/v1/coverage', [
        'country=BGD&admin_level=3',
        'country=BGD&admin_level=2&parent=BD40&category=shelter&gap_km=2',
        'country=BGD&admin_level=3&format=csv',
        'country=BGD&admin_level=3&simplify=100',
      ]),
  },
  // Issue 10: map tiles at the shelters' real points and at their area's point, at zooms from a district's scale to
  // a building's, decoded (tileAnswer) and checked like any answer.
  'GET /v1/tiles/{layer}/{z}/{x}/{y}.mvt': {
    access: 'public',
    reveals: 'point',
    tiles: true,
    urls: (fx) => {
      const points = [...fx.shelters.map((s) => ({ lat: s.lat, lon: s.lon })), ...fx.shelters.flatMap((s) => (s.shownAt ? [s.shownAt] : []))]
      const urls = points.flatMap((p) => [
        ...TILE_ZOOMS.map((z) => tileUrl('providers', tileOf(p.lat, p.lon, z))),
        ...[6, 8, ...TILE_ZOOMS].map((z) => tileUrl('areas', tileOf(p.lat, p.lon, z))),
      ])
      return [...new Set(urls)]
    },
  },
  'GET /v1/tiles/{layer}.json': { access: 'public', urls: () => ['/v1/tiles/areas.json', '/v1/tiles/providers.json'] },
}
const OPTIONAL = new Set(['GET /v1/keys/{id}', 'GET /v1/organisations/{id}'])
// Served but left out of the document.
const UNDOCUMENTED: Record<string, SweepOp> = {
  'GET /openapi.json': { access: 'public', urls: () => ['/openapi.json'] },
  'GET /docs': { access: 'public', urls: () => ['/docs'] },
}

function allowed(access: Access, caller: CallerName): boolean {
  if (access === 'public') return true
  if (caller === 'anonymous') return false
  if (access === 'reader') return true
  // The shelters' organisation is org-a, which the viewer belongs to too: it reads their history, masked.
  if (access === 'owner-history') return ['admin', 'analyst', 'editorA', 'viewer'].includes(caller)
  if (access === 'analyst') return caller === 'admin' || caller === 'analyst'
  // Exports: editors get their own organisation's providers only, viewers nothing.
  if (access === 'export') return caller !== 'viewer'
  return caller === 'admin'
}
const expectedStatus = (access: Access, caller: CallerName, path: string) =>
  allowed(access, caller) ? 200 : caller === 'anonymous' ? 401 : 403

// ---------------------------------------------------------------------------------------------------
// The leak detector

type FindingKind =
  | 'exact coordinate digits'
  | 'a point within 500 m'
  | 'the address'
  | 'an address field'
  | 'an unrounded distance'
  | 'a hidden location shown'
  | 'an approximate location not at its area point'
  | 'no location_visibility label'
  | 'a line to a hidden end'

interface Finding {
  shelter: ShelterKey
  kind: FindingKind
  detail: string
}
/** What shows that a caller was given the exact point. */
const EXACT: FindingKind[] = ['exact coordinate digits', 'a point within 500 m']

/** Equal at 3 decimals, truncated or rounded: within ~100 m, which is what "at any precision" must catch. */
const sameAt3 = (a: number, b: number) => Math.trunc(a * 1000) === Math.trunc(b * 1000) || Math.round(a * 1000) === Math.round(b * 1000)
const samePoint = (a: LatLon, b: LatLon) => Math.abs(a.lat - b.lat) < 1e-7 && Math.abs(a.lon - b.lon) < 1e-7
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function float64Hex(v: number): string[] {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(v)
  const le = b.toString('hex')
  b.writeDoubleBE(v)
  return [le, b.toString('hex')]
}

/** A location as an answer may spell it: {lat, lon}, a GeoJSON Point, or nothing. */
function pointOf(v: unknown): LatLon | null | undefined {
  if (v === null || v === undefined) return null
  if (isObject(v) && isNumber(v.lat) && isNumber(v.lon)) return { lat: v.lat, lon: v.lon }
  if (isObject(v) && Array.isArray(v.coordinates) && isNumber(v.coordinates[0]) && isNumber(v.coordinates[1])) {
    return { lat: v.coordinates[1], lon: v.coordinates[0] }
  }
  return undefined
}

function detector(fx: Fixtures) {
  const byId = new Map(fx.shelters.map((s) => [s.id, s]))
  const hiddenLinks = new Set(fx.hiddenLinks)
  const rawSpellings = fx.shelters.map((s) => ({
    shelter: s,
    spellings: [s.lat, s.lon].flatMap((v) => [String(v), String(v).replace('.', ''), ...float64Hex(v)]),
  }))

  /** Every finding in one answer: its headers and body, and the cursors it hands out, decoded. */
  return function findings(text: string, json: unknown): Finding[] {
    const out: Finding[] = []
    const lower = text.toLowerCase()
    for (const { shelter, spellings } of rawSpellings) {
      for (const s of spellings) if (lower.includes(s.toLowerCase())) out.push({ shelter: shelter.key, kind: 'exact coordinate digits', detail: s })
      for (const part of [shelter.address, shelter.word]) {
        if (lower.includes(part.toLowerCase())) out.push({ shelter: shelter.key, kind: 'the address', detail: part })
      }
    }
    for (const token of text.match(/\d+\.\d{3,}/g) ?? []) {
      const v = Number(token)
      for (const s of fx.shelters) {
        if (sameAt3(v, s.lat) || sameAt3(v, s.lon)) out.push({ shelter: s.key, kind: 'exact coordinate digits', detail: token })
      }
    }
    const point = (p: LatLon, where: string) => {
      if (fx.repPoints.some((r) => samePoint(r, p))) return
      for (const s of fx.shelters) {
        const m = haversineM(p, s)
        if (m < NEAR_M) out.push({ shelter: s.key, kind: 'a point within 500 m', detail: `${p.lat},${p.lon} (${m.toFixed(0)} m) at ${where}` })
      }
    }
    const rounded = (s: Shelter, metres: unknown, where: string) => {
      if (isNumber(metres) && metres % 1000 !== 0) out.push({ shelter: s.key, kind: 'an unrounded distance', detail: `${metres} at ${where}` })
    }
    /** An object standing for a shelter: what it may show of the location, the address and distances. */
    const asShelter = (s: Shelter, location: unknown, hasLocation: boolean, props: Record<string, unknown>, where: string) => {
      if (hasLocation) {
        const p = pointOf(location)
        if (s.visibility === 'hidden' && p !== null) out.push({ shelter: s.key, kind: 'a hidden location shown', detail: `${JSON.stringify(location)} at ${where}` })
        if (s.visibility === 'approximate' && p !== null && !(p && s.shownAt && samePoint(p, s.shownAt))) {
          out.push({ shelter: s.key, kind: 'an approximate location not at its area point', detail: `${JSON.stringify(location)} at ${where}, not ${JSON.stringify(s.shownAt)}` })
        }
        if (props.location_visibility !== s.visibility) {
          out.push({ shelter: s.key, kind: 'no location_visibility label', detail: `location_visibility ${JSON.stringify(props.location_visibility)} at ${where}` })
        }
      }
      if (props.address !== undefined && props.address !== null) out.push({ shelter: s.key, kind: 'an address field', detail: `${JSON.stringify(props.address)} at ${where}` })
      rounded(s, props.distance_m, `${where}.distance_m`)
    }

    const visit = (v: unknown, where: string) => {
      if (typeof v === 'string') {
        for (const m of v.matchAll(/(-?\d{1,3}\.\d+)[\s,]+(-?\d{1,3}\.\d+)/g)) {
          const [a, b] = [Number(m[1]), Number(m[2])]
          point({ lat: a, lon: b }, where)
          point({ lat: b, lon: a }, where)
        }
        return
      }
      if (Array.isArray(v)) {
        if (v.length >= 2 && v.length <= 4 && v.every(isNumber)) {
          const pairs = v.length === 4 ? [[v[0], v[1]], [v[2], v[3]]] : [[v[0], v[1]]]
          for (const [a, b] of pairs) {
            point({ lat: b, lon: a }, where)
            point({ lat: a, lon: b }, where)
          }
        }
        v.forEach((item, i) => visit(item, `${where}[${i}]`))
        return
      }
      if (!isObject(v)) return
      if (isNumber(v.lat) && isNumber(v.lon)) point({ lat: v.lat, lon: v.lon }, where)
      if (isNumber(v.latitude) && isNumber(v.longitude)) point({ lat: v.latitude, lon: v.longitude }, where)
      if (v.type === 'Feature') {
        const props = isObject(v.properties) ? v.properties : {}
        const id = typeof v.id === 'string' ? v.id : typeof props.id === 'string' ? props.id : undefined
        const s = id ? byId.get(id) : undefined
        if (s) asShelter(s, v.geometry, true, props, where)
        if (id && hiddenLinks.has(id) && v.geometry !== null) {
          out.push({ shelter: 'hidden', kind: 'a line to a hidden end', detail: `${JSON.stringify(v.geometry)} at ${where}` })
        }
      } else if (typeof v.id === 'string' && byId.has(v.id)) {
        asShelter(byId.get(v.id)!, v.location, 'location' in v, v, where)
      }
      // A pathway through a masked provider: its length would give the legs away.
      if (Array.isArray(v.provider_ids)) {
        const masked = v.provider_ids.map((id) => byId.get(String(id))).find(Boolean)
        if (masked) rounded(masked, v.distance_m, `${where}.distance_m`)
      }
      if (isObject(v.start) && typeof v.start.id === 'string' && byId.has(v.start.id)) rounded(byId.get(v.start.id)!, v.start_distance_m, `${where}.start_distance_m`)
      for (const [k, item] of Object.entries(v)) visit(item, `${where}.${k}`)
    }
    visit(json, '$')
    return out
  }
}

// ---------------------------------------------------------------------------------------------------
// Asking

interface Variant {
  name: 'json' | 'format=geojson' | 'Accept: application/geo+json'
  url: string
  headers: Record<string, string>
}

function variantsOf(url: string, hasFormat: boolean): Variant[] {
  const out: Variant[] = [{ name: 'json', url, headers: {} }]
  // A URL that names its format (csv, or the export's csv, geojson, hsds) is asked as it is.
  if (hasFormat && !/[?&]format=/.test(url)) {
    out.push({ name: 'format=geojson', url: `${url}${url.includes('?') ? '&' : '?'}format=geojson`, headers: {} })
    out.push({ name: 'Accept: application/geo+json', url, headers: { accept: 'application/geo+json' } })
  }
  return out
}

const withCursor = (url: string, cursor: string) => {
  const [path, query = ''] = url.split('?')
  const params = new URLSearchParams(query)
  params.set('cursor', cursor)
  return `${path}?${params.toString()}`
}

/** Cursors an answer hands out, in its body or in its links: opaque to clients, but readable by anyone. */
function cursorsOf(json: unknown): string[] {
  const out: string[] = []
  const visit = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(visit)
    if (!isObject(v)) return
    if (typeof v.next_cursor === 'string') out.push(v.next_cursor)
    if (typeof v.href === 'string') {
      const c = new URLSearchParams(v.href.split('?')[1] ?? '').get('cursor')
      if (c) out.push(c)
    }
    Object.values(v).forEach(visit)
  }
  visit(json)
  return out
}

interface Page {
  url: string
  status: number
  text: string
  json: unknown
}

/** The answer to one URL, and every page after it. */
async function ask(app: FastifyInstance, variant: Variant, headers: Record<string, string>, repPoints: LatLon[]): Promise<Page[]> {
  const pages: Page[] = []
  let url: string | undefined = variant.url
  for (let i = 0; url && i < MAX_PAGES; i++) {
    const res: LightMyRequestResponse = await app.inject({ url, headers: { ...variant.headers, ...headers } } as InjectOptions)
    let json: unknown
    if (String(res.headers['content-type']).startsWith('application/vnd.mapbox-vector-tile')) {
      json = tileAnswer(url, res.rawPayload, repPoints)
      pages.push({ url, status: res.statusCode, text: [JSON.stringify(res.headers), JSON.stringify(json)].join('\n'), json })
      break
    }
    try {
      json = res.json()
    } catch {
      json = undefined
    }
    const cursors = cursorsOf(json)
    const decoded = cursors.map((c) => Buffer.from(c, 'base64url').toString('utf8'))
    pages.push({ url, status: res.statusCode, text: [JSON.stringify(res.headers), res.body, ...decoded].join('\n'), json })
    const next = isObject(json) && typeof json.next_cursor === 'string' ? json.next_cursor : undefined
    url = next ? withCursor(variant.url, next) : undefined
  }
  return pages
}

const TILE_ZOOMS = [11, 12, 14, 16, 18, 22]

/**
 * A vector tile as the detector reads answers: its features decoded with @mapbox/vector-tile, their tile
 * coordinates turned back into lon/lat, as GeoJSON-like features with the tile's properties (a provider's id is
 * its feature's id). Tile coordinates are whole units of 1/4096 of the tile, so a vertex within a unit and a half
 * of an area's representative point is that point (the mask's one allowed spelling), written exactly. A polygon's
 * vertices where the tile cuts it (on the edge of its 64-unit margin) belong to the tile, not to the data, and are
 * left out; every other vertex is checked like any coordinate.
 */
function tileAnswer(url: string, body: Buffer, repPoints: LatLon[]): unknown {
  const [, z, x, y] = /\/(\d+)\/(\d+)\/(\d+)\.mvt$/.exec(url)!.map(Number)
  const tile: Tile = { z, x, y }
  const unit = unitDeg(tile)
  const margin = tileBox(tile, true)
  const snapped = ([lon, lat]: [number, number]): [number, number] => {
    const r = repPoints.find((p) => Math.abs(p.lon - lon) <= 1.5 * unit && Math.abs(p.lat - lat) <= 1.5 * unit)
    return r ? [r.lon, r.lat] : [lon, lat]
  }
  const onMargin = ([lon, lat]: [number, number]) =>
    [margin[0], margin[2]].some((e) => Math.abs(lon - e) <= 1.5 * unit) || [margin[1], margin[3]].some((e) => Math.abs(lat - e) <= 1.5 * unit)
  return {
    tile: url,
    features: decodeTile(body, tile).map((f) => {
      const vertices = f.points.filter((p) => f.type !== 'Polygon' || !onMargin(p)).map(snapped)
      const geometry = f.type === 'Point' ? { type: 'Point', coordinates: vertices[0] } : { type: 'MultiPoint', coordinates: vertices }
      return { type: 'Feature', id: f.properties.id ?? f.properties.pcode, layer: f.layer, geometry, properties: f.properties }
    }),
  }
}

t.test('no GET answer shows a confidential shelter to those who may not see it', async (t) => {
  const { app, db } = await buildTestApp(t, {}, { auth: 'none' })
  const conformance = conformanceOf(app)
  conformance.throwOnViolation = false
  const fx = await setUp(app, db)
  const doc = await openapiOf(app)
  const findings = detector(fx)
  t.same(fx.setupProblems, [], "the shelters are org-a's, with the visibility they were given (or a shelter's default)")
  t.ok(fx.shelters.every((s) => s.visibility === 'hidden' || s.shownAt), 'every approximate shelter lies in an area, so it has a point to be shown at')
  t.ok(
    fx.shelters.every((s) => fx.repPoints.every((r) => haversineM(r, s) > 2 * NEAR_M)),
    'no area point lies near a shelter (the exception for area points cannot hide a leak)',
  )

  await t.test('the detector sees every kind of leak, and takes a correct mask for none', async (t) => {
    const [approximate, hidden] = fx.shelters
    const masked = (s: Shelter) => ({ id: s.id, location: s.shownAt, location_visibility: s.visibility, address: null, distance_m: 3000 })
    const kinds = (body: unknown) => [...new Set(findings(JSON.stringify(body), body).map((f) => `${f.shelter}: ${f.kind}`))].sort()
    t.same(kinds({ items: fx.shelters.map(masked), next_cursor: null }), [], 'masked shelters, as issue 8 describes them')
    t.same(kinds({ type: 'Feature', id: hidden.id, geometry: null, properties: { location_visibility: 'hidden', distance_m: 0 } }), [], 'a hidden shelter as GeoJSON')
    const near = { lat: approximate.lat + 0.002, lon: approximate.lon - 0.002 }
    const cases: Array<[string, unknown, string[]]> = [
      ['coordinates rounded to 3 decimals', { id: 'x', location: { lat: 23.173, lon: 89.236 } }, ['approximate: a point within 500 m', 'approximate: exact coordinate digits']],
      ['digits in a text', { notes: 'gps 23.17349 / 89.23619' }, ['approximate: exact coordinate digits']],
      ['the coordinates as a float64 in hex', { wkb: float64Hex(approximate.lon)[0] }, ['approximate: exact coordinate digits']],
      ['a line ending 300 m from a shelter', { type: 'LineString', coordinates: [[89.205, 23.205], [near.lon, near.lat]] }, ['approximate: a point within 500 m']],
      ['a WKT point 300 m from a shelter', { geom: `POINT(${near.lon} ${near.lat})` }, ['approximate: a point within 500 m']],
      ['an unrounded distance', { ...masked(approximate), distance_m: 2345.6 }, ['approximate: an unrounded distance']],
      ['a hidden shelter at an area point', { ...masked(hidden), location: approximate.shownAt }, ['hidden: a hidden location shown']],
      ['an approximate shelter elsewhere than its area point', { ...masked(approximate), location: { lat: 23.19, lon: 89.22 } }, ['approximate: an approximate location not at its area point']],
      ['a masked location without its label', { id: approximate.id, location: approximate.shownAt }, ['approximate: no location_visibility label']],
      ['the address', { ...masked(hidden), address: hidden.address }, ['hidden: an address field', 'hidden: the address']],
      ['a word of the address', { notes: `near ${hidden.word}` }, ['hidden: the address']],
      ['a line to a hidden end', { type: 'Feature', id: fx.hiddenLinks[0], geometry: { type: 'LineString', coordinates: [[89.205, 23.205], [89.25, 23.2]] }, properties: {} }, ['hidden: a line to a hidden end']],
      ['a pathway through a shelter, unrounded', { provider_ids: [fx.focalA, approximate.id], distance_m: 4321.5 }, ['approximate: an unrounded distance']],
    ]
    for (const [what, body, expected] of cases) t.same(kinds(body), expected, what)
  })

  const gets = operationsOf(doc).filter((o) => o.method === 'GET')
  const documented = new Set(gets.map((o) => o.name))
  t.same(gets.map((o) => o.name).filter((n) => !SWEEP[n]), [], 'every GET operation in /openapi.json is swept')
  t.same(
    Object.keys(SWEEP).filter((n) => !documented.has(n) && !OPTIONAL.has(n)),
    [],
    'every operation the sweep expects is in /openapi.json (issue 8 adds provider history and the audit trail)',
  )

  const swept = [
    ...gets.filter((o) => SWEEP[o.name]).map((o) => ({ name: o.name, op: SWEEP[o.name], hasFormat: o.parameters.some((p) => p.in === 'query' && p.name === 'format') })),
    ...Object.entries(UNDOCUMENTED).map(([name, op]) => ({ name, op, hasFormat: false })),
  ]
  for (const { name, op, hasFormat } of swept) {
    await t.test(name, async (t) => {
      const urls = op.urls(fx)
      t.ok(urls.length > 0, 'the sweep builds at least one request')
      const variants = urls.flatMap((u) => variantsOf(u, hasFormat))
      for (const caller of [...MASKED_CALLERS, ...SEEING_CALLERS]) {
        const masked = MASKED_CALLERS.includes(caller)
        const wrongStatus: string[] = []
        // One line per shelter and kind of leak, with how many answers showed it and the first of them.
        const leaks = new Map<string, { answers: number; first: string }>()
        const seen = new Map<Variant['name'], { exact: Set<ShelterKey>; address: Set<ShelterKey>; ids: Set<ShelterKey> }>()
        for (const variant of variants) {
          const tally = seen.get(variant.name) ?? { exact: new Set(), address: new Set(), ids: new Set() }
          seen.set(variant.name, tally)
          for (const page of await ask(app, variant, fx.callers.headers(caller), fx.repPoints)) {
            const path = page.url.split('?')[0]
            const expected = expectedStatus(op.access, caller, path)
            if (page.status !== expected && !(op.tiles && page.status === 204 && expected === 200)) wrongStatus.push(`${variant.name} ${page.url}: ${page.status}, not ${expected}: ${short(page.text, 300)}`)
            const found = findings(page.text, page.json)
            if (masked) {
              for (const f of found) {
                const kind = `${f.shelter} shelter: ${f.kind}`
                const leak = leaks.get(kind) ?? { answers: 0, first: `${variant.name} ${page.url}: ${short(f.detail, 200)}` }
                leak.answers++
                leaks.set(kind, leak)
              }
            }
            for (const f of found) {
              if (EXACT.includes(f.kind)) tally.exact.add(f.shelter)
              if (f.kind === 'the address') tally.address.add(f.shelter)
            }
            for (const s of fx.shelters) if (page.text.includes(s.id)) tally.ids.add(s.key)
          }
        }
        t.same(wrongStatus, [], `${caller}: every request answers as its role allows`)
        if (masked) {
          t.same(
            [...leaks].map(([kind, { answers, first }]) => `${kind} (${answers} times), first in ${first}`),
            [],
            `${caller}: no exact location, address or unrounded distance of a masked shelter`,
          )
        }
        if (op.access === 'export' && masked && allowed(op.access, caller)) {
          // The other organisation's editor: the export leaves org-a's shelters out altogether.
          const listed = SHELTER_KEYS.filter((k) => [...seen.values()].some((tally) => tally.ids.has(k)))
          t.same(listed, [], `${caller}: the export lists no shelter of another organisation`)
          continue
        }
        if (!op.reveals || !allowed(op.access, caller)) continue
        for (const [variant, tally] of seen) {
          if (masked) {
            // Otherwise "no leak" could mean "never looked": the masked answers do list the shelters.
            const listed = op.tiles ? fx.shelters.filter((s) => s.visibility !== 'hidden').map((s) => s.key) : SHELTER_KEYS
            t.same(listed.filter((k) => !tally.ids.has(k)), [], `${caller}, ${variant}: the answers include every shelter (masked)`)
            if (op.tiles) t.notOk(tally.ids.has('hidden'), `${caller}, ${variant}: a hidden shelter is in no tile`)
          } else {
            t.same(SHELTER_KEYS.filter((k) => !tally.exact.has(k)), [], `${caller}, ${variant}: the sweep finds every shelter's exact point (positive control)`)
            if (op.reveals === 'point and address') {
              t.same(SHELTER_KEYS.filter((k) => !tally.address.has(k)), [], `${caller}, ${variant}: the sweep finds every shelter's address (positive control)`)
            }
          }
        }
      }
    })
  }

  t.same(conformance.take().map(formatViolation), [], 'every answer matches /openapi.json')
})
