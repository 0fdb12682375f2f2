// Synthetic provider points inside Bangladesh's real unions (loaded by bench/bgd-boundaries.ts), for the benchmarks
// that need the real density: 0 to 2.2 times the mean per union, so that small urban unions are dense, each point
// with its union and the union's parents as area_pcodes (what a write computes, without N point-in-polygon lookups).
import { sql, type SQL } from 'drizzle-orm'

/**
 * The common table expressions `unions` and `pts (pcodes, pt, ord)`: at least N points; take N with
 * `ORDER BY ord LIMIT N`. The same points on every run: each union's share and the cut are drawn from hashes of
 * the pcodes, not from random(), whose values would follow the order the join happens to produce rows in (two runs
 * had cut off different unions, 301 against 1 union left with a gap in coverage). ord mixes the unions, so that
 * the points cut off are spread over the country rather than one region.
 */
export const unionPointsCtes = (n: number): SQL => sql`
  unions AS (
    SELECT u.pcode, u.geom, ARRAY[d1.pcode, d2.pcode, d3.pcode, u.pcode] AS pcodes,
           floor((hashtext(u.pcode) & 2147483647)::float8 / 2147483648 * 2.2 * ${n}::float8 / count(*) OVER ())::int AS k
    FROM areas u JOIN areas d3 ON d3.pcode = u.parent_pcode JOIN areas d2 ON d2.pcode = d3.parent_pcode
    JOIN areas d1 ON d1.pcode = d2.parent_pcode
    WHERE u.country = 'BGD' AND u.admin_level = 4
  ), pts AS (
    SELECT unions.pcodes, d.geom AS pt, hashtext(unions.pcode || '/' || d.path[1]) AS ord
    FROM unions CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(unions.geom, unions.k, 42)) AS d WHERE unions.k > 0
  )`
