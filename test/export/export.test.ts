// GET /v1/providers/export: every format read back with a real parser (csv-parse, JSON.parse), the HSDS records
// validated against the specification's own schema, the filters compared with the list's answer, access by role,
// and the mask applied by the writers to rows read for a masked viewer.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { sql } from 'drizzle-orm'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Db } from '../../src/db/client.js'
import { CSV_HEADER } from '../../src/modules/export/schemas.js'
import { csvWriter, csvLinesWriter, geojsonWriter, hsdsWriter } from '../../src/modules/export/writers.js'
import { csvCellsSql } from '../../src/modules/export/csv-sql.js'
import { exportSql } from '../../src/modules/export/service.js'
import type { Viewer } from '../../src/lib/location-visibility.js'
import { providerSelect, type ProviderRow } from '../../src/modules/providers/repo.js'
import { providersService } from '../../src/modules/providers/service.js'
import { idOf, SETU_TAXONOMY_TERMS, TERM_IDS } from '../../src/modules/hsds/export.js'
import { buildTestApp } from '../helpers/app.js'
import { insertMou } from '../helpers/factories.js'
import { SHARED_DATA } from '../helpers/shared-data.js'
import { insertAreas, insertOwnedProvider, makeCallers, type Callers } from '../access/fixtures.js'
import { Readable, Writable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { request } from 'node:http'

const HSDS_SERVICE_SCHEMA = path.resolve(SHARED_DATA, '..', 'hsds', 'schema', 'compiled', 'service.json')
const skipHsds = existsSync(HSDS_SERVICE_SCHEMA) ? false : `the HSDS schemas are absent: no ${HSDS_SERVICE_SCHEMA}`

const BANGLA = 'নারী সহায়তা কেন্দ্র'
const KHMER = 'មណ្ឌលជំនួយស្ត្រី'

type Csv = Record<string, string>[]
const readCsv = (body: string): Csv => parse(body, { bom: true, columns: true }) as Csv
const csvHeader = (body: string): string[] => (parse(body, { bom: true, to_line: 1 }) as string[][])[0]

async function ground(app: FastifyInstance, db: Db) {
  await insertAreas(db)
  const callers = await makeCallers(db)
  const service = providersService(db)
  const created = await service.create(
    {
      name: BANGLA,
      names: { bn: BANGLA, km: KHMER, en: "Women's Support Centre" },
      kind: 'ngo',
      categories: ['health', 'counselling'],
      services: [{ category: 'counselling', name: 'Trauma counselling', description: 'Sessions in Bangla, "quoted"; with commas' }],
      location: { lat: 23.2104, lon: 89.2601 },
      address: 'Road 4, Bagherpara\nsecond line',
      phones: ['+8801700000000', '01711-000000'],
      email: 'centre@example.org',
      website: 'https://example.org/centre',
      languages: ['bn', 'en-GB'],
      eligibility: { genders: ['female'], min_age: 18, max_age: null, requires: ['referral_letter'] },
      cost: 'free',
      capacity: 24,
      opening_hours: 'Sa-Th 09:00-17:00',
      funded_until: '2030-06-30',
      verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
      external_ids: [{ scheme: 'ngoab', id: '2214' }],
      notes: '=HYPERLINK("http://evil")',
      organisation_id: callers.orgA,
    },
    { caller: { kind: 'key', keyId: callers.keys.admin.id, keyPrefix: 'x', organisationId: callers.keys.admin.organisationId, organisation: 'setu-demo', role: 'admin', areas: null } },
  )
  await insertMou(db, { provider_id: created.id, categories: ['health'] })
  const shelter = await insertOwnedProvider(db, {
    name: 'Kestrel Haven', organisationId: callers.orgA, categories: ['shelter'], lat: 23.1734871, lon: 89.2361947,
    address: 'House 41, Kestrelwood Lane', visibility: 'approximate',
  })
  const hidden = await insertOwnedProvider(db, {
    name: 'Heron Haven', organisationId: callers.orgA, categories: ['shelter'], lat: 23.2418263, lon: 89.1872519,
    address: 'Plot 9B, Heronsgate Road', visibility: 'hidden',
  })
  const clinicB = await insertOwnedProvider(db, { name: 'Clinic B', organisationId: callers.orgB, categories: ['health'], lat: 22.55, lon: 89.65, status: 'suspended' })
  return { callers, centre: created.id, shelter, hidden, clinicB }
}

const exportOf = (app: FastifyInstance, callers: Callers, query: string, who: 'admin' | 'analyst' | 'editorA' | 'editorB' | 'viewer' = 'admin') =>
  app.inject({ url: `/v1/providers/export?${query}`, headers: callers.headers(who) })

t.test('CSV: BOM, documented columns, Bangla and Khmer intact, RFC 4180 quoting, a dated attachment', async (t) => {
  const { app, db } = await buildTestApp(t)
  const fx = await ground(app, db)
  const res = await exportOf(app, fx.callers, 'format=csv')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/csv; charset=utf-8/)
  const { rows: [{ day }] } = await db.execute<{ day: string }>(sql`SELECT setu_today()::text AS day`)
  t.equal(res.headers['content-disposition'], `attachment; filename="setu-providers-${day}.csv"`)
  t.same([...res.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 byte-order mark')
  t.ok(res.body.includes('\r\n'), 'CRLF record ends')
  t.same(csvHeader(res.body), CSV_HEADER, 'the documented columns, in order')
  const rows = readCsv(res.body)
  t.same(rows.map((r) => r.name), ['Clinic B', 'Heron Haven', 'Kestrel Haven', BANGLA].sort(), 'every provider, by name')
  const centre = rows.find((r) => r.id === fx.centre)!
  t.match(centre, {
    name: BANGLA,
    names_bn: BANGLA,
    names_km: KHMER,
    names_en: "Women's Support Centre",
    kind: 'ngo',
    categories: 'health;counselling',
    services: 'counselling:Trauma counselling',
    status: 'active',
    lat: '23.2104',
    lon: '89.2601',
    location_visibility: 'exact',
    location_masked: 'false',
    address: 'Road 4, Bagherpara\nsecond line',
    area_pcodes: 'BD40;BD4041;BD404190',
    area_names: 'Khulna;Jessore;Bagherpara',
    phones: '+8801700000000;01711-000000',
    languages: 'bn;en-GB',
    eligible_genders: 'female',
    min_age: '18',
    max_age: '',
    requires: 'referral_letter',
    cost: 'free',
    capacity: '24',
    funded_until: '2030-06-30',
    verified_on: '2025-03-14',
    verification_method: 'field_visit',
    external_ids: 'ngoab:2214',
    organisation_id: fx.callers.orgA,
    mou_status_health: 'signed',
    mou_status_counselling: 'none',
    mou_status_shelter: '',
    notes: `'=HYPERLINK("http://evil")`,
    version: '1',
  })
  t.equal(rows.find((r) => r.id === fx.hidden)!.lat, '23.2418263', 'an admin exports a hidden shelter exact')
})

t.test('GeoJSON: a FeatureCollection of points with the documented properties', async (t) => {
  const { app, db } = await buildTestApp(t)
  const fx = await ground(app, db)
  const res = await exportOf(app, fx.callers, 'format=geojson&category=shelter')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/geo\+json/)
  t.match(res.headers['content-disposition'], /^attachment; filename="setu-providers-\d{4}-\d{2}-\d{2}\.geojson"$/)
  const fc = res.json()
  t.equal(fc.type, 'FeatureCollection')
  t.same(fc.features.map((f: { id: string }) => f.id), [fx.hidden, fx.shelter])
  t.same(fc.features[0].geometry, { type: 'Point', coordinates: [89.1872519, 23.2418263] })
  t.equal(fc.features[0].properties.location_visibility, 'hidden')
  const empty = await exportOf(app, fx.callers, 'format=geojson&q=nothing-like-this')
  t.same(empty.json(), { type: 'FeatureCollection', features: [] }, 'no match: an empty collection')
})

t.test('HSDS: every record validates against the HSDS 3.0 service schema; ids are stable', { skip: skipHsds }, async (t) => {
  const { app, db } = await buildTestApp(t)
  const fx = await ground(app, db)
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  const schema = JSON.parse(readFileSync(HSDS_SERVICE_SCHEMA, 'utf8'))
  const validate = ajv.compile(schema)
  const validateTerm = ajv.compile(schema.properties.attributes.items.properties.taxonomy_term)
  const res = await exportOf(app, fx.callers, 'format=hsds')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.headers['content-disposition'], /filename="setu-providers-\d{4}-\d{2}-\d{2}\.hsds\.json"$/)
  const records = res.json() as Array<Record<string, any>>
  t.equal(records.length, 4)
  for (const r of records) {
    t.ok(validate(r), `${r.name} validates`, { errors: validate.errors })
  }
  const centre = records.find((r) => r.id === fx.centre)!
  t.match(centre, {
    name: BANGLA,
    alternate_name: "Women's Support Centre",
    status: 'active',
    url: 'https://example.org/centre',
    minimum_age: 18,
    assured_date: '2025-03-14',
    organization: { id: idOf(fx.centre, 'organization'), name: BANGLA, organization_identifiers: [{ identifier_scheme: 'ngoab', identifier: '2214' }] },
    phones: [{ number: '+8801700000000' }, { number: '01711-000000' }],
    languages: [{ code: 'bn', name: 'Bangla' }, { code: 'en', name: 'English', note: 'en-GB' }],
    service_areas: [{ extent: 'BD40' }, { extent: 'BD4041' }, { extent: 'BD404190' }],
    service_at_locations: [{ location: { latitude: 23.2104, longitude: 89.2601, addresses: [{ address_1: 'Road 4, Bagherpara\nsecond line', country: 'BD', state_province: 'Khulna' }] } }],
  })
  const facts = Object.fromEntries(
    ['organisation_id', 'location_visibility', 'verification_method'].map((code) => [code, centre.attributes.find((a: any) => a.link_type === code && a.taxonomy_term_id === TERM_IDS[code as keyof typeof TERM_IDS])?.value]),
  )
  t.same(facts, { organisation_id: fx.callers.orgA, location_visibility: 'exact', verification_method: 'field_visit' }, 'setu facts travel as attributes')
  t.same(
    centre.attributes.filter((a: any) => a.link_type === 'mou_status').map((a: any) => a.value).sort(),
    ['counselling:none', 'health:signed'],
  )
  t.equal(records.find((r) => r.id === fx.clinicB)!.status, 'temporarily closed', 'suspended is temporarily closed')
  const ids = (v: unknown, out: string[] = []): string[] => {
    if (Array.isArray(v)) v.forEach((x) => ids(x, out))
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (k === 'id' ? out.push(String(x)) : ids(x, out))
    return out
  }
  const again = (await exportOf(app, fx.callers, 'format=hsds')).json()
  t.same(again, records, 'a second export names every record the same way')
  const own = ids(records)
  t.equal(new Set(own).size, own.length, 'every record id is unique')
  t.ok(SETU_TAXONOMY_TERMS.every((term) => validateTerm(term)), 'the setu terms are valid HSDS taxonomy terms', { errors: validateTerm.errors })
})

t.test('the export answers what the list answers, for every filter', async (t) => {
  const { app, db } = await buildTestApp(t)
  const fx = await ground(app, db)
  for (let i = 0; i < 40; i++) {
    await insertOwnedProvider(db, {
      name: `Filler ${String(i).padStart(2, '0')}`,
      organisationId: i % 2 ? fx.callers.orgA : fx.callers.orgB,
      categories: [['health', 'legal', 'counselling', 'shelter', 'livelihood'][i % 5]],
      kind: i % 3 ? 'ngo' : 'government',
      status: i % 4 ? 'active' : 'closed',
      lat: 22.4 + (i % 10) * 0.1,
      lon: 89 + Math.floor(i / 10) * 0.2,
    })
  }
  const queries = [
    '', 'category=health', 'kind=government', 'status=closed', 'area=BD4041', 'area=BD404190', 'q=filler 1', 'q=সহায়তা',
    'bbox=89.1,23.1,89.4,23.3', 'lat=23.2&lon=89.25&radius_km=15', 'funded_after=2029-01-01', 'verified_since=2025-01-01',
    'mou_status=signed', 'category=health&mou_status=signed', 'external_id=ngoab:2214', 'category=shelter&status=active&area=BD40',
  ]
  for (const query of queries) {
    const list: string[] = []
    let cursor: string | null = null
    do {
      const res: { statusCode: number; json(): any } = await app.inject({ url: `/v1/providers?limit=7&${query}${cursor ? `&cursor=${cursor}` : ''}` })
      t.equal(res.statusCode, 200)
      list.push(...res.json().items.map((p: { id: string }) => p.id))
      cursor = res.json().next_cursor
    } while (cursor)
    for (const format of ['csv', 'geojson', 'hsds'] as const) {
      const res = await exportOf(app, fx.callers, `format=${format}&${query}`)
      t.equal(res.statusCode, 200, `${format} ${query}`)
      const got =
        format === 'csv' ? readCsv(res.body).map((r) => r.id) : format === 'geojson' ? res.json().features.map((f: { id: string }) => f.id) : res.json().map((r: { id: string }) => r.id)
      t.same(got, list, `${format}, ${query || 'no filter'}: the list's ${list.length} providers, in its order`)
    }
  }
  const unknownArea = await exportOf(app, fx.callers, 'area=BD9999')
  t.equal(unknownArea.statusCode, 404)
  t.match(unknownArea.headers['content-type'], /^application\/problem\+json/)
  const badRadius = await exportOf(app, fx.callers, 'lat=23&radius_km=3')
  t.equal(badRadius.statusCode, 400)
  t.match(badRadius.json(), { errors: [{ path: 'radius_km' }] })
  t.equal((await exportOf(app, fx.callers, 'format=xlsx')).statusCode, 400)
})

t.test('who exports what: admins and analysts everything exact, an editor its own organisation, a viewer nothing', async (t) => {
  const { app, db } = await buildTestApp(t, {}, { auth: 'none' })
  const fx = await ground(app, db)
  const all = [fx.centre, fx.shelter, fx.hidden, fx.clinicB].sort()
  for (const who of ['admin', 'analyst'] as const) {
    const rows = readCsv((await exportOf(app, fx.callers, '', who)).body)
    t.same(rows.map((r) => r.id).sort(), all, `${who}: every provider`)
    t.ok(rows.every((r) => r.location_masked === 'false'), `${who}: every location exact`)
  }
  for (const format of ['csv', 'geojson', 'hsds']) {
    const a = await exportOf(app, fx.callers, `format=${format}`, 'editorA')
    t.equal(a.statusCode, 200)
    t.ok(a.body.includes('23.1734871') && a.body.includes('Kestrelwood'), `editor A, ${format}: its own shelter, exact with address`)
    t.notOk(a.body.includes(fx.clinicB), `editor A, ${format}: not org-b's clinic`)
    const b = await exportOf(app, fx.callers, `format=${format}`, 'editorB')
    t.equal(b.statusCode, 200)
    t.ok(b.body.includes(fx.clinicB), `editor B, ${format}: its own clinic`)
    for (const leak of [fx.shelter, fx.hidden, '23.173', '89.236', '23.241', '89.187', 'Kestrelwood', 'Heronsgate']) {
      t.notOk(b.body.includes(leak), `editor B, ${format}: nothing of org-a's shelters (${leak})`)
    }
    const viewer = await exportOf(app, fx.callers, `format=${format}`, 'viewer')
    t.equal(viewer.statusCode, 403)
    t.match(viewer.json(), { status: 403, detail: /viewer/ })
    t.equal((await app.inject({ url: `/v1/providers/export?format=${format}` })).statusCode, 401, `anonymous, ${format}: 401`)
  }
})

t.test('the writers show a masked row as it was read: approximate point or none, no address', async (t) => {
  const { app, db } = await buildTestApp(t)
  const fx = await ground(app, db)
  const { rows } = await db.execute(sql`SELECT ${providerSelect({ exact: 'none' })} FROM providers p WHERE p.categories @> '{shelter}' ORDER BY p.name`)
  const write = async (stages: ReturnType<typeof csvWriter>) => {
    const chunks: Buffer[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(Buffer.from(chunk))
        done()
      },
    })
    await pipeline([Readable.from(rows as unknown as ProviderRow[]), ...stages, sink])
    return Buffer.concat(chunks).toString('utf8')
  }
  const { rows: [rep] } = await db.execute<{ lat: number; lon: number }>(sql`SELECT ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas WHERE pcode = 'BD404190'`)
  const csv = readCsv(await write(csvWriter()))
  t.match(csv, [
    { id: fx.hidden, lat: '', lon: '', address: '', location_masked: 'true', location_visibility: 'hidden' },
    { id: fx.shelter, lat: String(rep.lat), lon: String(rep.lon), address: '', location_masked: 'true' },
  ])
  const fc = JSON.parse(await write(geojsonWriter()))
  t.equal(fc.features[0].geometry, null, 'GeoJSON: a hidden shelter has no geometry')
  t.same(fc.features[1].geometry.coordinates, [rep.lon, rep.lat], 'GeoJSON: an approximate one its area point')
  const hsds = JSON.parse(await write(hsdsWriter()))
  const location = (i: number) => hsds[i].service_at_locations[0].location
  t.notOk('latitude' in location(0) || 'addresses' in location(0), 'HSDS: a hidden shelter has no coordinates and no address')
  t.same([location(1).latitude, location(1).longitude, location(1).addresses], [rep.lat, rep.lon, undefined], 'HSDS: an approximate one its area point, no address')
  for (const text of [JSON.stringify(csv), JSON.stringify(fc), JSON.stringify(hsds)]) {
    t.notOk(/23\.173|89\.236|23\.241|89\.187|Kestrelwood|Heronsgate/.test(text), 'no exact digits and no address in any format')
  }
})

t.test('a few thousand rows stream in every format, and the connection goes back to the pool', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertAreas(db)
  const callers = await makeCallers(db)
  await db.execute(sql`
    INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes, organisation_id, names, phones)
    SELECT 'Bulk ' || lpad(g::text, 5, '0'), 'bulk', 'ngo', ARRAY['health'], ST_SetSRID(ST_MakePoint(89 + (g % 100) * 0.005, 22.5 + (g / 100) * 0.01), 4326),
           '{}', ${callers.orgA}::uuid, jsonb_build_object('bn', 'সেবা ' || g), ARRAY['+88017' || g]
    FROM generate_series(1, 3000) g`)
  for (const format of ['csv', 'geojson', 'hsds'] as const) {
    const res = await exportOf(app, callers, `format=${format}`)
    t.equal(res.statusCode, 200)
    const n = format === 'csv' ? readCsv(res.body).length : format === 'geojson' ? res.json().features.length : res.json().length
    t.equal(n, 3000, `${format}: 3,000 providers`)
  }
  const pool = db.$client
  // The connection returns once the cursor is closed and the timeout reset, just after the last byte is sent.
  for (let i = 0; i < 50 && pool.totalCount - pool.idleCount > 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.equal(pool.totalCount - pool.idleCount, 0, 'no connection is still checked out')
  // Every pooled connection at once, so that each is asked.
  const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()))
  const settings = await Promise.all(clients.map(async (c) => (await c.query<{ s: string }>("SELECT current_setting('statement_timeout') || ' ' || current_setting('jit') AS s")).rows[0].s))
  clients.forEach((c) => c.release())
  t.notOk(settings.some((s) => s.startsWith('5min') || s.endsWith(' off')), 'the export timeout and jit setting were reset on every connection', { settings })
})

t.test('a client that goes away mid-export closes the cursor and frees the connection', async (t) => {
  const { app, db, adminAuthorization } = await buildTestApp(t)
  await db.execute(sql`
    INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes, names)
    SELECT 'Bulk ' || lpad(g::text, 5, '0'), 'bulk', 'ngo', ARRAY['health'], ST_SetSRID(ST_MakePoint(89 + (g % 100) * 0.005, 22.5 + (g / 100) * 0.01), 4326),
           '{}', jsonb_build_object('bn', repeat('সেবা ', 40) || g)
    FROM generate_series(1, 20000) g`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  // HSDS reads with pg-query-stream; CSV with a FETCH ahead (prefetch-stream.ts), in flight when the client goes.
  for (const format of ['hsds', 'csv']) {
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: `/v1/providers/export?format=${format}`, headers: { authorization: adminAuthorization } }, (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          // Gone after the first 200 kB of many megabytes: the server must stop reading the cursor.
          if (bytes > 200_000) {
            req.destroy()
            resolve(bytes)
          }
        })
        res.on('end', () => reject(new Error(`the whole export arrived (${bytes} bytes) before the client could go away`)))
      })
      req.on('error', () => {})
      req.end()
    })
    t.ok(received > 200_000, `${format}: gone after ${received} bytes`)
    const pool = db.$client
    for (let i = 0; i < 100 && pool.totalCount - pool.idleCount > 0; i++) await new Promise((r) => setTimeout(r, 20))
    t.equal(pool.totalCount - pool.idleCount, 0, `${format}: the connection is back in the pool`)
    const { rows } = await db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%ORDER BY p.name, p.id OFFSET 0%' AND state <> 'idle' AND pid <> pg_backend_pid()`,
    )
    t.equal(rows[0].n, 0, `${format}: no export query is still running`)
  }
  const after = await app.inject({ url: '/v1/providers/export?format=csv&q=bulk' })
  t.equal(readCsv(after.body).length, 20000, 'the next export works')
})

t.test('the CSV PostgreSQL builds is byte for byte what csv-stringify makes of the same rows, for every viewer', async (t) => {
  const { app, db } = await buildTestApp(t)
  const fx = await ground(app, db)
  // Cells that hit every rule: quotes, commas, CR, LF, CRLF; formula starts (=, @, tab, CR, + or - not before a digit,
  // a dot, a parenthesis or a space, including JavaScript's Unicode spaces); numbers as JavaScript prints them
  // (tiny, negative, zero); empty and missing values; lists with empty members.
  const texts = [
    'say "hi", then go', 'line\nbreak', 'cr\ronly', 'crlf\r\nend', '=1+2', '@SUM(A1)', '\tTab', '+8801700', '-5 km', '- dash space',
    '+ plus space', '+\u00a0nbsp', '-\ufeffbom', '+(1)', '-.5', '+', '-', '-x', '+x', '', 'সেবা, "কেন্দ্র"', "'already",
  ]
  const points = [[0.00001, -0.0000005], [-0.0001, 0], [-33.8688197, -151.2092955], [1e-7, 179.9999999], [12.5, 104.99]]
  for (const [i, s] of texts.entries()) {
    const [lat, lon] = points[i % points.length]
    await db.execute(sql`
      INSERT INTO providers (name, names, search_text, kind, categories, services, location, area_pcodes, address, phones, email,
                             languages, requires, opening_hours, verified_on, verification_method, verified_by, external_ids, notes,
                             organisation_id, location_visibility)
      VALUES (${`${s}|${i}`}, jsonb_build_object('bn', ${s}::text, 'en', ${`${s} en`}::text), 'x', 'ngo', ARRAY['legal', 'shelter'],
              jsonb_build_array(jsonb_build_object('category', 'legal', 'name', ${s}::text)), ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326),
              '{}', ${s}, ARRAY[${s}::text, ''], ${i % 2 ? s : null}, ARRAY['bn'], '{}', ${s}, ${i % 3 ? '2024-02-29' : null}::date,
              ${i % 4 ? 'phone_call' : null}, ${s}, jsonb_build_array(jsonb_build_object('scheme', 'x', 'id', ${s}::text)), ${s},
              ${i % 2 ? fx.callers.orgA : fx.callers.orgB}::uuid, ${['exact', 'approximate', 'hidden'][i % 3]})`)
  }
  // Random coordinates with every digit a float8 has: PostgreSQL's shortest digits must be JavaScript's.
  await db.execute(sql`
    INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes, organisation_id)
    SELECT 'random ' || g, 'x', 'ngo', ARRAY['health'], ST_SetSRID(ST_MakePoint(-180 + random() * 360, -90 + random() * 180), 4326), '{}',
           ${fx.callers.orgB}::uuid
    FROM generate_series(1, 200) g`)
  const viewers: Array<[string, Viewer]> = [
    ['everyone exact', { exact: 'all' }],
    ['masked', { exact: 'none' }],
    ['its own exact', { exact: 'own', organisationId: fx.callers.orgA }],
  ]
  const text = async (rows: unknown[], stages: Transform[]) => {
    const chunks: Buffer[] = []
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(Buffer.from(chunk)), done()) })
    await pipeline([Readable.from(rows), ...stages, sink])
    return Buffer.concat(chunks).toString('utf8')
  }
  for (const [who, viewer] of viewers) {
    const { rows: objects } = await db.execute(exportSql([], viewer))
    const { rows: cells } = await db.execute(csvCellsSql([], viewer))
    const expected = await text(objects, csvWriter())
    const got = await text(cells, csvLinesWriter())
    t.equal(got, expected, `${who}: the same bytes (${objects.length} rows)`)
    t.equal(readCsv(expected).length, texts.length + 204, `${who}: every row parses back`)
    t.ok(got.includes('"line\nbreak|1"') && got.includes('"cr\ronly|2"'), `${who}: a lone LF or CR is quoted, as spreadsheets need`)
  }
  const res = await exportOf(app, fx.callers, 'format=csv')
  const { rows: all } = await db.execute(exportSql([], { exact: 'all' }))
  t.equal(res.body, await text(all, csvWriter()), 'the response is that text, for an admin')
  const empty = await exportOf(app, fx.callers, 'format=csv&q=nothing-like-this')
  t.equal(empty.body, await text([], csvWriter()), 'no match: the byte-order mark and the header alone')
})
