// The only place pathway geometry SQL is written.
import { sql } from 'drizzle-orm'
import type { LatLon } from '../../lib/geo.js'
import { shownDistance, type Viewer } from '../../lib/location-visibility.js'
import { pointSql } from '../../lib/point.js'

const point = (p: LatLon) => sql`${pointSql(p)}::geography`

/**
 * The nearest active focal point to `p` and its distance as `viewer` is shown it (whole kilometres when the focal
 * point's location is masked for the viewer): KNN on the (location::geography) GiST index, so the ranking is
 * geodesic, not planar degrees, and made on the real point.
 */
export const nearestFocalPointSql = (p: LatLon, viewer: Viewer) => sql`
  SELECT fp.id, ${shownDistance('fp', viewer, sql`ST_Distance(fp.location::geography, ${point(p)})`)} AS distance_m
  FROM providers fp WHERE fp.kind = 'focal_point' AND fp.status = 'active'
  ORDER BY fp.location::geography <-> ${point(p)} LIMIT 1`
