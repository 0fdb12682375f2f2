// The only place referral-link geometry SQL is written.
import { sql } from 'drizzle-orm'

/** jsonb summary of the provider row `alias` at one end of a link, with its point as {lat, lon}. */
export const linkEnd = (alias: string) => {
  const p = sql.identifier(alias)
  return sql`jsonb_build_object('id', ${p}.id, 'name', ${p}.name, 'kind', ${p}.kind, 'status', ${p}.status,
    'categories', to_jsonb(${p}.categories),
    'location', jsonb_build_object('lat', ST_Y(${p}.location), 'lon', ST_X(${p}.location)))`
}

/** Geodesic length in metres of the straight line between two provider rows. */
export const distanceBetweenM = (a: string, b: string) =>
  sql<number>`ST_Distance(${sql.identifier(a)}.location::geography, ${sql.identifier(b)}.location::geography)`
