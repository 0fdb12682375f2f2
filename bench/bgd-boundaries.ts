// The real Bangladesh boundaries in ../shared/data (divisions, districts, upazilas and 5,160 unions) that the
// benchmarks import into their scratch databases, with the options test/areas/shared-boundaries.test.ts uses.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Db } from '../src/db/client.js'
import { importAreas, type AreaImportOptions, type AreaImportReport } from '../src/modules/areas/import.js'

export const BOUNDARIES = path.resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'boundaries')
const SOURCE = 'BBS via OCHA COD-AB (bangladesh R package)'

/** The four levels, top-down (parents first), as the importer takes them. */
export const BGD_LOADS: { file: string; options: AreaImportOptions }[] = [
  { file: 'BGD_ADM1.geojson', options: { country: 'BGD', level: 1, codeField: 'ADM1_PCODE', nameField: 'Division', codePrefix: 'BD', source: SOURCE } },
  { file: 'BGD_ADM2.geojson', options: { country: 'BGD', level: 2, codeField: 'ADM2_PCODE', nameField: 'District', parentField: 'ADM1_PCODE', codePrefix: 'BD', source: SOURCE } },
  { file: 'BGD_ADM3.geojson', options: { country: 'BGD', level: 3, codeField: 'ADM3_PCODE', nameField: 'Upazila', parentField: 'ADM2_PCODE', codePrefix: 'BD', source: SOURCE } },
  { file: 'BGD_ADM4.geojson', options: { country: 'BGD', level: 4, codeField: 'ADM4_PCODE', nameField: 'Union', parentField: 'ADM3_PCODE', codePrefix: 'BD', source: SOURCE } },
]

/** The boundary files that are not there (the shared data set is not part of the project). */
export const missingBoundaries = () => BGD_LOADS.map((l) => l.file).filter((f) => !existsSync(path.join(BOUNDARIES, f)))

/**
 * Imports the four levels into db with the project's importer, parents first, calling onFile after each. A rejected
 * feature stops the benchmark: its figures would be of other data than the ones it names.
 */
export async function importBgdBoundaries(db: Db, onFile: (file: string, report: AreaImportReport, seconds: number) => void = () => {}) {
  for (const { file, options } of BGD_LOADS) {
    const t0 = performance.now()
    const report = await importAreas(db, JSON.parse(readFileSync(path.join(BOUNDARIES, file), 'utf8')), options)
    if (report.rejected.length) throw new Error(`${file}: ${report.rejected.length} features rejected`)
    onFile(file, report, (performance.now() - t0) / 1000)
  }
}
