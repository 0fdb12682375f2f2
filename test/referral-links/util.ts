// Shared by the referral-link, MOU, pathway and network tests: dates relative to the database's today (the same
// setu_today() health uses), and providers with an owner and a location visibility.
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'
import type { LocationVisibility } from '../../src/lib/location-visibility.js'
import { insertVerifiedProvider, type ProviderSeed } from '../helpers/factories.js'

export async function dayOffset(db: Db, days: number): Promise<string> {
  const { rows } = await db.execute<{ d: string }>(sql`SELECT (setu_today() + ${days}::int)::text AS d`)
  return rows[0].d
}

export async function monthsAgo(db: Db, months: number, plusDays = 0): Promise<string> {
  const { rows } = await db.execute<{ d: string }>(
    sql`SELECT ((setu_today() - make_interval(months => ${months}::int))::date + ${plusDays}::int)::text AS d`,
  )
  return rows[0].d
}

export const problemJson = /^application\/problem\+json/

/**
 * A verified provider owned by `organisationId`, shown to outsiders as `visibility` (the trigger's default when
 * omitted: approximate for shelters, exact otherwise). Written straight to the table, outside the API.
 */
export async function insertOwnedProvider(
  db: Db,
  seed: ProviderSeed,
  { organisationId, visibility }: { organisationId: string; visibility?: LocationVisibility },
): Promise<string> {
  const id = await insertVerifiedProvider(db, seed)
  await db.execute(sql`UPDATE providers SET organisation_id = ${organisationId}::uuid,
    location_visibility = ${visibility ?? null} WHERE id = ${id}`)
  return id
}

/** The representative point of an area: where an approximate provider inside it (and in no smaller area) is shown. */
export async function repPoint(db: Db, pcode: string): Promise<{ lat: number; lon: number }> {
  const { rows } = await db.execute<{ lat: number; lon: number }>(
    sql`SELECT ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas WHERE pcode = ${pcode}`,
  )
  return rows[0]
}

/** Geodesic distance in metres between two providers' real points, as PostGIS computes it. */
export async function distanceBetween(db: Db, a: string, b: string): Promise<number> {
  const { rows } = await db.execute<{ d: number }>(sql`
    SELECT ST_Distance(pa.location::geography, pb.location::geography) AS d
    FROM providers pa, providers pb WHERE pa.id = ${a} AND pb.id = ${b}`)
  return rows[0].d
}
