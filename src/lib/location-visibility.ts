// The one place that decides which location, address and distance of a provider a caller is shown. Every output
// that carries a provider's point (detail, lists, nearest, GeoJSON, link ends and lines, pathways, area networks,
// history, and every export or tile that comes later) selects these fragments instead of the provider's columns;
// filters and rankings keep using the real point.
//
// A provider's location_visibility is exact, approximate or hidden. Callers who see exact locations (admins,
// analysts, editors of the owning organisation: roles.ts viewerOf) get the real point. Everyone else gets, for
// approximate, the representative point of the smallest known area containing it (approximatePoint) and, for hidden, no point; in both cases no address, and distances rounded to whole kilometres
// so that distances from several points cannot triangulate the provider.
import { sql, type Placeholder, type SQL } from 'drizzle-orm'

export const LOCATION_VISIBILITIES = ['exact', 'approximate', 'hidden'] as const
export type LocationVisibility = (typeof LOCATION_VISIBILITIES)[number]

/**
 * Whose exact locations a caller sees. organisationId may be a placeholder (sql.placeholder) in a statement that
 * is prepared once and run for many callers.
 */
export type Viewer =
  | { exact: 'all' }
  | { exact: 'none' }
  | { exact: 'own'; organisationId: string | Placeholder }

/** The grain distances to masked providers are rounded to, in metres. */
export const MASKED_DISTANCE_GRAIN_M = 1000

const col = (alias: string, column: string) => sql`${sql.identifier(alias)}.${sql.identifier(column)}`

/**
 * The point an approximate provider is shown at: the representative point of the smallest known area among its
 * areas (`areaPcodes`, text[]), or NULL when it lies outside every known area. Written into each statement rather
 * than kept as a SQL function: PostgreSQL cannot inline a function with ORDER BY and LIMIT, and plans its body
 * afresh on every execution of the statement that calls it (a sixth of the nearest query's time in the database).
 */
const approximatePoint = (areaPcodes: SQL) =>
  sql`(SELECT vis_a.rep_point FROM areas vis_a WHERE vis_a.pcode = ANY (${areaPcodes})
       ORDER BY vis_a.admin_level DESC, vis_a.pcode LIMIT 1)`

/** Boolean: the caller sees the real location of provider row `alias`. */
export function seesExact(alias: string, viewer: Viewer): SQL<boolean> {
  const visibility = col(alias, 'location_visibility')
  if (viewer.exact === 'all') return sql`true`
  if (viewer.exact === 'none') return sql`(${visibility} = 'exact')`
  return sql`(${visibility} = 'exact' OR ${col(alias, 'organisation_id')} = ${viewer.organisationId}::uuid)`
}

/** The point (geometry, SRID 4326) shown for provider row `alias`, or NULL when none may be shown. */
export function shownPoint(alias: string, viewer: Viewer): SQL {
  const location = col(alias, 'location')
  if (viewer.exact === 'all') return location
  return sql`(CASE WHEN ${seesExact(alias, viewer)} THEN ${location}
    WHEN ${col(alias, 'location_visibility')} = 'approximate' THEN ${approximatePoint(col(alias, 'area_pcodes'))} END)`
}

/** The address shown for provider row `alias`: none when its location is masked. */
export function shownAddress(alias: string, viewer: Viewer): SQL<string | null> {
  if (viewer.exact === 'all') return sql<string | null>`${col(alias, 'address')}`
  return sql<string | null>`(CASE WHEN ${seesExact(alias, viewer)} THEN ${col(alias, 'address')} END)`
}

/** Boolean: the location shown for provider row `alias` is not its real one (what clients label). */
export function locationMasked(alias: string, viewer: Viewer): SQL<boolean> {
  if (viewer.exact === 'all') return sql`false`
  return sql`(NOT ${seesExact(alias, viewer)})`
}

/** A distance in metres to or from provider row `alias`, as shown: rounded to whole kilometres when masked. */
export function shownDistance(alias: string, viewer: Viewer, metres: SQL): SQL<number> {
  if (viewer.exact === 'all') return sql<number>`${metres}`
  return sql<number>`(CASE WHEN ${seesExact(alias, viewer)} THEN ${metres}
    ELSE ${roundedToGrain(metres)} END)`
}

// Spatial filters. Answering "is it inside this box / within this radius?" about the real point would let a caller
// narrow the box or the radius step by step until a masked provider's exact point is found, so for rows the caller
// may not see exactly, a filter is answered about what the caller is shown: the approximate point for a bounding
// box (a hidden provider is in no box), the rounded distance for a radius.

/**
 * Boolean: provider row `alias` lies within `metres` of `here` (both geography; `locationGeog` is the row's
 * `(alias.location::geography)` as the indexes define it) as the caller sees it. The real distance plus half a grain
 * bounds every shown distance, so that first condition keeps the index usable.
 */
export function withinShownDistance(alias: string, viewer: Viewer, locationGeog: SQL, here: SQL, metres: SQL): SQL<boolean> {
  const exact = sql<boolean>`ST_DWithin(${locationGeog}, ${here}, ${metres})`
  if (viewer.exact === 'all') return exact
  return sql<boolean>`(ST_DWithin(${locationGeog}, ${here}, ${metres} + ${sql.raw(String(MASKED_DISTANCE_GRAIN_M / 2))})
    AND CASE WHEN ${seesExact(alias, viewer)} THEN ${exact}
        ELSE ${roundedToGrain(sql`ST_Distance(${locationGeog}, ${here})`)} <= ${metres} END)`
}

/**
 * Boolean: provider row `alias` lies inside `envelope` (geometry, SRID 4326) as the caller sees it: by the real
 * point when the caller sees it, else by the approximate point.
 */
export function insideShownEnvelope(alias: string, viewer: Viewer, envelope: SQL): SQL<boolean> {
  const real = sql<boolean>`ST_Intersects(${col(alias, 'location')}, ${envelope})`
  if (viewer.exact === 'all') return real
  // The areas whose representative point is in the box narrow the approximate rows through the area_pcodes index
  // before each row's approximate point is worked out.
  return sql<boolean>`((${seesExact(alias, viewer)} AND ${real})
    OR (${col(alias, 'location_visibility')} = 'approximate' AND NOT ${seesExact(alias, viewer)}
        AND ${col(alias, 'area_pcodes')} && ARRAY(SELECT vis_b.pcode FROM areas vis_b WHERE ST_Intersects(vis_b.rep_point, ${envelope}))
        AND ST_Intersects(${approximatePoint(col(alias, 'area_pcodes'))}, ${envelope})))`
}

/**
 * Boolean: provider row `alias` may lie inside `envelope` (geometry, SRID 4326) as the caller sees it. The
 * index-usable half of insideShownEnvelope, for a statement that works out every admitted row's shownPoint anyway
 * (map tiles): it must keep only the rows whose shown point intersects the envelope, and so computes an
 * approximate point once per row instead of once to filter and once to show. Like insideShownEnvelope it never
 * tests the real point of a row the caller may not see exactly.
 */
export function mayBeInsideShownEnvelope(alias: string, viewer: Viewer, envelope: SQL): SQL<boolean> {
  const real = sql<boolean>`ST_Intersects(${col(alias, 'location')}, ${envelope})`
  if (viewer.exact === 'all') return real
  return sql<boolean>`((${seesExact(alias, viewer)} AND ${real})
    OR (${col(alias, 'location_visibility')} = 'approximate' AND NOT ${seesExact(alias, viewer)}
        AND ${col(alias, 'area_pcodes')} && ARRAY(SELECT vis_b.pcode FROM areas vis_b WHERE ST_Intersects(vis_b.rep_point, ${envelope}))))`
}

/**
 * A provider row as the audit trail keeps it (jsonb: to_jsonb of the table row, location as GeoJSON), as shown to
 * the caller: location and address masked like a live row's.
 */
export function shownProviderSnapshot(snapshot: SQL, viewer: Viewer): SQL {
  if (viewer.exact === 'all') return snapshot
  const own = viewer.exact === 'own' ? sql` OR s.v->>'organisation_id' = (${viewer.organisationId}::uuid)::text` : sql``
  return sql`(SELECT CASE WHEN s.v IS NULL OR s.v->>'location_visibility' = 'exact'${own} THEN s.v
      ELSE s.v || jsonb_build_object('address', NULL, 'location',
        CASE WHEN s.v->>'location_visibility' = 'approximate' THEN ST_AsGeoJSON(${approximatePoint(
          sql`ARRAY(SELECT jsonb_array_elements_text(s.v->'area_pcodes'))`)})::jsonb END)
    END FROM (SELECT ${snapshot} AS v) s)`
}

/**
 * A distance rounded to the grain, for a client that must not learn more than the masked value: distances between
 * two providers (pathway legs) of which either end is masked. The grain is written into the text (a constant), so
 * a prepared statement's plan does not depend on a parameter here.
 */
export const roundedToGrain = (metres: SQL) =>
  sql<number>`round((${metres}) / ${sql.raw(String(MASKED_DISTANCE_GRAIN_M))}) * ${sql.raw(String(MASKED_DISTANCE_GRAIN_M))}`
