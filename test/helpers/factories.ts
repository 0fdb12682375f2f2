// Small factories that write rows straight to the database, for tests that need providers or areas
// in place before they exercise an endpoint. The API's own writes are tested through HTTP.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'
import type { LocationVisibility } from '../../src/lib/location-visibility.js'
import { DEMO_ORGANISATION_ID } from '../../src/modules/access/keys.js'
import { pcodesCovering } from '../../src/modules/areas/spatial.js'

export interface ProviderSeed {
  id?: string
  name?: string
  names?: Record<string, string>
  kind?: string
  categories?: string[]
  lat: number
  lon: number
  status?: string
  funded_until?: string | null
  verified_on?: string | null
  eligible_genders?: string[]
  min_age?: number | null
  max_age?: number | null
  cost?: string | null
  address?: string | null
  /** Left out: the database decides (approximate for a shelter, exact otherwise). */
  location_visibility?: LocationVisibility
  /** Left out: setu-demo. */
  organisation_id?: string
}

export async function insertProvider(db: Db, p: ProviderSeed): Promise<string> {
  const id = p.id ?? randomUUID()
  const name = p.name ?? `Provider ${id.slice(0, 8)}`
  const names = p.names ?? {}
  const searchText = [name, ...Object.values(names)].join(' ').toLowerCase()
  const point = sql`ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)`
  await db.execute(sql`
    INSERT INTO providers (id, name, names, search_text, kind, categories, location, area_pcodes, status,
                           funded_until, verified_on, eligible_genders, min_age, max_age, cost, address,
                           location_visibility, organisation_id)
    VALUES (${id}, ${name}, ${JSON.stringify(names)}::jsonb, ${searchText}, ${p.kind ?? 'ngo'},
            ${sql.param(p.categories ?? ['health'])}::text[], ${point}, ${pcodesCovering(point)}, ${p.status ?? 'active'},
            ${p.funded_until ?? null}, ${p.verified_on ?? null}, ${sql.param(p.eligible_genders ?? [])}::text[],
            ${p.min_age ?? null}, ${p.max_age ?? null}, ${p.cost ?? null}, ${p.address ?? null},
            ${p.location_visibility ?? null}, ${p.organisation_id ?? DEMO_ORGANISATION_ID}::uuid)`)
  return id
}

export interface AreaSeed {
  pcode: string
  name_en: string
  name_local?: string | null
  country: 'BGD' | 'KHM'
  admin_level: number
  level_name?: string
  parent_pcode?: string | null
  /** [minLon, minLat, maxLon, maxLat]: a rectangle is enough for most tests. */
  bbox: [number, number, number, number]
}

export async function insertArea(db: Db, a: AreaSeed): Promise<void> {
  const [x1, y1, x2, y2] = a.bbox
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, name_local, country, admin_level, level_name, parent_pcode, geom)
    VALUES (${a.pcode}, ${a.name_en}, ${a.name_local ?? null}, ${a.country}, ${a.admin_level},
            ${a.level_name ?? `level ${a.admin_level}`}, ${a.parent_pcode ?? null},
            ST_Multi(ST_MakeEnvelope(${x1}, ${y1}, ${x2}, ${y2}, 4326)))`)
}

// Issue 3 (referral links, MOUs). Arrays are bound whole with sql.param: drizzle otherwise expands
// a JS array into a parenthesised list of parameters.

/** A provider verified today unless told otherwise: a never-verified end makes every link broken. */
export async function insertVerifiedProvider(db: Db, p: ProviderSeed): Promise<string> {
  const id = p.id ?? randomUUID()
  const name = p.name ?? `Provider ${id.slice(0, 8)}`
  const point = sql`ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)`
  const verifiedOn = p.verified_on === undefined ? sql`setu_today()` : sql`${p.verified_on}::date`
  await db.execute(sql`
    INSERT INTO providers (id, name, search_text, kind, categories, location, area_pcodes, status, funded_until, verified_on,
                           address, location_visibility, organisation_id)
    VALUES (${id}, ${name}, ${name.toLowerCase()}, ${p.kind ?? 'ngo'}, ${sql.param(p.categories ?? ['health'])}::text[],
            ${point}, ${pcodesCovering(point)}, ${p.status ?? 'active'}, ${p.funded_until ?? null}, ${verifiedOn},
            ${p.address ?? null}, ${p.location_visibility ?? null}, ${p.organisation_id ?? DEMO_ORGANISATION_ID}::uuid)`)
  return id
}

export interface LinkSeed {
  from: string
  to: string
  categories?: string[]
  basis?: string
  status?: string
}

export async function insertLink(db: Db, l: LinkSeed): Promise<string> {
  const { rows } = await db.execute<{ id: string }>(sql`
    INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis, status)
    VALUES (${l.from}, ${l.to}, ${sql.param(l.categories ?? ['health'])}::text[], ${l.basis ?? 'informal'}, ${l.status ?? 'active'})
    RETURNING id`)
  return rows[0].id
}

export interface MouSeed {
  provider_id: string
  categories?: string[]
  status?: string
  signed_on?: string | null
  expires_on?: string | null
  counterparty?: string
}

/** An MOU row with its creation history entry, as the API would write it. */
export async function insertMou(db: Db, m: MouSeed): Promise<string> {
  const status = m.status ?? 'signed'
  const signedOn = m.signed_on !== undefined ? m.signed_on : status === 'signed' || status === 'expired' ? '2024-01-01' : null
  const { rows } = await db.execute<{ id: string }>(sql`
    INSERT INTO mous (provider_id, counterparty, counterparty_level, categories, status, signed_on, expires_on)
    VALUES (${m.provider_id}, ${m.counterparty ?? 'Ministry of Women and Children Affairs'}, 'national',
            ${sql.param(m.categories ?? ['health'])}::text[], ${status}, ${signedOn}, ${m.expires_on ?? null})
    RETURNING id`)
  await db.execute(sql`INSERT INTO mou_status_changes (mou_id, status, status_changed) VALUES (${rows[0].id}, ${status}, true)`)
  return rows[0].id
}
