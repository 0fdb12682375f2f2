// The only place referral-link geometry SQL is written.
import { sql } from 'drizzle-orm'
import { locationMasked, shownPoint, type Viewer } from '../../lib/location-visibility.js'

/**
 * jsonb summary of the provider row `alias` at one end of a link, as `viewer` may see it: its point as
 * {lat, lon} (the masked one, or null when hidden, lib/location-visibility.ts), how it is shown and whether it
 * is masked. Links, provider links, pathways and area networks all show providers through this one summary.
 */
export const linkEnd = (alias: string, viewer: Viewer) => {
  const p = sql.identifier(alias)
  return sql`jsonb_build_object('id', ${p}.id, 'name', ${p}.name, 'kind', ${p}.kind, 'status', ${p}.status,
    'categories', to_jsonb(${p}.categories),
    'location', (SELECT jsonb_build_object('lat', ST_Y(le_s.pt), 'lon', ST_X(le_s.pt))
                 FROM (SELECT ${shownPoint(alias, viewer)} AS pt) le_s WHERE le_s.pt IS NOT NULL),
    'location_visibility', ${p}.location_visibility,
    'location_masked', ${locationMasked(alias, viewer)})`
}

/** Geodesic length in metres of the straight line between two provider rows (their real points: for ranking). */
export const distanceBetweenM = (a: string, b: string) =>
  sql<number>`ST_Distance(${sql.identifier(a)}.location::geography, ${sql.identifier(b)}.location::geography)`
