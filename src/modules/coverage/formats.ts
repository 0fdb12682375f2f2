// The CSV and GeoJSON renderings of a coverage answer.
import { stringify } from 'csv-stringify/sync'
import { flatColumns, METRICS, type Coverage } from './schemas.js'

/** One flat record per area: the CSV row and the GeoJSON properties. */
function flatRecords(coverage: Coverage): Record<string, string | number | boolean | null>[] {
  return coverage.items.map((a) => {
    const record: Record<string, string | number | boolean | null> = {
      pcode: a.pcode,
      name_en: a.name_en,
      name_local: a.name_local,
      parent_pcode: a.parent_pcode,
      admin_level: a.admin_level,
    }
    for (const c of coverage.categories) for (const m of METRICS) record[`${c}_${m}`] = a.categories[c]?.[m] ?? null
    return record
  })
}

export function coverageCsv(coverage: Coverage): string {
  return stringify(flatRecords(coverage), {
    bom: true,
    header: true,
    columns: flatColumns(coverage.categories),
    record_delimiter: 'windows',
    cast: { boolean: (v) => (v ? 'true' : 'false') },
  })
}

/** The FeatureCollection as text: the polygons arrive from PostGIS as GeoJSON text and are not parsed again. */
export function coverageGeoJson(coverage: Coverage, geometries: Map<string, string>): string {
  const records = flatRecords(coverage)
  const features = records.map(
    (r) => `{"type":"Feature","id":${JSON.stringify(r.pcode)},"geometry":${geometries.get(String(r.pcode)) ?? 'null'},"properties":${JSON.stringify(r)}}`,
  )
  return `{"type":"FeatureCollection","features":[${features.join(',')}],"numberReturned":${features.length}}`
}

