// Shared ground for the two acceptance tests of issue 8 (roles.test.ts, leak-sweep.test.ts): a small map of areas,
// two partner organisations with their keys, providers written straight to the database with an owner and a
// location visibility, a fingerprint of every table a write can touch, and the operations /openapi.json lists.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import type { Db } from '../../src/db/client.js'
import { pcodesCovering } from '../../src/modules/areas/spatial.js'
import { keyFor } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'

/*
 * The map (BGD). Rectangles, so their representative points (ST_PointOnSurface) are their centres:
 *   BD40      Khulna division   level 1  [88.5, 21.5, 90.0, 24.0]
 *   BD4041    Jessore district  level 2  [88.9, 22.8, 89.5, 23.4]   org-a works here
 *   BD404190  a union           level 3  [89.15, 23.12, 89.35, 23.28] the shelters are in it, ≥ 2 km from its centre
 *   BD4047    Khulna district   level 2  [89.55, 22.3, 89.9, 22.75]  the only area editor B may write in
 */
export const AREAS = [
  { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] },
  { pcode: 'BD4041', name_en: 'Jessore', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] },
  { pcode: 'BD404190', name_en: 'Bagherpara', country: 'BGD', admin_level: 3, parent_pcode: 'BD4041', bbox: [89.15, 23.12, 89.35, 23.28] },
  { pcode: 'BD4047', name_en: 'Khulna Sadar', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [89.55, 22.3, 89.9, 22.75] },
] as const

export const AREA_PCODES = AREAS.map((a) => a.pcode)

export async function insertAreas(db: Db) {
  for (const a of AREAS) await insertArea(db, { ...a, bbox: [...a.bbox] })
}

/** Every area's representative point as stored (full precision): the only points a mask may show. */
export async function areaRepPoints(db: Db): Promise<Array<{ pcode: string; lat: number; lon: number }>> {
  const { rows } = await db.execute<{ pcode: string; lat: number; lon: number }>(
    sql`SELECT pcode, ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas ORDER BY pcode`,
  )
  return rows.map((r) => ({ pcode: r.pcode, lat: Number(r.lat), lon: Number(r.lon) }))
}

export const ORG_A = 'org-a'
export const ORG_B = 'org-b'

export type CallerName = 'anonymous' | 'viewer' | 'analyst' | 'editorA' | 'editorB' | 'admin'
export const CALLERS: CallerName[] = ['anonymous', 'viewer', 'analyst', 'editorA', 'editorB', 'admin']

export interface Key {
  id: string
  key: string
  organisationId: string
  authorization: string
}

export interface Callers {
  keys: Record<Exclude<CallerName, 'anonymous'>, Key>
  orgA: string
  orgB: string
  /** The headers a request of this caller carries (none for anonymous). */
  headers(caller: CallerName): Record<string, string>
}

/**
 * One key per role: the viewer belongs to org-a (a viewer sees masked locations even of its own organisation), the
 * analyst to org-b (an analyst sees everything whoever owns it), editor A to org-a without limits, editor B to org-b
 * limited to `editorBAreas`.
 */
export async function makeCallers(db: Db, { editorBAreas }: { editorBAreas?: string[] } = {}): Promise<Callers> {
  const admin = await keyFor(db, 'admin')
  const editorA = await keyFor(db, 'editor', { organisation: ORG_A })
  const viewer = await keyFor(db, 'viewer', { organisation: ORG_A })
  const editorB = await keyFor(db, 'editor', { organisation: ORG_B, areas: editorBAreas })
  const analyst = await keyFor(db, 'analyst', { organisation: ORG_B })
  const keys = { admin, editorA, viewer, editorB, analyst }
  return {
    keys,
    orgA: editorA.organisationId,
    orgB: editorB.organisationId,
    headers: (caller): Record<string, string> => (caller === 'anonymous' ? {} : { authorization: keys[caller].authorization }),
  }
}

export interface OwnedProviderSeed {
  id?: string
  name: string
  organisationId: string
  lat: number
  lon: number
  kind?: string
  categories?: string[]
  /** Left out: the database's default (approximate for shelters, exact otherwise). */
  visibility?: 'exact' | 'approximate' | 'hidden'
  address?: string | null
  status?: string
}

/**
 * A provider written straight to the database with its owner, verified today and funded for years (so links to
 * and from it are healthy and pathways follow them).
 */
export async function insertOwnedProvider(db: Db, p: OwnedProviderSeed): Promise<string> {
  const id = p.id ?? randomUUID()
  const point = sql`ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)`
  await db.execute(sql`
    INSERT INTO providers (id, name, search_text, kind, categories, location, area_pcodes, address, status, funded_until,
                           verified_on, verification_method, organisation_id, location_visibility, phones, cost)
    VALUES (${id}, ${p.name}, ${p.name.toLowerCase()}, ${p.kind ?? 'ngo'}, ${sql.param(p.categories ?? ['health', 'legal'])}::text[],
            ${point}, ${pcodesCovering(point)}, ${p.address ?? null}, ${p.status ?? 'active'}, '2099-12-31', setu_today(),
            'field_visit', ${p.organisationId}::uuid, ${p.visibility ?? null}, '{+8801700000000}', 'free')`)
  return id
}

/**
 * A fingerprint of every table an API write can touch: row counts, version sums, the latest change, the latest
 * revocation and the audit trail's last entry. Equal before and after a request: the request wrote nothing.
 * api_keys.last_used_at is left out: authenticating a key may mark it used, which is not a write of the request.
 */
export async function tablesSnapshot(db: Db): Promise<Record<string, string>> {
  const versioned = (table: string) =>
    sql.raw(`(SELECT count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at)::text, '-') FROM ${table})`)
  const { rows } = await db.execute<Record<string, string>>(sql`
    SELECT ${versioned('providers')} AS providers,
           ${versioned('referral_links')} AS referral_links,
           ${versioned('mous')} AS mous,
           ${versioned('organisations')} AS organisations,
           ${versioned('api_keys')} || '/' || coalesce((SELECT max(revoked_at)::text FROM api_keys), '-') AS api_keys,
           (SELECT count(*) || '/' || coalesce(max(id), 0) FROM mou_status_changes) AS mou_status_changes,
           (SELECT count(*) || '/' || coalesce(max(id), 0) FROM audit_log) AS audit_log,
           (SELECT count(*)::text FROM idempotency_keys) AS idempotency_keys,
           (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '-') FROM areas) AS areas`)
  return rows[0]
}

export interface Operation {
  method: string
  path: string
  /** `GET /v1/providers/{id}`: how both tests name an operation. */
  name: string
  parameters: Array<{ in: string; name: string; required?: boolean }>
  requestSchema?: Record<string, unknown>
}

export type OpenApi = { paths: Record<string, Record<string, Record<string, unknown>>>; components?: Record<string, unknown> }

export async function openapiOf(app: FastifyInstance): Promise<OpenApi> {
  const res = await app.inject({ url: '/openapi.json' })
  if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`)
  return res.json()
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

/** Every operation the document lists. */
export function operationsOf(doc: OpenApi): Operation[] {
  const out: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue
      const body = (op.requestBody as { content?: Record<string, { schema?: Record<string, unknown> }> } | undefined)?.content
      out.push({
        method: method.toUpperCase(),
        path,
        name: `${method.toUpperCase()} ${path}`,
        parameters: (op.parameters as Operation['parameters']) ?? [],
        requestSchema: body?.['application/json']?.schema,
      })
    }
  }
  return out
}

/** Follows `$ref`s into the document. */
export function deref(doc: OpenApi, schema: unknown): Record<string, unknown> {
  let s = (schema ?? {}) as Record<string, unknown>
  for (let i = 0; typeof s.$ref === 'string' && i < 10; i++) {
    s = (s.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, k) => (node as Record<string, unknown>)[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc) as Record<string, unknown>
  }
  return s
}

export type LatLon = { lat: number; lon: number }

export function haversineM(a: LatLon, b: LatLon): number {
  const R = 6_371_008.8
  const rad = (d: number) => (d * Math.PI) / 180
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2
  return 2 * R * Math.asin(Math.sqrt(h))
}

export const short = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s)
