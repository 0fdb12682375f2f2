// The directory export: the provider list's filters (providers/service.ts listFilters), every row through the
// viewer's mask (lib/location-visibility.ts: through providers/repo.ts providerSelect for GeoJSON and HSDS, through
// csv-sql.ts for CSV), read with a server-side cursor (pg-query-stream) in batches as the client reads, so memory
// holds a batch, never the result.
import { pipeline, type Readable, type Transform } from 'node:stream'
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import QueryStream from 'pg-query-stream'
import type { Db } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { forbidden } from '../access/authenticate.js'
import { viewerOf, type Caller } from '../access/roles.js'
import { providerSelect } from '../providers/repo.js'
import { listFilters } from '../providers/service.js'
import { csvCellsSql } from './csv-sql.js'
import { PrefetchingQueryStream } from './prefetch-stream.js'
import type { ExportFormat, ExportQuery } from './schemas.js'
import { chunker, csvLinesWriter, geojsonWriter, hsdsWriter } from './writers.js'

/** Rows fetched from the cursor per round trip (HSDS: HSDS_BATCH_ROWS). */
export const EXPORT_BATCH_ROWS = 200
/**
 * HSDS's batch: a record is about 5 kB of JSON built from some sixty objects, and the fewer rows are alive at once,
 * the fewer survive a young-generation collection into the old one, which V8 lets grow before it collects. 100,000
 * providers (bench:export, one quiet machine): 200 rows 205-240 MB peak in 7.9-8.2 s; 50 rows 172-174 MB in
 * 8.4-9.3 s; 20 rows 158-160 MB in 9.5-9.6 s.
 */
export const HSDS_BATCH_ROWS = 50
/**
 * The export's statement timeout: its cursor stays open while the client reads, which the server's usual
 * STATEMENT_TIMEOUT_MS (meant for one quick query) would cut short for a large directory or a slow client.
 */
export const EXPORT_STATEMENT_TIMEOUT_MS = 300_000

const dialect = new PgDialect()

/**
 * Each format's SQL (the viewer's rows, ordered like the list), the stages that make its text of them, and whether
 * the next cursor batch is fetched while Node writes the current one (prefetch-stream.ts). Only CSV, whose Node
 * and database shares are about equal, gains from it; GeoJSON and HSDS spend most of their time in Node, and an
 * extra batch of their wide rows in memory raised the HSDS export's peak by 20-50 MB.
 */
export const FORMATS: Record<ExportFormat, { sql: (where: SQL[], viewer: Viewer) => SQL; writer: () => Transform[]; prefetch: boolean; batchRows: number }> = {
  // PostgreSQL computes the cells, Node only quotes and joins them (csv-sql.ts).
  csv: { sql: csvCellsSql, writer: csvLinesWriter, prefetch: true, batchRows: EXPORT_BATCH_ROWS },
  geojson: { sql: (where, viewer) => exportSql(where, viewer), writer: geojsonWriter, prefetch: false, batchRows: EXPORT_BATCH_ROWS },
  hsds: { sql: (where, viewer) => exportSql(where, viewer), writer: hsdsWriter, prefetch: false, batchRows: HSDS_BATCH_ROWS },
}

/**
 * Who may export what: admins and analysts every provider, exact; an editor its own organisation's providers
 * (which it sees exact); a viewer nothing (403). Anonymous callers never get here (the route needs a key).
 */
export function exportScope(caller: Caller): { viewer: Viewer; organisationId?: string } {
  if (caller.kind !== 'key' || caller.role === 'viewer') {
    throw forbidden('The viewer role may not export the directory: exports are for analysts, admins and editors (their own organisation’s providers)')
  }
  return { viewer: viewerOf(caller), ...(caller.role === 'editor' ? { organisationId: caller.organisationId } : {}) }
}

/**
 * The export's SQL for `viewer`: every row of providerSelect, ordered by name and id like the list. The rows are
 * sorted first and masked and completed afterwards (areas, MOU status, the shown point: subqueries per row): with
 * one flat query PostgreSQL computes those for every row before it sorts them, and sorts (spilling to disk) the
 * wide rows they make, so the first byte waited for the whole result.
 */
export const exportSql = (where: SQL[], viewer: Viewer): SQL => sql`
  SELECT ${providerSelect(viewer)}
  FROM (SELECT * FROM providers p ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
        ORDER BY p.name, p.id OFFSET 0) p`

export function exportService(db: Db) {
  /** The rows of an export query as a stream, read through a cursor. */
  async function rows(query: SQL, prefetch: boolean, batchRows: number): Promise<Readable> {
    const { sql: text, params } = dialect.sqlToQuery(query)
    const client = await db.$client.connect()
    try {
      // No JIT: the per-row subqueries make the plan look costly enough to compile (about 0.2 s of CPU in each of
      // three processes for 100,000 rows), which a query read once never earns back.
      await client.query(`SET statement_timeout = ${EXPORT_STATEMENT_TIMEOUT_MS}; SET jit = off`)
    } catch (e) {
      client.release(e as Error)
      throw e
    }
    const stream = client.query(new (prefetch ? PrefetchingQueryStream : QueryStream)(text, params, { batchSize: batchRows, highWaterMark: batchRows }))
    let failed: Error | undefined
    stream.once('error', (e) => (failed = e))
    // Back to the pool once the cursor is closed (read to the end, or destroyed when the client went away), with
    // the server's settings restored; a connection that failed mid-stream is discarded instead.
    stream.once('close', () => {
      if (failed) return client.release(failed)
      client.query('RESET statement_timeout; RESET jit').then(
        () => client.release(),
        (e: Error) => client.release(e),
      )
    })
    return stream
  }

  return {
    /**
     * The export as a byte stream in `q.format`. Filters are checked (404 for an unknown area) before the stream
     * starts; an error after the first bytes ends the response early (the status is already sent).
     */
    async stream(q: ExportQuery, caller: Caller, onError: (err: Error) => void): Promise<Readable> {
      const { viewer, organisationId } = exportScope(caller)
      const where = await listFilters(db, q, viewer)
      if (organisationId) where.push(sql`p.organisation_id = ${organisationId}::uuid`)
      const format = FORMATS[q.format]
      const source = await rows(format.sql(where, viewer), format.prefetch, format.batchRows)
      const stages = [...format.writer(), chunker()]
      return pipeline([source, ...stages], (err) => {
        if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') onError(err)
      }) as unknown as Readable
    },
  }
}
export type ExportService = ReturnType<typeof exportService>
