// Provider rows in and out of SQL. Every read selects providerSelect, so a computed field is added in one place.
import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { locationMasked, shownAddress, shownPoint, type LocationVisibility, type Viewer } from '../../lib/location-visibility.js'
import type { OwnedProvider } from '../access/ownership.js'
import { pcodesCovering } from '../areas/spatial.js'
import { mouStatusByCategory } from '../mous/repo.js'
import { isoTime, nearestBodySql, type NearestForm } from './nearest-json.js'
import type { NearestQuery, Provider } from './schemas.js'
import { point } from './spatial.js'

type Executor = Pick<Db, 'execute'>

/**
 * The columns every provider read returns to `viewer`, over alias p; rowToProvider turns one row into the API
 * shape. Location and address pass through the mask (lib/location-visibility.ts), so a caller who may not see a
 * provider's exact location gets its approximate point or none. location_visibility and organisation_id are the
 * stored values, which the mask of a distance computed around this select reads (nearest-json.ts).
 * The nearest hot path builds the same fields as JSON text instead (nearest-json.ts): change both.
 */
export function providerSelect(viewer: Viewer): SQL {
  // Written twice (lat, lon): for a masked viewer its CASE runs twice per row, cheap next to the rest of the row.
  const shown = shownPoint('p', viewer)
  return sql`
  p.id, p.organisation_id, p.name, p.names, p.kind, p.categories, p.services, ST_Y(${shown}) AS lat, ST_X(${shown}) AS lon,
  p.location_visibility, ${locationMasked('p', viewer)} AS location_masked, ${shownAddress('p', viewer)} AS address,
  p.phones, p.email, p.website, p.languages, p.eligible_genders, p.min_age, p.max_age, p.requires,
  p.cost, p.capacity, p.opening_hours, p.status, p.funded_until, p.verified_on, p.verification_method,
  p.verified_by, p.external_ids, p.notes, ${isoTime(sql`p.created_at`)} AS created_at,
  ${isoTime(sql`p.updated_at`)} AS updated_at, p.version, ${mouStatusByCategory('p')} AS mou_status,
  coalesce((SELECT json_agg(json_build_object('pcode', a.pcode, 'admin_level', a.admin_level, 'name_en', a.name_en)
                            ORDER BY a.admin_level, a.pcode)
            FROM areas a WHERE a.pcode = ANY(p.area_pcodes)), '[]'::json) AS areas`
}

/** The exact SQL GET /v1/providers/nearest runs for `viewer` (exported so a test can EXPLAIN it): one row, the body. */
export const nearestProvidersSql = (q: NearestQuery, form: NearestForm, viewer: Viewer): SQL =>
  nearestBodySql(q, form, viewer)

/** A row as providerSelect reads it: the stored columns (but the search text) and the computed ones. */
export type ProviderRow = Omit<ProviderColumns, 'search_text' | 'lat' | 'lon' | 'location_visibility'> & {
  /** The shown point: null when none may be shown. */
  lat: number | null
  lon: number | null
  location_visibility: LocationVisibility
  location_masked: boolean
  created_at: string
  updated_at: string
  version: number
  areas: Provider['areas']
  mou_status: Provider['mou_status']
}

export function rowToProvider(r: ProviderRow): Provider {
  return {
    id: r.id,
    organisation_id: r.organisation_id,
    name: r.name,
    names: r.names,
    kind: r.kind,
    categories: r.categories,
    services: r.services,
    location: r.lat === null || r.lon === null ? null : { lat: r.lat, lon: r.lon },
    location_visibility: r.location_visibility,
    location_masked: r.location_masked,
    address: r.address,
    phones: r.phones,
    email: r.email,
    website: r.website,
    languages: r.languages,
    eligibility: { genders: r.eligible_genders, min_age: r.min_age, max_age: r.max_age, requires: r.requires },
    cost: r.cost,
    capacity: r.capacity,
    opening_hours: r.opening_hours,
    status: r.status,
    funded_until: r.funded_until,
    verification: r.verified_on && r.verification_method ? { on: r.verified_on, method: r.verification_method, by: r.verified_by } : null,
    external_ids: r.external_ids,
    notes: r.notes,
    areas: r.areas,
    outside_known_areas: r.areas.length === 0,
    mou_status: r.mou_status,
    created_at: r.created_at,
    updated_at: r.updated_at,
    version: r.version,
  }
}

/** What one provider row stores, flattened from the API shape (service.ts builds it). */
export interface ProviderColumns {
  id: string
  organisation_id: string
  /** null: the database decides (approximate for a shelter, exact otherwise; migration 0004). */
  location_visibility: LocationVisibility | null
  name: string
  names: Record<string, string>
  search_text: string
  kind: Provider['kind']
  categories: Provider['categories']
  services: Provider['services']
  lat: number
  lon: number
  address: string | null
  phones: string[]
  email: string | null
  website: string | null
  languages: string[]
  eligible_genders: Provider['eligibility']['genders']
  min_age: number | null
  max_age: number | null
  requires: Provider['eligibility']['requires']
  cost: Provider['cost']
  capacity: number | null
  opening_hours: string | null
  status: Provider['status']
  funded_until: string | null
  verified_on: string | null
  verification_method: NonNullable<Provider['verification']>['method'] | null
  verified_by: string | null
  external_ids: Provider['external_ids']
  notes: string | null
}

// Arrays go in as one bound parameter each (drizzle would otherwise expand a JS array into a row).
const arr = (v: string[]) => sql`${sql.param(v)}::text[]`
const json = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`

/**
 * The stored columns of ProviderColumns with their types: the rows of one INSERT travel as a single JSON parameter,
 * which json_to_recordset turns back into typed columns (JSON numbers parse exactly as float8, arrays as text[]).
 */
const ROW_TYPES = sql.raw(`id uuid, organisation_id uuid, location_visibility text, name text, names jsonb,
  search_text text, kind text, categories text[], services jsonb, lat float8, lon float8, address text, phones text[],
  email text, website text, languages text[], eligible_genders text[], min_age smallint, max_age smallint,
  requires text[], cost text, capacity int, opening_hours text, status text, funded_until date, verified_on date,
  verification_method text, verified_by text, external_ids jsonb, notes text`)

// PostgreSQL refuses a JSON text holding half a surrogate pair, which JSON.stringify writes as a \udXXX escape.
// As a plain text parameter the same string reaches PostgreSQL with U+FFFD in its place (node-postgres encodes it
// as UTF-8), so the JSON path does the same. Only a text with such an escape (or a literal "\ud8…") is redone.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
function jsonParameter(value: unknown): string {
  const text = JSON.stringify(value)
  if (!/\\ud[89a-f]/i.test(text)) return text
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\uFFFD') : v))
}

/** What the ownership checks read of a stored provider, and its version for If-Match. */
export interface StoredOwner extends OwnedProvider {
  id: string
  version: number
}

export function providersRepo(db: Executor) {
  return {
    async findById(id: string, viewer: Viewer): Promise<Provider | undefined> {
      const { rows } = await db.execute(sql`SELECT ${providerSelect(viewer)} FROM providers p WHERE p.id = ${id}::uuid`)
      return rows[0] ? rowToProvider(rows[0] as unknown as ProviderRow) : undefined
    },

    /** Owner, areas and version of each existing provider among ids; with lock, locked until the transaction ends. */
    async ownersOf(ids: string[], lock = false): Promise<StoredOwner[]> {
      const { rows } = await db.execute(sql`
        SELECT p.id, p.organisation_id, p.area_pcodes, p.version FROM providers p
        WHERE p.id = ANY(${sql.param(ids)}::uuid[]) ${lock ? sql`FOR UPDATE OF p` : sql``}`)
      return rows as unknown as StoredOwner[]
    },

    /** The ids among these that name no organisation. */
    async unknownOrganisations(ids: string[]): Promise<string[]> {
      const { rows } = await db.execute<{ id: string }>(sql`
        SELECT x.id FROM unnest(${sql.param(ids)}::uuid[]) AS x (id)
        WHERE NOT EXISTS (SELECT 1 FROM organisations o WHERE o.id = x.id)`)
      return rows.map((r) => r.id)
    },

    /**
     * Inserts every row in one statement, the areas of each computed from its location on the way in. One JSON
     * parameter and one plan for the whole batch: with a VALUES row of 28 parameters per provider, drizzle took
     * longer to assemble the statement than PostgreSQL to run it, and the areas subquery written into each row was
     * a subplan of its own, planned once per row (see bench/README.md, bench:bulk).
     */
    async insertMany(rows: ProviderColumns[]): Promise<void> {
      if (rows.length === 0) return
      await db.execute(sql`
        INSERT INTO providers (id, organisation_id, location_visibility, name, names, search_text, kind, categories,
          services, location, area_pcodes, address, phones, email, website, languages, eligible_genders, min_age,
          max_age, requires, cost, capacity, opening_hours, status, funded_until, verified_on, verification_method,
          verified_by, external_ids, notes)
        SELECT r.id, r.organisation_id, r.location_visibility, r.name, r.names, r.search_text, r.kind, r.categories,
               r.services, r.location, ${pcodesCovering(sql`r.location`)}, r.address, r.phones, r.email, r.website,
               r.languages, r.eligible_genders, r.min_age, r.max_age, r.requires, r.cost, r.capacity, r.opening_hours,
               r.status, r.funded_until, r.verified_on, r.verification_method, r.verified_by, r.external_ids, r.notes
        -- the SQL twin of spatial.ts point(), over columns instead of parameters
        FROM (SELECT j.*, ST_SetSRID(ST_MakePoint(j.lon, j.lat), 4326) AS location
              FROM json_to_recordset(${jsonParameter(rows)}::json) AS j (${ROW_TYPES})) r`)
    },

    /**
     * Overwrites every writable column and bumps version; area_pcodes is recomputed only when the location moved.
     * A location_visibility of null lets the database choose it again for the (new) categories.
     */
    async update(c: ProviderColumns, locationChanged: boolean): Promise<void> {
      const pt = point(c)
      await db.execute(sql`
        UPDATE providers p SET
          organisation_id = ${c.organisation_id}::uuid, location_visibility = ${c.location_visibility},
          name = ${c.name}, names = ${json(c.names)}, search_text = ${c.search_text}, kind = ${c.kind},
          categories = ${arr(c.categories)}, services = ${json(c.services)},
          ${locationChanged ? sql`location = ${pt}, area_pcodes = ${pcodesCovering(pt)},` : sql``}
          address = ${c.address}, phones = ${arr(c.phones)}, email = ${c.email}, website = ${c.website},
          languages = ${arr(c.languages)}, eligible_genders = ${arr(c.eligible_genders)},
          min_age = ${c.min_age}::smallint, max_age = ${c.max_age}::smallint, requires = ${arr(c.requires)},
          cost = ${c.cost}, capacity = ${c.capacity}::int, opening_hours = ${c.opening_hours}, status = ${c.status},
          funded_until = ${c.funded_until}::date, verified_on = ${c.verified_on}::date,
          verification_method = ${c.verification_method}, verified_by = ${c.verified_by},
          external_ids = ${json(c.external_ids)}, notes = ${c.notes},
          version = p.version + 1, updated_at = now()
        WHERE p.id = ${c.id}::uuid`)
    },

    async close(id: string): Promise<void> {
      await db.execute(sql`UPDATE providers SET status = 'closed', version = version + 1, updated_at = now()
                           WHERE id = ${id}::uuid AND status <> 'closed'`)
    },

    /** One page ordered by (name, id), after the cursor key when given; fetches limit + 1 rows. */
    async list(where: SQL[], limit: number, viewer: Viewer, after?: [string, string]): Promise<Provider[]> {
      const conditions = [...where]
      if (after) conditions.push(sql`(p.name, p.id) > (${after[0]}, ${after[1]}::uuid)`)
      const { rows } = await db.execute(sql`
        SELECT ${providerSelect(viewer)} FROM providers p
        ${conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``}
        ORDER BY p.name, p.id
        LIMIT ${limit + 1}::int`)
      return (rows as unknown as ProviderRow[]).map(rowToProvider)
    },

    async areaExists(pcode: string): Promise<boolean> {
      const { rows } = await db.execute(sql`SELECT 1 FROM areas WHERE pcode = ${pcode}`)
      return rows.length > 0
    },
  }
}
export type ProvidersRepo = ReturnType<typeof providersRepo>
