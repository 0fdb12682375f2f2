// The CSV export's cells computed by PostgreSQL: each provider arrives as one JSON array of its finished cell texts
// (CSV_COLUMNS order), which Node only quotes and joins (writers.ts csvLine); only the two lists of objects
// (services, external_ids) come as stored and are joined in Node. Reading providerSelect's row into
// objects, reshaping it (rowToProvider, csvRecordOf) and stringifying it made the CSV export of 100,000 providers
// take about 4 s and 210 MB in the server; see bench/README.md (bench:export). Quoting stays in JavaScript: done
// in SQL, a regular expression per cell cost PostgreSQL more than the whole row.
//
// The cells are exactly what csvRecordOf makes of providerSelect's row (test/export compares the two on rows built
// to hit every rule). Location and address come through lib/location-visibility.ts, like every read.
import { sql, type SQL } from 'drizzle-orm'
import { locationMasked, shownAddress, shownPoint, type Viewer } from '../../lib/location-visibility.js'
import { CATEGORIES } from '../../lib/vocabulary.js'
import { mouStatusByCategory } from '../mous/repo.js'
import { isoTime } from '../providers/nearest-json.js'
import { CSV_HEADER } from './schemas.js'

/**
 * A coordinate as the text JavaScript's String(n) writes, or NULL. PostgreSQL prints a float8 with the same shortest
 * digits, but below 1e-4 in exponent form (1e-05 for 0.00001) and -0 as such: those (never in Bangladesh or
 * Cambodia) travel as JSON numbers, which csvLine prints itself. Printing in Node cost it more than the database.
 */
const jsNumber = (e: SQL) =>
  sql`(SELECT CASE WHEN abs(n.v) >= 1e-4 AND abs(n.v) < 1e15 THEN to_json(n.v::text) ELSE to_json(n.v) END FROM (SELECT (${e})::float8 AS v) n)`

const text = (e: SQL) => sql`coalesce((${e})::text, '')`
const list = (e: SQL) => sql`array_to_string(${e}, ';', '')`
const member = (v: SQL, key: string) => sql`coalesce(${v}->>${sql.raw(`'${key}'`)}, '')`
const verified = (e: SQL) => sql`CASE WHEN p.verified_on IS NOT NULL AND p.verification_method IS NOT NULL THEN ${text(e)} ELSE '' END`

/**
 * Each column's cell over the sorted provider row p, its areas ar (pcodes, names) and MOU statuses mou (m): text,
 * never NULL (an absent value is the empty cell), but lat and lon (jsNumber: NULL when no point is shown), services
 * and external_ids (jsonb arrays).
 */
function cells(viewer: Viewer): Record<string, SQL> {
  const shown = shownPoint('p', viewer)
  return {
    id: sql`p.id::text`,
    name: text(sql`p.name`),
    names_bn: member(sql`p.names`, 'bn'),
    names_km: member(sql`p.names`, 'km'),
    names_en: member(sql`p.names`, 'en'),
    kind: text(sql`p.kind`),
    categories: list(sql`p.categories`),
    // services and external_ids as stored (JSON arrays): writers.ts csvLine joins them, cheaper than a subquery each
    services: sql`p.services`,
    status: text(sql`p.status`),
    lat: jsNumber(sql`ST_Y(${shown})`),
    lon: jsNumber(sql`ST_X(${shown})`),
    location_visibility: text(sql`p.location_visibility`),
    location_masked: sql`CASE WHEN ${locationMasked('p', viewer)} THEN 'true' ELSE 'false' END`,
    address: text(shownAddress('p', viewer)),
    area_pcodes: sql`ar.pcodes`,
    area_names: sql`ar.names`,
    phones: list(sql`p.phones`),
    email: text(sql`p.email`),
    website: text(sql`p.website`),
    languages: list(sql`p.languages`),
    eligible_genders: list(sql`p.eligible_genders`),
    min_age: text(sql`p.min_age`),
    max_age: text(sql`p.max_age`),
    requires: list(sql`p.requires`),
    cost: text(sql`p.cost`),
    capacity: text(sql`p.capacity`),
    opening_hours: text(sql`p.opening_hours`),
    funded_until: text(sql`p.funded_until`),
    verified_on: verified(sql`p.verified_on`),
    verification_method: verified(sql`p.verification_method`),
    verified_by: verified(sql`p.verified_by`),
    external_ids: sql`p.external_ids`,
    organisation_id: sql`p.organisation_id::text`,
    // mou.m is NULL for a provider without any MOU: then each category it offers is none (see csvCellsSql).
    ...Object.fromEntries(
      CATEGORIES.map((c) => [`mou_status_${c}`, sql`coalesce(mou.m->>${sql.raw(`'${c}'`)}, CASE WHEN ${sql.raw(`'${c}'`)} = ANY (p.categories) THEN 'none' ELSE '' END)`]),
    ),
    notes: text(sql`p.notes`),
    created_at: isoTime(sql`p.created_at`),
    updated_at: isoTime(sql`p.updated_at`),
    version: sql`p.version::text`,
  }
}

// A column missing here, or one the header does not name, fails when the module loads, not in a user's file.
{
  const keys = Object.keys(cells({ exact: 'all' }))
  if (keys.join() !== CSV_HEADER.join()) throw new Error(`csv-sql: the cells (${keys.join()}) are not CSV_HEADER (${CSV_HEADER.join()})`)
}

/**
 * The CSV export's SQL: one column, cells (a JSON array in CSV_HEADER order), per provider ordered by name and id
 * like the list, over the providers `where` selects. As in service.ts exportSql, the rows are sorted first and
 * completed afterwards (the OFFSET 0 fence): computed before the sort, every row's subqueries would run, and their
 * wide results be sorted, before the first row could be sent.
 */
export function csvCellsSql(where: SQL[], viewer: Viewer): SQL {
  return sql`
  SELECT json_build_array(${sql.join(Object.values(cells(viewer)), sql`, `)}) AS cells
  FROM (SELECT * FROM providers p ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
        ORDER BY p.name, p.id OFFSET 0) p
  CROSS JOIN LATERAL (
    SELECT coalesce(string_agg(a.pcode, ';' ORDER BY a.admin_level, a.pcode), '') AS pcodes,
           coalesce(string_agg(a.name_en, ';' ORDER BY a.admin_level, a.pcode), '') AS names
    FROM areas a WHERE a.pcode = ANY (p.area_pcodes)) ar
  -- The MOU status of each category (mous/repo.ts) is asked only of providers that have an MOU at all: for the
  -- others it is none for every category they offer. Its nested subqueries, run for every row, took two fifths of
  -- the query's time; EXISTS is one probe of the index on mous.provider_id (an IN over all MOUs, hashed, is
  -- cheaper still, but falls back to a scan per row once the MOUs outgrow work_mem).
  CROSS JOIN LATERAL (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM mous mou_any WHERE mou_any.provider_id = p.id) THEN ${mouStatusByCategory('p')} END AS m) mou`
}
