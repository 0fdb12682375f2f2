import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import type { GeoJsonGeometry } from '../../lib/geojson.js'
import type { z } from 'zod'
import type { AreaSummary } from './schemas.js'
import { coversPoint, geometryJson, repPointJson } from './spatial.js'

type Geometry = z.infer<typeof GeoJsonGeometry>
export type AreaRow = AreaSummary & { geometry?: Geometry }
export type ParentRow = { pcode: string; name_en: string; admin_level: number; level_name: string }

const summaryColumns = sql`a.pcode, a.name_en, a.name_local, a.country, a.admin_level, a.level_name, a.parent_pcode,
  a.source, a.source_id, ${repPointJson('a')} AS rep_point`
const columns = (withGeometry: boolean) => (withGeometry ? sql`${summaryColumns}, ${geometryJson('a')} AS geometry` : summaryColumns)

export interface AreaFilter {
  country?: 'BGD' | 'KHM'
  admin_level?: number
  parent?: string
  q?: string
  /** Keyset: only pcodes after this one. */
  after?: string
  limit: number
  withGeometry: boolean
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, '\\$&')

/** Areas ordered by pcode; `limit` rows at most. */
export async function listAreas(db: Db, f: AreaFilter): Promise<AreaRow[]> {
  const where: SQL[] = [sql`true`]
  if (f.country) where.push(sql`a.country = ${f.country}`)
  if (f.admin_level !== undefined) where.push(sql`a.admin_level = ${f.admin_level}`)
  if (f.parent) where.push(sql`a.parent_pcode = ${f.parent}`)
  // search_text is lower(name_en || ' ' || name_local) with a trigram index, which serves LIKE '%…%'.
  if (f.q) where.push(sql`a.search_text LIKE '%' || lower(${likeEscape(f.q)}) || '%'`)
  if (f.after !== undefined) where.push(sql`a.pcode > ${f.after}`)
  const { rows } = await db.execute<AreaRow>(sql`
    SELECT ${columns(f.withGeometry)} FROM areas a
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY a.pcode LIMIT ${f.limit}`)
  return rows
}

export async function findArea(db: Db, pcode: string, withGeometry: boolean): Promise<AreaRow | undefined> {
  const { rows } = await db.execute<AreaRow>(sql`SELECT ${columns(withGeometry)} FROM areas a WHERE a.pcode = ${pcode}`)
  return rows[0]
}

export async function areaExists(db: Db, pcode: string): Promise<boolean> {
  const { rows } = await db.execute<{ found: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM areas WHERE pcode = ${pcode}) AS found`)
  return rows[0].found
}

/** The parents of an area from the top level down (empty for level 1). */
export async function parentsOf(db: Db, pcode: string): Promise<ParentRow[]> {
  const { rows } = await db.execute<ParentRow>(sql`
    WITH RECURSIVE chain AS (
      SELECT p.pcode, p.name_en, p.admin_level, p.level_name, p.parent_pcode, 1 AS depth
      FROM areas c JOIN areas p ON p.pcode = c.parent_pcode WHERE c.pcode = ${pcode}
      UNION ALL
      SELECT p.pcode, p.name_en, p.admin_level, p.level_name, p.parent_pcode, chain.depth + 1
      FROM chain JOIN areas p ON p.pcode = chain.parent_pcode
      WHERE chain.depth < 8
    )
    SELECT pcode, name_en, admin_level, level_name FROM chain ORDER BY depth DESC`)
  return rows
}

/** Every area containing the point, deepest level first. */
export async function areasContaining(db: Db, lat: number, lon: number): Promise<AreaRow[]> {
  const { rows } = await db.execute<AreaRow>(sql`
    SELECT ${summaryColumns} FROM areas a WHERE ${coversPoint(lat, lon)}
    ORDER BY a.admin_level DESC, a.country, a.pcode`)
  return rows
}
