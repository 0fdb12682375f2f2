// Provider writes (search text, areas and versions computed here) and the reads behind the routes.
import { randomUUID } from 'node:crypto'
import { sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { CursorText, decodeCursor, toPage } from '../../lib/pagination.js'
import { assertVersion } from '../../lib/if-match.js'
import { notFound, unprocessable, type FieldError } from '../../lib/problem.js'
import { nearestStatement, type NearestForm } from './nearest-json.js'
import { providersRepo, type ProviderColumns } from './repo.js'
import { ProviderInput, type ListQuery, type NearestQuery, type Provider, type ProviderPatch } from './schemas.js'
import { intersectsBBox, withinM } from './spatial.js'
import { mouStatusFilter } from '../mous/repo.js'

export const MAX_BULK = 5000

export interface BulkRowError extends FieldError {
  index: number
}

/** Lower-cased name and every spelling in names: what q searches. */
export const searchTextOf = (name: string, names: Record<string, string>) =>
  [name, ...Object.values(names)].join(' ').toLowerCase()

function toColumns(id: string, p: ProviderInput): ProviderColumns {
  const names = p.names ?? {}
  return {
    id,
    name: p.name,
    names,
    search_text: searchTextOf(p.name, names),
    kind: p.kind,
    categories: p.categories,
    services: (p.services ?? []).map((s) => ({ category: s.category, name: s.name, ...(s.description !== undefined ? { description: s.description } : {}) })),
    lat: p.location.lat,
    lon: p.location.lon,
    address: p.address ?? null,
    phones: p.phones ?? [],
    email: p.email ?? null,
    website: p.website ?? null,
    languages: p.languages ?? [],
    eligible_genders: p.eligibility?.genders ?? [],
    min_age: p.eligibility?.min_age ?? null,
    max_age: p.eligibility?.max_age ?? null,
    requires: p.eligibility?.requires ?? [],
    cost: p.cost ?? null,
    capacity: p.capacity ?? null,
    opening_hours: p.opening_hours ?? null,
    status: p.status ?? 'active',
    funded_until: p.funded_until ?? null,
    verified_on: p.verification?.on ?? null,
    verification_method: p.verification?.method ?? null,
    verified_by: p.verification?.by ?? null,
    external_ids: p.external_ids ?? [],
    notes: p.notes ?? null,
  }
}

/** The writable part of a stored provider, so that a patch can be applied over it and stored whole. */
function writableOf(p: Provider): ProviderInput {
  return {
    name: p.name,
    names: p.names,
    kind: p.kind,
    categories: p.categories,
    services: p.services,
    location: p.location,
    address: p.address,
    phones: p.phones,
    email: p.email,
    website: p.website,
    languages: p.languages,
    eligibility: p.eligibility,
    cost: p.cost,
    capacity: p.capacity,
    opening_hours: p.opening_hours,
    status: p.status,
    funded_until: p.funded_until,
    verification: p.verification,
    external_ids: p.external_ids,
    notes: p.notes,
  }
}

/** Validates every row and reports every bad one, so a client can fix a whole import in one round. */
function parseRows(rows: readonly unknown[]): ProviderInput[] {
  const errors: BulkRowError[] = []
  const parsed: ProviderInput[] = []
  rows.forEach((row, index) => {
    const result = ProviderInput.safeParse(row)
    if (result.success) parsed.push(result.data)
    else {
      for (const issue of result.error.issues) {
        const where = issue.path.join('.')
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) {
            errors.push({ index, path: ['providers', index, where, key].filter((s) => s !== '').join('.'), message: `unknown field "${key}"` })
          }
        } else {
          errors.push({ index, path: ['providers', index, where].filter((s) => s !== '').join('.'), message: issue.message })
        }
      }
    }
  })
  if (errors.length) {
    const badRows = new Set(errors.map((e) => e.index)).size
    throw unprocessable(`${badRows} of ${rows.length} providers are invalid; nothing was written`, errors)
  }
  return parsed
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)

export function providersService(db: Db) {
  const repo = providersRepo(db)

  async function get(id: string): Promise<Provider> {
    const provider = await repo.findById(id)
    if (!provider) throw notFound('Provider', id)
    return provider
  }

  /** Validates every row, then inserts all of them in one transaction or none. */
  async function insertAll(inputs: readonly unknown[]): Promise<ProviderColumns[]> {
    if (inputs.length > MAX_BULK) throw unprocessable(`at most ${MAX_BULK} providers per request, got ${inputs.length}`)
    const rows = parseRows(inputs).map((p) => toColumns(randomUUID(), p))
    await db.transaction(async (tx) => providersRepo(tx).insertMany(rows))
    return rows
  }

  return {
    get,

    async createMany(inputs: readonly unknown[]): Promise<{ created: number; ids: string[] }> {
      const rows = await insertAll(inputs)
      return { created: rows.length, ids: rows.map((r) => r.id) }
    },

    async create(input: ProviderInput): Promise<Provider> {
      const id = randomUUID()
      await repo.insertMany([toColumns(id, ProviderInput.parse(input))])
      return get(id)
    },

    /** Bulk import for the API: answers id and name per row, in input order. */
    async createBulk(inputs: unknown[]): Promise<{ created: number; items: Array<{ id: string; name: string }> }> {
      const rows = await insertAll(inputs)
      return { created: rows.length, items: rows.map((r) => ({ id: r.id, name: r.name })) }
    },

    async update(id: string, patch: ProviderPatch, ifMatch?: string): Promise<Provider> {
      await db.transaction(async (tx) => {
        const txRepo = providersRepo(tx)
        const current = await txRepo.findById(id, true)
        if (!current) throw notFound('Provider', id)
        assertVersion(ifMatch, current.version, `Provider ${id}`)
        const merged = { ...writableOf(current), ...patch }
        const locationChanged =
          patch.location !== undefined && (patch.location.lat !== current.location.lat || patch.location.lon !== current.location.lon)
        await txRepo.update(toColumns(id, merged), locationChanged)
      })
      return get(id)
    },

    /** Providers are never deleted: closing one is idempotent and bumps the version only when it changes. */
    async close(id: string): Promise<Provider> {
      await repo.close(id)
      return get(id)
    },

    async list(q: ListQuery): Promise<{ items: Provider[]; next_cursor: string | null }> {
      const where: SQL[] = []
      if (q.category) where.push(sql`p.categories @> ARRAY[${q.category}]::text[]`)
      if (q.kind) where.push(sql`p.kind = ${q.kind}`)
      if (q.status) where.push(sql`p.status = ${q.status}`)
      if (q.area) {
        if (!(await repo.areaExists(q.area))) throw notFound('Area', q.area)
        where.push(sql`p.area_pcodes @> ARRAY[${q.area}]::text[]`)
      }
      if (q.q) where.push(sql`p.search_text ILIKE ${`%${escapeLike(q.q.toLowerCase())}%`}`)
      if (q.bbox) where.push(intersectsBBox(q.bbox))
      if (q.lat !== undefined && q.lon !== undefined && q.radius_km !== undefined) {
        where.push(withinM({ lat: q.lat, lon: q.lon }, q.radius_km * 1000))
      }
      if (q.funded_after) where.push(sql`p.funded_until >= ${q.funded_after}::date`)
      if (q.verified_since) where.push(sql`p.verified_on >= ${q.verified_since}::date`)
      if (q.mou_status) where.push(mouStatusFilter(sql`p.id`, q.mou_status, q.category))
      if (q.external_id) where.push(sql`p.external_ids @> ${JSON.stringify([q.external_id])}::jsonb`)
      const after = q.cursor ? decodeCursor(q.cursor, z.tuple([CursorText, z.uuid()])) : undefined
      const rows = await repo.list(where, q.limit, after)
      return toPage(rows, q.limit, (p) => [p.name, p.id])
    },

    /** The response body, NearestResult or its GeoJSON form, as PostgreSQL writes it (nearest-json.ts). */
    async nearestBody(q: NearestQuery, form: NearestForm): Promise<string> {
      // The hot path: a prepared statement per query shape (category, limit, filters), planned once per connection.
      const { rows } = await db.$client.query<{ body: string }>(nearestStatement(q, form))
      return rows[0].body
    },
  }
}
export type ProvidersService = ReturnType<typeof providersService>
