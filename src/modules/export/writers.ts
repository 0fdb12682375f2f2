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

/** One CSV record, in CSV_COLUMNS order. */
export function csvRecordOf(p: Provider): string[] {
  const record: Record<(typeof CSV_HEADER)[number], string> = {
    id: p.id,
    name: p.name,
    names_bn: text(p.names.bn),
    names_km: text(p.names.km),
    names_en: text(p.names.en),
    kind: p.kind,
    categories: joined(p.categories),
    services: joined(p.services.map((s) => `${s.category}:${s.name}`)),
    status: p.status,
    lat: text(p.location?.lat),
    lon: text(p.location?.lon),
    location_visibility: p.location_visibility,
    location_masked: text(p.location_masked),
    address: text(p.address),
    area_pcodes: joined(p.areas.map((a) => a.pcode)),
    area_names: joined(p.areas.map((a) => a.name_en)),
    phones: joined(p.phones),
    email: text(p.email),
    website: text(p.website),
    languages: joined(p.languages),
    eligible_genders: joined(p.eligibility.genders),
    min_age: text(p.eligibility.min_age),
    max_age: text(p.eligibility.max_age),
    requires: joined(p.eligibility.requires),
    cost: text(p.cost),
    capacity: text(p.capacity),
    opening_hours: text(p.opening_hours),
    funded_until: text(p.funded_until),
    verified_on: text(p.verification?.on),
    verification_method: text(p.verification?.method),
    verified_by: text(p.verification?.by),
    external_ids: joined(p.external_ids.map((x) => `${x.scheme}:${x.id}`)),
    organisation_id: p.organisation_id,
    ...(Object.fromEntries(CATEGORIES.map((c) => [`mou_status_${c}`, text(p.mou_status[c])])) as Record<`mou_status_${(typeof CATEGORIES)[number]}`, string>),
    notes: text(p.notes),
    created_at: p.created_at,
    updated_at: p.updated_at,
    version: text(p.version),
  }
  return CSV_HEADER.map((column) => cell(record[column]))
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
 * Rows in, the CSV out: a byte-order mark (so spreadsheets read UTF-8), the header, one record per row, CRLF
 * (RFC 4180). Two stages, piped in this order.
 */
export function csvWriter(): Transform[] {
  const toRecords = new Transform({
    writableObjectMode: true,
    readableObjectMode: true,
    transform(row: ProviderRow, _enc, done) {
      done(null, csvRecordOf(rowToProvider(row)))
    },
  })
  return [toRecords, stringify({ bom: true, header: true, columns: CSV_HEADER, record_delimiter: 'windows' })]
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
  let parts: string[] = []
  let size = 0
  return new Transform({
    writableObjectMode: true,
    transform(text: string | Buffer, _enc, done) {
      const part = typeof text === 'string' ? text : text.toString('utf8')
      parts.push(part)
      size += part.length
      if (size < CHUNK_BYTES) return done()
      const out = parts.join('')
      parts = []
      size = 0
      done(null, out)
    },
    flush(done) {
      done(null, size ? parts.join('') : null)
    },
  })
}
