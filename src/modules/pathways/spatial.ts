// The only place pathway geometry SQL is written.
import { sql } from 'drizzle-orm'
import type { LatLon } from '../../lib/geo.js'
import { pointSql } from '../../lib/point.js'

const point = (p: LatLon) => sql`${pointSql(p)}::geography`

/**
 * The nearest active focal point to `p` and its distance: KNN on the (location::geography) GiST index,
 * so the ranking is geodesic, not planar degrees.
 */
export const nearestFocalPointSql = (p: LatLon) => sql`
  SELECT id, ST_Distance(location::geography, ${point(p)}) AS distance_m
  FROM providers WHERE kind = 'focal_point' AND status = 'active'
  ORDER BY location::geography <-> ${point(p)} LIMIT 1`
