// Synthetic provider points inside Bangladesh's real unions (loaded by bench/bgd-boundaries.ts), for the benchmarks
// that need the real density: 0 to 2.2 times the mean per union, so that small urban unions are dense, each point
// with its union and the union's parents as area_pcodes (what a write computes, without N point-in-polygon lookups).
import { sql, type SQL } from 'drizzle-orm'

/**
 * The common table expressions `unions` and `pts (pcodes, pt)`: at least N points (take N with LIMIT). Random but
 * repeatable when the same transaction ran `SELECT setseed(…)` first.
 */
export const unionPointsCtes = (n: number): SQL => sql`
  unions AS (
    SELECT u.pcode, u.geom, ARRAY[d1.pcode, d2.pcode, d3.pcode, u.pcode] AS pcodes,
           floor(random() * 2.2 * ${n}::float8 / count(*) OVER ())::int AS k
    FROM areas u JOIN areas d3 ON d3.pcode = u.parent_pcode JOIN areas d2 ON d2.pcode = d3.parent_pcode
    JOIN areas d1 ON d1.pcode = d2.parent_pcode
    WHERE u.country = 'BGD' AND u.admin_level = 4
  ), pts AS (
    SELECT pcodes, (ST_Dump(ST_GeneratePoints(geom, k, 42))).geom AS pt FROM unions WHERE k > 0
  )`
