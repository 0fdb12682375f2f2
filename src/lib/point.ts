// The one way a WGS 84 point enters SQL. The coordinates are bound parameters cast to float8, so the statement
// text is the same for every point (one prepared statement, one plan) and a placeholder can stand for them in
// a statement built once per query shape.
import { sql, type Placeholder } from 'drizzle-orm'

/** A value bound as a parameter: the value itself, or a placeholder filled per request. */
export type Bound = number | Placeholder
export type BoundPoint = { lat: Bound; lon: Bound }

export const pointSql = (p: BoundPoint) => sql`ST_SetSRID(ST_MakePoint(${p.lon}::float8, ${p.lat}::float8), 4326)`
