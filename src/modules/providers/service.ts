// Provider writes (search text, areas, versions and owners decided here) and the reads behind the routes.
// Every write runs as its actor (audited) and checks, inside its transaction, that the actor may write the rows
// as they were and as they are after it; every read is shown to a viewer (lib/location-visibility.ts).
import { randomUUID } from 'node:crypto'
import { sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { CursorText, decodeCursor, toPage } from '../../lib/pagination.js'
import { assertVersion } from '../../lib/if-match.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { notFound, Problem, unprocessable, type FieldError } from '../../lib/problem.js'
import { asActor, type Actor } from '../access/actor.js'
import { FORBIDDEN } from '../access/authenticate.js'
import { DEMO_ORGANISATION_ID } from '../access/keys.js'
import { assertMayWrite, ownerForNew } from '../access/ownership.js'
import { viewerOf } from '../access/roles.js'
import { nearestStatement, type NearestForm } from './nearest-json.js'
import { providersRepo, type ProviderColumns, type ProvidersRepo } from './repo.js'
import { ProviderInput, type ListFilters, type ListQuery, type NearestQuery, type Provider, type ProviderPatch } from './schemas.js'
import { intersectsBBox, withinM } from './spatial.js'
import { mouStatusFilter } from '../mous/repo.js'

export const MAX_BULK = 5000

export interface BulkRowError extends FieldError {
  index: number
}

/** Lower-cased name and every spelling in names: what q searches. */
export const searchTextOf = (name: string, names: Record<string, string>) =>
  [name, ...Object.values(names)].join(' ').toLowerCase()

/** A write made by the server itself (the demo loader, scripts, tests): recorded as the system's, owned by setu-demo. */
export const SYSTEM_ACTOR: Actor = { caller: null }
const SEES_ALL: Viewer = { exact: 'all' }
/** Who the answer to a write is shown to: the key behind it; a script sees everything. */
const viewerOfActor = (actor: Actor): Viewer => (actor.caller ? viewerOf(actor.caller) : SEES_ALL)

function toColumns(id: string, p: ProviderInput, organisationId: string): ProviderColumns {
  const names = p.names ?? {}
  return {
    id,
    organisation_id: organisationId,
    location_visibility: p.location_visibility ?? null,
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

/** The writable part of a stored provider (read as SEES_ALL), so that a patch can be applied over it and stored whole. */
function writableOf(p: Provider): ProviderInput {
  if (!p.location) throw new Error(`provider ${p.id} was read without its location`)
  return {
    location_visibility: p.location_visibility,
    organisation_id: p.organisation_id,
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

/**
 * The WHERE conditions (over alias p) of the provider list's filters, as `viewer` may ask them (bbox and radius by
 * what the viewer is shown): the list and its export (modules/export) filter alike. 404 for an unknown area.
 */
export async function listFilters(db: Pick<Db, 'execute'>, q: ListFilters, viewer: Viewer): Promise<SQL[]> {
  const where: SQL[] = []
  if (q.category) where.push(sql`p.categories @> ARRAY[${q.category}]::text[]`)
  if (q.kind) where.push(sql`p.kind = ${q.kind}`)
  if (q.status) where.push(sql`p.status = ${q.status}`)
  if (q.area) {
    if (!(await providersRepo(db).areaExists(q.area))) throw notFound('Area', q.area)
    where.push(sql`p.area_pcodes @> ARRAY[${q.area}]::text[]`)
  }
  if (q.q) where.push(sql`p.search_text ILIKE ${`%${escapeLike(q.q.toLowerCase())}%`}`)
  if (q.bbox) where.push(intersectsBBox(q.bbox, viewer))
  if (q.lat !== undefined && q.lon !== undefined && q.radius_km !== undefined) {
    where.push(withinM({ lat: q.lat, lon: q.lon }, q.radius_km * 1000, viewer))
  }
  if (q.funded_after) where.push(sql`p.funded_until >= ${q.funded_after}::date`)
  if (q.verified_since) where.push(sql`p.verified_on >= ${q.verified_since}::date`)
  if (q.mou_status) where.push(mouStatusFilter(sql`p.id`, q.mou_status, q.category))
  if (q.external_id) where.push(sql`p.external_ids @> ${JSON.stringify([q.external_id])}::jsonb`)
  return where
}

/** The 403 of assertMayWrite or ownerForNew for row `index` of a bulk request, as a field error; other errors pass. */
function refusalOf(index: number, path: string, check: () => void): BulkRowError | undefined {
  try {
    check()
    return undefined
  } catch (e) {
    if (e instanceof Problem && e.status === 403) return { index, path, message: e.detail ?? e.title }
    throw e
  }
}

function forbiddenRows(refused: BulkRowError[], of: number) {
  const rows = new Set(refused.map((e) => e.index)).size
  return new Problem(403, 'Forbidden', `${rows} of ${of} providers may not be written by this key; nothing was written`, {
    type: FORBIDDEN,
    errors: refused,
  })
}

/**
 * Locks the provider for the rest of the transaction and refuses the write: 404 when it does not exist, 403 when the
 * actor may not write it as stored (checked before the version, so a refused caller learns nothing from a 412),
 * 412 when If-Match names another version.
 */
async function lockForWrite(txRepo: ProvidersRepo, id: string, actor: Actor, ifMatch: string | undefined): Promise<void> {
  const [stored] = await txRepo.ownersOf([id], true)
  if (!stored) throw notFound('Provider', id)
  assertMayWrite(actor, stored)
  assertVersion(ifMatch, stored.version, `Provider ${id}`)
}

export function providersService(db: Db) {
  const repo = providersRepo(db)

  async function get(id: string, viewer: Viewer): Promise<Provider> {
    const provider = await repo.findById(id, viewer)
    if (!provider) throw notFound('Provider', id)
    return provider
  }

  /** 422 unless every organisation named exists (only an admin can name one but its own). */
  async function assertOrganisationsExist(ex: Pick<Db, 'execute'>, named: Array<{ index?: number; id: string }>) {
    const ids = [...new Set(named.map((n) => n.id))]
    if (ids.length === 0) return
    const unknown = new Set(await providersRepo(ex).unknownOrganisations(ids))
    if (unknown.size === 0) return
    const errors = named
      .filter((n) => unknown.has(n.id))
      .map((n) => ({
        ...(n.index !== undefined ? { index: n.index } : {}),
        path: n.index !== undefined ? `providers.${n.index}.organisation_id` : 'organisation_id',
        message: `organisation ${n.id} does not exist`,
      }))
    throw unprocessable(`${[...unknown].join(', ')}: no such organisation; nothing was written`, errors)
  }

  /**
   * Validates every row, decides its owner, then inserts all of them in one transaction as `actor`, or none: an
   * editor writes for its own organisation only and, with a key limited to areas, only inside them, which is known
   * only once the database has found the areas of each row. A bulk refusal lists the rows refused (errors, with
   * their index); `single` answers the refusal of its one row as it is.
   */
  async function insertAll(inputs: readonly unknown[], actor: Actor, single = false): Promise<ProviderColumns[]> {
    if (inputs.length > MAX_BULK) throw unprocessable(`at most ${MAX_BULK} providers per request, got ${inputs.length}`)
    const parsed = parseRows(inputs)
    const owners: string[] = []
    const refused: BulkRowError[] = []
    parsed.forEach((p, index) => {
      const owner = () => owners.push(ownerForNew(actor, p.organisation_id, DEMO_ORGANISATION_ID))
      if (single) return owner()
      const refusal = refusalOf(index, `providers.${index}.organisation_id`, owner)
      if (refusal) refused.push(refusal)
    })
    if (refused.length) throw forbiddenRows(refused, parsed.length)
    const rows = parsed.map((p, i) => toColumns(randomUUID(), p, owners[i]))
    const own = actor.caller?.organisationId ?? DEMO_ORGANISATION_ID
    await assertOrganisationsExist(db, owners.flatMap((id, index) => (id === own ? [] : [single ? { id } : { index, id }])))
    await asActor(
      db,
      actor,
      async (tx) => {
        const txRepo = providersRepo(tx)
        await txRepo.insertMany(rows)
        if (actor.caller === null || actor.caller.role === 'admin') return
        const stored = new Map((await txRepo.ownersOf(rows.map((r) => r.id))).map((o) => [o.id, o]))
        if (single) return assertMayWrite(actor, stored.get(rows[0].id)!)
        const outside = rows.flatMap(
          (r, index) => refusalOf(index, `providers.${index}`, () => assertMayWrite(actor, stored.get(r.id)!)) ?? [],
        )
        if (outside.length) throw forbiddenRows(outside, rows.length)
      },
      'create',
    )
    return rows
  }

  return {
    get,

    /** Creates providers as the system (the demo loader, tests): owned by setu-demo unless a row names its owner. */
    async createMany(inputs: readonly unknown[], actor: Actor = SYSTEM_ACTOR): Promise<{ created: number; ids: string[] }> {
      const rows = await insertAll(inputs, actor)
      return { created: rows.length, ids: rows.map((r) => r.id) }
    },

    async create(input: ProviderInput, actor: Actor = SYSTEM_ACTOR): Promise<Provider> {
      const [row] = await insertAll([input], actor, true)
      return get(row.id, viewerOfActor(actor))
    },

    /** Bulk import for the API: answers id and name per row, in input order. */
    async createBulk(inputs: unknown[], actor: Actor): Promise<{ created: number; items: Array<{ id: string; name: string }> }> {
      const rows = await insertAll(inputs, actor)
      return { created: rows.length, items: rows.map((r) => ({ id: r.id, name: r.name })) }
    },

    /**
     * Applies a patch as `actor`: refused (403) unless the actor may write the provider as stored and as patched
     * (a move out of an editor's areas, a transfer to another organisation by an editor), and (412) when If-Match
     * names another version. organisation_id transfers the provider: admins only.
     */
    async update(id: string, patch: ProviderPatch, actor: Actor, ifMatch?: string): Promise<Provider> {
      await asActor(
        db,
        actor,
        async (tx) => {
          const txRepo = providersRepo(tx)
          await lockForWrite(txRepo, id, actor, ifMatch)
          const current = (await txRepo.findById(id, SEES_ALL))!
          const organisationId =
            patch.organisation_id === undefined
              ? current.organisation_id
              : ownerForNew(actor, patch.organisation_id, current.organisation_id)
          if (organisationId !== current.organisation_id) await assertOrganisationsExist(tx, [{ id: organisationId }])
          const merged = { ...writableOf(current), ...patch }
          const was = current.location!
          const locationChanged = patch.location !== undefined && (patch.location.lat !== was.lat || patch.location.lon !== was.lon)
          await txRepo.update(toColumns(id, merged, organisationId), locationChanged)
          const [after] = await txRepo.ownersOf([id])
          assertMayWrite(actor, after)
        },
        'update',
      )
      return get(id, viewerOfActor(actor))
    },

    /**
     * Providers are never deleted: closing one is idempotent and bumps the version only when it changes. Refused
     * like update; closing neither moves nor transfers a provider, so the row as stored is all there is to check.
     */
    async close(id: string, actor: Actor, ifMatch?: string): Promise<Provider> {
      await asActor(
        db,
        actor,
        async (tx) => {
          const txRepo = providersRepo(tx)
          await lockForWrite(txRepo, id, actor, ifMatch)
          await txRepo.close(id)
        },
        'close',
      )
      return get(id, viewerOfActor(actor))
    },

    async list(q: ListQuery, viewer: Viewer): Promise<{ items: Provider[]; next_cursor: string | null }> {
      const where = await listFilters(db, q, viewer)
      const after = q.cursor ? decodeCursor(q.cursor, z.tuple([CursorText, z.uuid()])) : undefined
      const rows = await repo.list(where, q.limit, viewer, after)
      return toPage(rows, q.limit, (p) => [p.name, p.id])
    },

    /** The response body, NearestResult or its GeoJSON form, as PostgreSQL writes it for `viewer` (nearest-json.ts). */
    async nearestBody(q: NearestQuery, form: NearestForm, viewer: Viewer): Promise<string> {
      // The hot path: a prepared statement per query shape (category, limit, filters, kind of viewer), planned once per connection.
      const { rows } = await db.$client.query<{ body: string }>(nearestStatement(q, form, viewer))
      return rows[0].body
    },
  }
}
export type ProvidersService = ReturnType<typeof providersService>
