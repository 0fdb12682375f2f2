// npm run import:areas -- FILE.geojson --country BGD --level 2 --code-field ADM2_PCODE --name-field District ...
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createDb } from '../src/db/client.js'
import { migrateDatabase } from '../src/db/migrate.js'
import { AreaImportError, importAreas, type AreaImportOptions } from '../src/modules/areas/import.js'
import { configOrExit, databaseOrExit } from './cli.js'

const HELP = `Usage: npm run import:areas -- FILE.geojson --country BGD|KHM --level 1-4 --name-field NAME [options]

Loads one level of administrative areas from a GeoJSON FeatureCollection (WGS 84) into the areas table.
Upserts by pcode in one transaction: re-running a file changes nothing, a database error changes nothing.
Import the levels top-down: a level's parents must already be in the database.

Required:
  --country BGD|KHM          country of every feature
  --level N                  admin level: 1 division/province ... 4 union
  --name-field PROP          property with the English name
  --code-field PROP          property with the official code (P-code), or
  --source-id-field PROP     property with the source's own id (used as pcode when there is no --code-field;
                             always stored in areas.source_id)
Options:
  --level-name TEXT          level name (default BGD division/district/upazila/union, KHM province/district/commune)
  --name-local-field PROP    property with the Bangla or Khmer name
  --parent-field PROP        property with the parent's code; without it the parent is the area one level up
                             with the largest overlap (also for features whose parent code is empty)
  --code-prefix TEXT         prepend TEXT to own and parent codes that lack it (e.g. BD: "3026" -> "BD3026")
  --source TEXT              dataset name stored in areas.source
  --dry-run                  do everything and report, then roll back
  --allow-rejects            exit 0 even when some features were rejected
  -h, --help                 this text

Features that cannot be imported (no polygon, no code or name, duplicate code, unknown or unfindable parent)
are skipped and listed with their index and reason; the rest are imported. The exit status is 1 when any
feature was rejected (unless --allow-rejects) and 2 when the file or the options are unusable.
Connects to DATABASE_URL, or to the private cluster under .data/ when it is unset.`

function parseCli(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      country: { type: 'string' },
      level: { type: 'string' },
      'level-name': { type: 'string' },
      'code-field': { type: 'string' },
      'name-field': { type: 'string' },
      'name-local-field': { type: 'string' },
      'parent-field': { type: 'string' },
      'code-prefix': { type: 'string' },
      source: { type: 'string' },
      'source-id-field': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'allow-rejects': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return { help: true as const }
  if (positionals.length !== 1) throw new AreaImportError('give exactly one GeoJSON file')
  const country = values.country?.toUpperCase()
  if (country !== 'BGD' && country !== 'KHM') throw new AreaImportError('--country must be BGD or KHM')
  const level = Number(values.level)
  if (level !== 1 && level !== 2 && level !== 3 && level !== 4) throw new AreaImportError('--level must be 1, 2, 3 or 4')
  if (!values['name-field']) throw new AreaImportError('--name-field is required')
  const options: AreaImportOptions = {
    country,
    level,
    levelName: values['level-name'],
    codeField: values['code-field'],
    nameField: values['name-field'],
    nameLocalField: values['name-local-field'],
    parentField: values['parent-field'],
    codePrefix: values['code-prefix'],
    source: values.source,
    sourceIdField: values['source-id-field'],
    dryRun: values['dry-run'],
  }
  return { help: false as const, file: positionals[0], options, allowRejects: values['allow-rejects'] }
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>
  let collection: unknown
  try {
    cli = parseCli(process.argv.slice(2))
    if (cli.help) {
      console.log(HELP)
      return 0
    }
    try {
      collection = JSON.parse(readFileSync(cli.file, 'utf8'))
    } catch (err) {
      throw new AreaImportError(`cannot read ${cli.file} as JSON: ${(err as Error).message}`)
    }
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\nRun with --help for usage.`)
    return 2
  }

  const target = databaseOrExit(configOrExit())
  const db = createDb(target.url, { max: 2 })
  try {
    await migrateDatabase(db)
    const started = performance.now()
    const report = await importAreas(db, collection, cli.options)
    const seconds = ((performance.now() - started) / 1000).toFixed(2)
    const { country, level } = cli.options
    console.log(
      `${cli.file}: ${country} level ${level}${cli.options.dryRun ? ' (dry run, rolled back)' : ''} in ${seconds} s\n` +
        `  inserted ${report.inserted}, updated ${report.updated}, unchanged ${report.unchanged}, ` +
        `rejected ${report.rejected.length}, repaired geometries ${report.repaired}, parents by spatial join ${report.parentsBySpatialJoin}`,
    )
    for (const r of report.rejected) console.log(`  rejected feature ${r.index}: ${r.reason}`)
    return report.rejected.length > 0 && !cli.allowRejects ? 1 : 0
  } catch (err) {
    if (err instanceof AreaImportError) {
      console.error(`error: ${err.message}`)
      return 2
    }
    throw err
  } finally {
    await db.$client.end()
    if (target.cluster?.startedHere) target.cluster.stop()
  }
}

process.exitCode = await main()
