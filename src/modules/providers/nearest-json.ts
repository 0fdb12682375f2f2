// GET /v1/providers/nearest answered by PostgreSQL: the whole response body as one text value, which Node
// passes through instead of parsing rows into objects, validating them and serialising them again (the hot
// path; see bench/README.md). Keys come from the documented schemas, so the body has their field order.
import { createHash } from 'node:crypto'
import { fillPlaceholders, sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { z } from 'zod'
import { locationMasked, shownAddress, shownDistance, shownPoint, type Viewer } from '../../lib/location-visibility.js'
import { mouStatusByCategory } from '../mous/repo.js'
import { NearestProvider, Provider, type NearestQuery } from './schemas.js'
import { NEAREST_BOUND_FIELDS, nearestBound, nearestSql, type NearestBound } from './spatial.js'

/** A timestamp as the API writes it: UTC, microseconds, Z. */
export const isoTime = (column: SQL) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

// Each helper yields the JSON text of one value, or NULL for JSON null. to_json escapes strings exactly as
// JSON.stringify does; a float8 prints its shortest exact digits like a JavaScript number, but below 1e-4 in
// exponent form (1e-05 for 0.00001): the same number to any JSON reader.
const str = (e: SQL) => sql`to_json(${e})::text`
const num = (e: SQL) => sql`(${e})::text`
const strArray = (e: SQL) => sql`array_to_json(${e})::text`
const jsonbMember = (v: SQL, key: string) => sql`(${v}->${sql.raw(`'${key}'`)})::text`

/**
 * A jsonb object of strings (names, mou_status) as compact text. jsonb prints `{"a": "x", "b": "y"}`; inside a
 * JSON string every `"` is escaped, so `": "` and `", "`, which end in an unescaped quote, occur only between
 * tokens and can be closed up.
 */
const compactStringMap = (e: SQL) => sql`replace(replace((${e})::text, '": "', '":"'), '", "', '","')`

/**
 * A JSON object with the keys of `schema` in its order, each value from `values` (SQL yielding JSON text).
 * A missing or extra key throws when the module loads, so the body cannot drift from the documented shape.
 * NULL becomes null, or leaves out a key that the schema marks optional.
 */
function jsonObject(schema: { shape: Record<string, z.ZodType> }, values: Record<string, SQL>): SQL {
  const keys = Object.keys(schema.shape)
  const unmatched = [...keys.filter((k) => !(k in values)), ...Object.keys(values).filter((k) => !keys.includes(k))]
  if (unmatched.length) throw new Error(`nearest-json: no SQL for, or no schema field for: ${unmatched.join(', ')}`)
  const parts = keys.map((key, i) => {
    if (!/^[a-z_]+$/.test(key)) throw new Error(`nearest-json: key ${key} cannot be written into an SQL literal`)
    const label = sql.raw(`'${i === 0 ? '{' : ','}"${key}":'`)
    if (schema.shape[key] instanceof z.ZodOptional) {
      if (i === 0) throw new Error(`nearest-json: optional first key ${key}`)
      return sql`coalesce(${label} || ${values[key]}, '')`
    }
    return sql`${label} || coalesce(${values[key]}, 'null')`
  })
  return sql`(${sql.join(parts, sql` || `)} || '}')`
}

/** A jsonb array whose elements are rebuilt by `element` (jsonb keeps object keys in its own order, not ours). */
const jsonArrayOf = (array: SQL, alias: string, element: (v: SQL) => SQL) => {
  const v = sql.raw(`${alias}.v`)
  return sql`CASE WHEN jsonb_array_length(${array}) = 0 THEN '[]' ELSE (
    SELECT '[' || string_agg(${element(v)}, ',' ORDER BY ${sql.raw(alias)}.o) || ']'
    FROM jsonb_array_elements(${array}) WITH ORDINALITY AS ${sql.raw(alias)} (v, o)) END`
}

const shape = Provider.shape

// What rowToProvider (repo.ts) makes of providerSelect's row, over alias p: one column j_<field> per field.
// location, outside_known_areas and distance_m come together in the outer query; address and location_masked
// depend on who asks (viewerFields).
const fields = {
  id: str(sql`p.id`),
  organisation_id: str(sql`p.organisation_id`),
  name: str(sql`p.name`),
  names: compactStringMap(sql`p.names`),
  kind: str(sql`p.kind`),
  categories: strArray(sql`p.categories`),
  services: jsonArrayOf(sql`p.services`, 'svc', (v) =>
    jsonObject(shape.services.element, {
      category: jsonbMember(v, 'category'),
      name: jsonbMember(v, 'name'),
      description: jsonbMember(v, 'description'),
    }),
  ),
  location_visibility: str(sql`p.location_visibility`),
  phones: strArray(sql`p.phones`),
  email: str(sql`p.email`),
  website: str(sql`p.website`),
  languages: strArray(sql`p.languages`),
  eligibility: jsonObject(shape.eligibility, {
    genders: strArray(sql`p.eligible_genders`),
    min_age: num(sql`p.min_age`),
    max_age: num(sql`p.max_age`),
    requires: strArray(sql`p.requires`),
  }),
  cost: str(sql`p.cost`),
  capacity: num(sql`p.capacity`),
  opening_hours: str(sql`p.opening_hours`),
  status: str(sql`p.status`),
  funded_until: str(sql`p.funded_until`),
  verification: sql`CASE WHEN p.verified_on IS NOT NULL AND p.verification_method IS NOT NULL THEN ${jsonObject(shape.verification.unwrap(), {
    on: str(sql`p.verified_on`),
    method: str(sql`p.verification_method`),
    by: str(sql`p.verified_by`),
  })} END`,
  external_ids: jsonArrayOf(sql`p.external_ids`, 'ext', (v) =>
    jsonObject(shape.external_ids.element, { scheme: jsonbMember(v, 'scheme'), id: jsonbMember(v, 'id') }),
  ),
  notes: str(sql`p.notes`),
  areas: sql`coalesce((
    SELECT '[' || string_agg(${jsonObject(shape.areas.element, {
      pcode: str(sql`a.pcode`),
      admin_level: num(sql`a.admin_level`),
      name_en: str(sql`a.name_en`),
    })}, ',' ORDER BY a.admin_level, a.pcode) || ']'
    FROM areas a WHERE a.pcode = ANY(p.area_pcodes)), '[]')`,
  mou_status: compactStringMap(mouStatusByCategory('p')),
  created_at: str(isoTime(sql`p.created_at`)),
  updated_at: str(isoTime(sql`p.updated_at`)),
  version: num(sql`p.version`),
} satisfies Partial<Record<keyof NearestProvider, SQL>>

const viewerFields = (viewer: Viewer) => ({
  address: str(shownAddress('p', viewer)),
  location_masked: sql`(${locationMasked('p', viewer)})::text`,
})

type FieldKey = keyof typeof fields | keyof ReturnType<typeof viewerFields>
const column = (key: FieldKey) => sql.raw(`n.j_${key}`)
// GeoJSON: the provider without its location, which becomes the geometry ([lon, lat], RFC 7946).
const { location: _location, ...propertiesShape } = NearestProvider.shape

const dialect = new PgDialect()

/**
 * The select list of the nearest query (over alias p, see nearestSql) and the bodies built from its rows (alias n),
 * as `viewer` is shown them: the shown point (shown_point), address and distance through the one mask
 * (lib/location-visibility.ts). The stored location_visibility and organisation_id travel along as plain columns,
 * so that the distance is masked after the rows are ranked by the real one.
 */
function nearestParts(viewer: Viewer) {
  const all = { ...fields, ...viewerFields(viewer) }
  const fromColumns = Object.fromEntries(Object.keys(all).map((k) => [k, column(k as FieldKey)]))
  const derived = {
    outside_known_areas: sql`(n.j_areas = '[]')::text`,
    distance_m: num(shownDistance('n', viewer, sql`n.distance_m`)),
  }
  const [lat, lon] = [sql`ST_Y(n.shown_point)::text`, sql`ST_X(n.shown_point)::text`]
  const location = sql`CASE WHEN n.shown_point IS NOT NULL THEN ${jsonObject(shape.location.unwrap(), { lat, lon })} END`
  const item = jsonObject(NearestProvider, { ...fromColumns, ...derived, location })
  const geometry = sql`CASE WHEN n.shown_point IS NOT NULL
    THEN '{"type":"Point","coordinates":[' || ${lon} || ',' || ${lat} || ']}' END`
  const properties = jsonObject({ shape: propertiesShape }, { ...fromColumns, ...derived })
  const feature = sql`'{"type":"Feature","id":' || n.j_id || ',"geometry":' || coalesce(${geometry}, 'null') ||
    ',"properties":' || ${properties} || '}'`

  const columns = Object.entries(all).map(([key, value]) => sql`${value} AS ${sql.raw(`j_${key}`)}`)
  const innerSelect = sql`p.id, p.location_visibility, p.organisation_id, ${shownPoint('p', viewer)} AS shown_point,
    ${sql.join(columns, sql`, `)}`
  const inOrder = sql`ORDER BY n.distance_m, n.id`
  const bodies = {
    json: sql`'{"items":[' || coalesce(string_agg(${item}, ',' ${inOrder}), '') || '],"next_cursor":null}'`,
    geojson: sql`'{"type":"FeatureCollection","features":[' || coalesce(string_agg(${feature}, ',' ${inOrder}), '') || '],"numberReturned":' || count(*) || '}'`,
  }
  return { innerSelect, bodies }
}

type NearestParts = ReturnType<typeof nearestParts>
// Callers who see every location, and callers who see none: the same SQL for each of them, built (and checked
// against the schema) when the module loads. An editor's parts name its organisation, and are built with the
// statement, once per shape (nearestStatement).
const PARTS = {
  all: nearestParts({ exact: 'all' }),
  none: nearestParts({ exact: 'none' }),
}
const partsFor = (viewer: Viewer): NearestParts => (viewer.exact === 'own' ? nearestParts(viewer) : PARTS[viewer.exact])

export type NearestForm = keyof NearestParts['bodies']

/**
 * The nearest query (spatial.ts nearestSql: KNN on the index, re-ranked on the spheroid) wrapped so that it
 * returns one row with one text column, body: the NearestResult, or with form geojson its FeatureCollection,
 * as `viewer` may see it.
 */
export function nearestBodySql(q: NearestQuery, form: NearestForm, viewer: Viewer, bound?: NearestBound): SQL {
  const { innerSelect, bodies } = partsFor(viewer)
  return sql`SELECT ${bodies[form]} AS body FROM (${nearestSql(q, innerSelect, viewer, bound)}) n`
}

const placeholders: NearestBound = {
  lat: sql.placeholder('lat'),
  lon: sql.placeholder('lon'),
  age: sql.placeholder('age'),
  max_m: sql.placeholder('max_m'),
}
const boundFields = new Set<string>(NEAREST_BOUND_FIELDS)
/** An editor's view, its organisation bound per request: every editor of every organisation shares the statement. */
const OWN_ORGANISATION: Viewer = { exact: 'own', organisationId: sql.placeholder('organisation') }

/**
 * Everything in q that decides the statement: each field by value, but the bound ones only by being given; and
 * the kind of viewer (all, none, own), not who it is.
 */
function shapeOf(q: NearestQuery, form: NearestForm, viewer: Viewer): string {
  let key = `${form}|${viewer.exact}`
  for (const [field, value] of Object.entries(q)) key += `|${field}:${boundFields.has(field) ? '?' : JSON.stringify(value)}`
  return key
}

// Shapes are few in practice (category, limit, filters); the bound only keeps a stream of odd ones in check.
const MAX_SHAPES = 2000
const statements = new Map<string, { name?: string; text: string; params: unknown[] }>()

/**
 * Every backend keeps each prepared statement it has run, with its plan (a few hundred kB for this query), until
 * the connection closes: past this many distinct statements, rarer shapes run unnamed, parsed and planned on every
 * request, so that a client cycling through filters and limits cannot grow every backend without end.
 */
export const MAX_PREPARED = 100
const prepared = new Set<string>()

/**
 * The statement for q, as pg's query config: built and named once per shape, with placeholders where
 * nearestBound's values go, then filled per request. Building and hashing the SQL on every request was the
 * largest cost left in the hot path's Node time.
 */
export function nearestStatement(
  q: NearestQuery,
  form: NearestForm,
  viewer: Viewer,
): { name?: string; text: string; values: unknown[] } {
  const shape = shapeOf(q, form, viewer)
  let statement = statements.get(shape)
  if (!statement) {
    const anyOrganisation = viewer.exact === 'own' ? OWN_ORGANISATION : viewer
    const { sql: text, params } = dialect.sqlToQuery(nearestBodySql(q, form, anyOrganisation, placeholders))
    let name: string | undefined = `nearest_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
    if (prepared.has(name) || prepared.size < MAX_PREPARED) prepared.add(name)
    else name = undefined
    statement = { name, text, params }
    if (statements.size >= MAX_SHAPES) statements.clear()
    statements.set(shape, statement)
  }
  const organisation = viewer.exact === 'own' ? { organisation: viewer.organisationId } : {}
  const values = fillPlaceholders(statement.params, { ...nearestBound(q), ...organisation })
  return { name: statement.name, text: statement.text, values }
}
