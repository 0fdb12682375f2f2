// Small factories that write rows straight to the database, for tests that need providers or areas
// in place before they exercise an endpoint. The API's own writes are tested through HTTP.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'
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
}

export async function insertProvider(db: Db, p: ProviderSeed): Promise<string> {
  const id = p.id ?? randomUUID()
  const name = p.name ?? `Provider ${id.slice(0, 8)}`
  const names = p.names ?? {}
  const searchText = [name, ...Object.values(names)].join(' ').toLowerCase()
  const point = sql`ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)`
  await db.execute(sql`
    INSERT INTO providers (id, name, names, search_text, kind, categories, location, area_pcodes, status,
                           funded_until, verified_on, eligible_genders, min_age, max_age, cost)
    VALUES (${id}, ${name}, ${JSON.stringify(names)}::jsonb, ${searchText}, ${p.kind ?? 'ngo'},
            ${p.categories ?? ['health']}::text[], ${point}, ${pcodesCovering(point)}, ${p.status ?? 'active'},
            ${p.funded_until ?? null}, ${p.verified_on ?? null}, ${p.eligible_genders ?? []}::text[],
            ${p.min_age ?? null}, ${p.max_age ?? null}, ${p.cost ?? null})`)
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
