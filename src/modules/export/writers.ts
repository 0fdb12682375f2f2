// The export formats as streaming transforms: provider rows (as providerSelect reads them for the viewer) in,
// text out, one row at a time, so that no format ever holds more than the row at hand (and csv-stringify's and the
// socket's buffers). The mask has been applied in SQL (lib/location-visibility.ts); these only reshape.
import { Transform, type TransformCallback } from 'node:stream'
import { stringify } from 'csv-stringify'
import { rowToProvider, type ProviderRow } from '../providers/repo.js'
import type { Provider } from '../providers/schemas.js'
import { hsdsServiceOf } from '../hsds/export.js'
import { CATEGORIES } from '../providers/schemas.js'
import { CSV_HEADER, GEOJSON_PROPERTIES } from './schemas.js'

const joined = (values: readonly string[]) => values.join(';')
const text = (v: string | number | boolean | null | undefined) => (v === null || v === undefined ? '' : String(v))

// A cell a spreadsheet would run as a formula (=, @, a leading tab or CR, or + or - not starting a number such
// as a phone number) gets a leading apostrophe, which spreadsheets show as text (OWASP "CSV injection").
const FORMULA = /^(?:[=@\t\r]|[+-](?![\d.(\s]))/
const cell = (v: string) => (FORMULA.test(v) ? `'${v}` : v)

/** One CSV record, in CSV_COLUMNS order (test/export checks the two against each other). */
export function csvRecordOf(p: Provider): string[] {
  const record = [
    p.id,
    p.name,
    text(p.names.bn),
    text(p.names.km),
    text(p.names.en),
    p.kind,
    joined(p.categories),
    joined(p.services.map((s) => `${s.category}:${s.name}`)),
    p.status,
    text(p.location?.lat),
    text(p.location?.lon),
    p.location_visibility,
    text(p.location_masked),
    text(p.address),
    joined(p.areas.map((a) => a.pcode)),
    joined(p.areas.map((a) => a.name_en)),
    joined(p.phones),
    text(p.email),
    text(p.website),
    joined(p.languages),
    joined(p.eligibility.genders),
    text(p.eligibility.min_age),
    text(p.eligibility.max_age),
    joined(p.eligibility.requires),
    text(p.cost),
    text(p.capacity),
    text(p.opening_hours),
    text(p.funded_until),
    text(p.verification?.on),
    text(p.verification?.method),
    text(p.verification?.by),
    joined(p.external_ids.map((x) => `${x.scheme}:${x.id}`)),
    p.organisation_id,
    ...CATEGORIES.map((c) => text(p.mou_status[c])),
    text(p.notes),
    p.created_at,
    p.updated_at,
    text(p.version),
  ]
  for (let i = 0; i < record.length; i++) record[i] = cell(record[i])
  return record
}

/** A GeoJSON feature: geometry null when the location is hidden from the viewer (RFC 7946 §3.2). */
export function featureOf(p: Provider) {
  const properties = Object.fromEntries(GEOJSON_PROPERTIES.map((k) => [k, p[k]]))
  return {
    type: 'Feature' as const,
    id: p.id,
    geometry: p.location ? { type: 'Point' as const, coordinates: [p.location.lon, p.location.lat] } : null,
    properties,
  }
}

/**
 * Rows in, the CSV out, as csv-stringify writes it: a byte-order mark (so spreadsheets read UTF-8), the header, one
 * record per row, CRLF (RFC 4180). Two stages, piped in this order. The export itself takes the faster path below
 * (csvLinesWriter); this one, from providerSelect's rows, is what test/export compares that path with.
 */
export function csvWriter(): Transform[] {
  const toRecords = new Transform({
    writableObjectMode: true,
    readableObjectMode: true,
    transform(row: ProviderRow, _enc, done) {
      done(null, csvRecordOf(rowToProvider(row)))
    },
  })
  // quote_record_delimiter: a field with a lone LF or CR is quoted too (csv-stringify quotes only CRLF once the
  // record delimiter is set), since spreadsheets end a row at either.
  return [toRecords, stringify({ bom: true, header: true, columns: CSV_HEADER, record_delimiter: 'windows', quote_record_delimiter: true })]
}

const QUOTED = /[",\r\n]/

/** One field as csv-stringify writes it: the formula apostrophe, then quoted (quotes doubled) when it holds a quote, comma, CR or LF. */
export function csvField(v: string): string {
  // Most fields need neither: their first character cannot start a formula (cell) and they hold nothing to quote.
  const first = v.charCodeAt(0)
  const c = first === 0x3d || first === 0x40 || first === 0x09 || first === 0x0d || first === 0x2b || first === 0x2d ? cell(v) : v
  return QUOTED.test(c) ? `"${c.replaceAll('"', '""')}"` : c
}

/** The start of every CSV export: the UTF-8 byte-order mark and the header line. */
export const CSV_PREAMBLE = `\ufeff${CSV_HEADER.map(csvField).join(',')}\r\n`

type CsvCell = string | number | null | ReadonlyArray<Record<string, string>>

const SERVICES = CSV_HEADER.indexOf('services')
const EXTERNAL_IDS = CSV_HEADER.indexOf('external_ids')

/** A cell's text as csv-sql.ts reads it: text as is, numbers and null as text() writes them, the two lists joined. */
function cellText(v: CsvCell, column: number): string {
  if (typeof v === 'string') return v
  if (column === SERVICES) return joined((v as Provider['services']).map((s) => `${s.category}:${s.name}`))
  if (column === EXTERNAL_IDS) return joined((v as Provider['external_ids']).map((x) => `${x.scheme}:${x.id}`))
  return text(v as number | null)
}

/** One CSV record and its CRLF from the cells csv-sql.ts reads, in CSV_HEADER order. */
export function csvLine(cells: readonly CsvCell[]): string {
  let line = csvField(cellText(cells[0], 0))
  for (let i = 1; i < cells.length; i++) line += `,${csvField(cellText(cells[i], i))}`
  return `${line}\r\n`
}

/** Rows of csv-sql.ts in ({ cells }), the CSV out: the preamble, then a line per row; the preamble alone when none. */
export function csvLinesWriter(): Transform[] {
  let started = false
  return [
    new Transform({
      objectMode: true,
      transform(row: { cells: CsvCell[] }, _enc, done: TransformCallback) {
        const line = csvLine(row.cells)
        if (started) return done(null, line)
        started = true
        done(null, CSV_PREAMBLE + line)
      },
      flush(done) {
        done(null, started ? null : CSV_PREAMBLE)
      },
    }),
  ]
}

/** A JSON text around a stream of items: `open`, the items separated by commas, `close`. */
function jsonSequence(open: string, close: string, itemOf: (p: Provider) => unknown): Transform {
  let first = true
  return new Transform({
    objectMode: true,
    transform(row: ProviderRow, _enc, done: TransformCallback) {
      const json = JSON.stringify(itemOf(rowToProvider(row)))
      const before = first ? open : ',\n'
      first = false
      done(null, before + json)
    },
    flush(done) {
      done(null, first ? `${open}${close}` : close)
    },
  })
}

export const geojsonWriter = () => [jsonSequence('{"type":"FeatureCollection","features":[\n', '\n]}\n', featureOf)]
export const hsdsWriter = () => [jsonSequence('[\n', '\n]\n', hsdsServiceOf)]

/** Bytes a response chunk gathers before it is written: one socket write per chunk, not one per record. */
export const CHUNK_BYTES = 64 * 1024

/**
 * Gathers the text of many records (strings, in object mode) into chunks of about CHUNK_BYTES characters: written
 * one record at a time, the socket writes (a system call each) took a seventh of a CSV export's time in the server,
 * and a Buffer per record a good part of its memory.
 */
export function chunker(): Transform {
  let parts: Array<string | Buffer> = []
  let size = 0
  const gathered = () => {
    const out = parts.every((p) => typeof p === 'string') ? parts.join('') : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
    parts = []
    size = 0
    return out
  }
  return new Transform({
    writableObjectMode: true,
    transform(part: string | Buffer, _enc, done) {
      parts.push(part)
      size += part.length
      if (size < CHUNK_BYTES) return done()
      done(null, gathered())
    },
    flush(done) {
      done(null, size ? gathered() : null)
    },
  })
}
