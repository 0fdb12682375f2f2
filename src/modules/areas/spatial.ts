// The only place area geometry SQL is written.
import { sql, type SQL } from 'drizzle-orm'

/** pcodes of every area whose polygon covers `point` (a geometry SQL expression), shallowest level first. */
export const pcodesCovering = (point: SQL) =>
  sql`ARRAY(SELECT a.pcode FROM areas a WHERE ST_Covers(a.geom, ${point}) ORDER BY a.admin_level, a.pcode)`

/**
 * Recomputes providers.area_pcodes for providers whose location is covered by any area in `pcodes`
 * (or for every provider when pcodes is omitted). Run after areas change, in the same transaction,
 * so the stored area codes never disagree with the map.
 */
export const refreshProviderAreas = (pcodes?: string[]) =>
  pcodes
    ? sql`UPDATE providers p SET area_pcodes = ${pcodesCovering(sql`p.location`)}
          WHERE EXISTS (SELECT 1 FROM areas a WHERE a.pcode = ANY(${pcodes}::text[]) AND ST_Covers(a.geom, p.location))
             OR p.area_pcodes && ${pcodes}::text[]`
    : sql`UPDATE providers p SET area_pcodes = ${pcodesCovering(sql`p.location`)}`
